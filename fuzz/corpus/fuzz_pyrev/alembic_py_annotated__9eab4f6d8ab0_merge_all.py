"""merge all

Revision ID: 9eab4f6d8ab0
Revises: 6b7e1c3a5d87, 8d9a3e5c7fa9
Create Date: 2024-05-10 09:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '9eab4f6d8ab0'
down_revision: Union[str, Sequence[str], None] = (
    "6b7e1c3a5d87",  # core and feature
    # the audit branch:
    '8d9a3e5c7fa9',
)
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'merged_all',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade() -> None:
    op.drop_table('merged_all')
