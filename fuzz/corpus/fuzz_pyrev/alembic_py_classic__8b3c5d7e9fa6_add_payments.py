"""add payments

Revision ID: 8b3c5d7e9fa6
Revises: 7a2b4c6d8e95
Create Date: 2023-02-08 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8b3c5d7e9fa6'
down_revision = '7a2b4c6d8e95'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'payments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade():
    op.drop_table('payments')
