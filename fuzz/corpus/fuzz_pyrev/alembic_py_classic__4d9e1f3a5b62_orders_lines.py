"""orders lines

Revision ID: 4d9e1f3a5b62
Revises: 3c8d0e2f4a51
Create Date: 2023-02-04 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4d9e1f3a5b62'
down_revision = '3c8d0e2f4a51'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'order_lines',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade():
    op.drop_table('order_lines')
