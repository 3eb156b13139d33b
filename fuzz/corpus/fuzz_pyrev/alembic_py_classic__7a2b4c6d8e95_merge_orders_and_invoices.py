"""merge orders and invoices

Revision ID: 7a2b4c6d8e95
Revises: 6f1a3b5c7d84, 5e0f2a4b6c73
Create Date: 2023-02-07 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7a2b4c6d8e95'
down_revision = ('6f1a3b5c7d84', '5e0f2a4b6c73')
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'merged_one',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade():
    op.drop_table('merged_one')
