"""billing: credit notes

Revision ID: billing_0002
Revises: billing_0001
"""
from alembic import op
import sqlalchemy as sa

revision = 'billing_0002'
down_revision = 'billing_0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'bill_credit_notes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade():
    op.drop_table('bill_credit_notes')
