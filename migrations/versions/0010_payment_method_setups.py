"""payment-method setups, and what may be shown of an account's method

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-03

A customer puts a card (Stripe Checkout, setup mode) or a mandate (GoCardless Billing Request
Flow) on file through a hosted page; the setup row lets the completion webhook find the
account. `accounts.method_display` keeps the card brand, last 4 and expiry, or the masked bank
account, for display: never a full card number or IBAN.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

INSTANT = sa.DateTime(timezone=True)

revision: str = '0010'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('accounts', sa.Column('method_display', sa.JSON(), nullable=True))
    op.create_table(
        'payment_method_setups',
        sa.Column('id', sa.Text(), nullable=False),
        sa.Column('account_id', sa.Text(), nullable=False),
        sa.Column('method', sa.String(length=16), nullable=False),
        sa.Column('provider', sa.String(length=32), nullable=False),
        sa.Column('provider_ref', sa.Text(), nullable=False),
        sa.Column('provider_customer', sa.Text(), nullable=False),
        sa.Column('scheme', sa.String(length=32), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('url', sa.Text(), nullable=False),
        sa.Column('return_url', sa.Text(), nullable=True),
        sa.Column('created_at', INSTANT, nullable=False),
        sa.Column('expires_at', INSTANT, nullable=True),
        sa.Column('completed_at', INSTANT, nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'],
                                name=op.f('fk_payment_method_setups_account_id_accounts')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_method_setups')),
        sa.UniqueConstraint('provider', 'provider_ref',
                            name=op.f('uq_payment_method_setups_provider_provider_ref')),
    )
    op.create_index(op.f('ix_payment_method_setups_account_id'), 'payment_method_setups',
                    ['account_id'], unique=False)
    op.create_index(op.f('ix_payment_method_setups_provider_customer'),
                    'payment_method_setups', ['provider_customer'], unique=False)


def downgrade() -> None:
    op.drop_table('payment_method_setups')
    with op.batch_alter_table('accounts') as batch:
        batch.drop_column('method_display')
