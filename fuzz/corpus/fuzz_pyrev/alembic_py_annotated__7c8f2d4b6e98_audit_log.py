"""audit log

Revision ID: 7c8f2d4b6e98
Revises: 
Create Date: 2024-05-08 09:00:00.000000

"""
from typing import Optional, Sequence

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '7c8f2d4b6e98'
down_revision: Optional[str] = None
branch_labels: Optional[Sequence[str]] = ['audit']
depends_on: Optional[Sequence[str]] = None


def upgrade() -> None:
    op.create_table(
        'audit_log',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade() -> None:
    op.drop_table('audit_log')
