"""add invoices

Revision ID: 5e0f2a4b6c73
Revises: 3c8d0e2f4a51
Create Date: 2023-02-05 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e0f2a4b6c73'
down_revision = '3c8d0e2f4a51'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'invoices',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade():
    op.drop_table('invoices')
