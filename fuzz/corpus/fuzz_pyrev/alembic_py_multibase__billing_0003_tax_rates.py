'''billing: tax rates

Revision ID: billing_0003
Revises: billing_0002
'''
from alembic import op
import sqlalchemy as sa

revision = "billing_0003"
down_revision = "billing_0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'bill_tax_rates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade():
    op.drop_table('bill_tax_rates')
