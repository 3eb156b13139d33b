"""merge core and feature

Revision ID: 6b7e1c3a5d87
Revises: 5a6d0b2f4c76, 4f5c9a1e3b65
Create Date: 2024-05-07 09:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = "6b7e1c3a5d87"
down_revision: Union[str, Sequence[str], None] = ["5a6d0b2f4c76", "4f5c9a1e3b65"]
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'merged_cf',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade() -> None:
    op.drop_table('merged_cf')
