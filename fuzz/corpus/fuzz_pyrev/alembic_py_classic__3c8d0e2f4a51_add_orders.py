"""add orders

Revision ID: 3c8d0e2f4a51
Revises: 2b7c9d1e3f40
Create Date: 2023-02-03 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3c8d0e2f4a51'
down_revision = '2b7c9d1e3f40'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'orders',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade():
    op.drop_table('orders')
