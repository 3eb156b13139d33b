"""notify: channels

Revision ID: notify_0001
Revises:
"""
from typing import Optional, Sequence

from alembic import op
import sqlalchemy as sa

revision: str = "notify_0001"
down_revision: Optional[str] = None
branch_labels: Optional[Sequence[str]] = ("notify",)
depends_on: Sequence[str] = ("billing_0001",)


def upgrade() -> None:
    op.create_table(
        'notify_channels',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade() -> None:
    op.drop_table('notify_channels')
