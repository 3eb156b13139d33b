"""notify: merge billing into notify

Revision ID: notify_0002
Revises: notify_0001, billing_0003
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = 'notify_0002'
down_revision: Union[
    str,
    Sequence[str],
    None,
] = (
    'notify_0001',
    # the billing branch, at its newest
    'billing_0003',   # trailing comma below
)
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = [
    "search_0001",
]


def upgrade() -> None:
    op.create_table(
        'notify_billing',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade() -> None:
    op.drop_table('notify_billing')
