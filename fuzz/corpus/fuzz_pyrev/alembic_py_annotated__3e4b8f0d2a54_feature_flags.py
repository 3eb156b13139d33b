"""feature flags

Revision ID: 3e4b8f0d2a54
Revises: 2d3a7e9c1f43
Create Date: 2024-05-04 09:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = "3e4b8f0d2a54"
down_revision: Union[str, None] = "2d3a7e9c1f43"
branch_labels: Union[str, Sequence[str], None] = "feature"
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'flags',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade() -> None:
    op.drop_table('flags')
