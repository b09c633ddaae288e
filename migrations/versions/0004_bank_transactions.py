"""bank transactions: a received transfer recorded once per bank statement line

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27

`paycollect wires receive --bank-ref ID` records the bank's own transaction id here in the
same transaction as the payment, so the same statement line entered twice (an operator
re-running an import) credits the customer once.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

INSTANT = sa.DateTime(timezone=True)

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'bank_transactions',
        sa.Column('bank_ref', sa.Text(), nullable=False),
        sa.Column('reference', sa.Text(), nullable=False),
        sa.Column('amount_minor', sa.BigInteger(), nullable=False),
        sa.Column('currency', sa.CHAR(length=3), nullable=False),
        sa.Column('received_on', sa.Date(), nullable=False),
        sa.Column('invoice_id', sa.Text(), nullable=True),
        sa.Column('recorded_at', INSTANT, nullable=False),
        sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'],
                                name=op.f('fk_bank_transactions_invoice_id_invoices')),
        sa.PrimaryKeyConstraint('bank_ref', name=op.f('pk_bank_transactions')))


def downgrade() -> None:
    op.drop_table('bank_transactions')
