"""search: tokens

Revision ID: search_0002
Revises: search_0001
"""
from alembic import op
import sqlalchemy as sa

revision = 'search_0002'
down_revision = 'search_0001'
branch_labels = None
depends_on = ['billing_0002', "payments"]


def upgrade():
    op.create_table(
        'search_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade():
    op.drop_table('search_tokens')
