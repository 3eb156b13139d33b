"""audit feature hooks

Revision ID: 8d9a3e5c7fa9
Revises: 7c8f2d4b6e98
Create Date: 2024-05-09 09:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '8d9a3e5c7fa9'
down_revision: Union[str, None] = '7c8f2d4b6e98'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = 'feature'


def upgrade() -> None:
    op.create_table(
        'audit_hooks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade() -> None:
    op.drop_table('audit_hooks')
