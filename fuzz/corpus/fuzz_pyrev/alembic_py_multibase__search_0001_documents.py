"""search: documents

Revision ID: search_0001
Revises:
"""
from alembic import op
import sqlalchemy as sa

revision = "search_0001"
down_revision = None
branch_labels = 'search'
depends_on = None


def upgrade():
    op.create_table(
        'search_documents',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade():
    op.drop_table('search_documents')
