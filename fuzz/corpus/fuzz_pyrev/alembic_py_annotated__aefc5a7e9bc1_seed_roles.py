"""seed roles

Revision ID: aefc5a7e9bc1
Revises: 9eab4f6d8ab0
Create Date: 2024-05-11 09:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = "aefc5a7e9bc1"
down_revision: Union[str, None] = "9eab4f6d8ab0"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'seed',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade() -> None:
    pass
