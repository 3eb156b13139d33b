"""orders status

Revision ID: 6f1a3b5c7d84
Revises: 4d9e1f3a5b62
Create Date: 2023-02-06 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6f1a3b5c7d84'
down_revision = '4d9e1f3a5b62'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'order_status',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade():
    op.drop_table('order_status')
