"""Revises: a1
"""
revision = "r1"; down_revision = None
branch_labels = "x",
depends_on = ("a-b", \
  "c.d")

def upgrade():
    pass

def downgrade():
    """nothing"""
