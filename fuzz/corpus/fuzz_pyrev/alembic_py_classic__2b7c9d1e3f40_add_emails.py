"""add emails

Revision ID: 2b7c9d1e3f40
Revises: 1f0a2b3c4d5e
Create Date: 2023-02-02 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '2b7c9d1e3f40'
down_revision = '1f0a2b3c4d5e'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'emails',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade():
    op.drop_table('emails')
