"""add refunds

Revision ID: a0d5e7f9b1c8
Revises: 8b3c5d7e9fa6
Create Date: 2023-02-10 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a0d5e7f9b1c8'
down_revision = '8b3c5d7e9fa6'
branch_labels = None
depends_on = '9c4d6e8fa0b7'


def upgrade():
    op.create_table(
        'refunds',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade():
    op.drop_table('refunds')
