"""billing: invoices"""
from alembic import op
import sqlalchemy as sa

revision = 'billing_0001'
down_revision = None
branch_labels = ('billing', 'payments')
depends_on = None


def upgrade():
    op.create_table(
        'bill_invoices',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade():
    op.drop_table('bill_invoices')
