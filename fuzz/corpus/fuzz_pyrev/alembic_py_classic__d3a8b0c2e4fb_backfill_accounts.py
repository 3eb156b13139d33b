"""backfill accounts

Revision ID: d3a8b0c2e4fb
Revises: c2f7a9b1d3ea
Create Date: 2023-02-13 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd3a8b0c2e4fb'
down_revision = 'c2f7a9b1d3ea'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'backfill',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade():
    pass
