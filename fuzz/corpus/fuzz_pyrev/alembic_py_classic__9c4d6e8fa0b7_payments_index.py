"""payments index

Revision ID: 9c4d6e8fa0b7
Revises: 8b3c5d7e9fa6
Create Date: 2023-02-09 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9c4d6e8fa0b7'
down_revision = '8b3c5d7e9fa6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'payments_idx',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade():
    op.drop_table('payments_idx')
