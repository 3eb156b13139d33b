"""search: synonyms

Revision ID: search_0003
Revises: search_0002
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = 'search_0003'
down_revision: Union[str, None] = 'search_0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'search_synonyms',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade() -> None:
    op.drop_table('search_synonyms')
