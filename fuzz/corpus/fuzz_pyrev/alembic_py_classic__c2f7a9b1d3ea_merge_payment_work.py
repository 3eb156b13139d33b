"""merge payment work

Revision ID: c2f7a9b1d3ea
Revises: 9c4d6e8fa0b7, a0d5e7f9b1c8, b1e6f8a0c2d9
Create Date: 2023-02-12 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c2f7a9b1d3ea'
down_revision = (
    '9c4d6e8fa0b7',  # payments index
    # refunds come second
    'a0d5e7f9b1c8',
    'b1e6f8a0c2d9',  # payouts, 'quoted' in a comment
)
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'merged_two',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade():
    op.drop_table('merged_two')
