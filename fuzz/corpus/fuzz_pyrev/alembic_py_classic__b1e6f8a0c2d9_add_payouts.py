"""add payouts

Revision ID: b1e6f8a0c2d9
Revises: 8b3c5d7e9fa6
Create Date: 2023-02-11 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "b1e6f8a0c2d9"
down_revision = "8b3c5d7e9fa6"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'payouts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade():
    op.drop_table('payouts')
