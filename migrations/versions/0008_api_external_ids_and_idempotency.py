"""public API: the business's own ids, billing addresses, and Idempotency-Key records

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

Accounts and subscriptions created through /v1 may carry the business's own id
(`external_id`, unique when given: a unique index, as NULLs never clash). Accounts get a
billing address (JSON). `idempotency_keys` stores each POST's Idempotency-Key, the
fingerprint of the request and the response it gave, for 24 hours.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

INSTANT = sa.DateTime(timezone=True)

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('accounts', sa.Column('external_id', sa.Text(), nullable=True))
    op.add_column('accounts', sa.Column('billing_address', sa.JSON(), nullable=True))
    op.create_index('ix_accounts_external_id', 'accounts', ['external_id'], unique=True)
    op.add_column('subscriptions', sa.Column('external_id', sa.Text(), nullable=True))
    op.create_index('ix_subscriptions_external_id', 'subscriptions', ['external_id'],
                    unique=True)
    op.create_table(
        'idempotency_keys',
        sa.Column('owner', sa.String(length=64), nullable=False),
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('request_fingerprint', sa.String(length=64), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('claim_token', sa.String(length=32), nullable=False),
        sa.Column('response_status', sa.Integer(), nullable=True),
        sa.Column('response_content_type', sa.Text(), nullable=True),
        sa.Column('response_body', sa.Text(), nullable=True),
        sa.Column('claimed_at', INSTANT, nullable=False),
        sa.Column('expires_at', INSTANT, nullable=False),
        sa.PrimaryKeyConstraint('owner', 'key', name='pk_idempotency_keys'),
    )
    op.create_index('ix_idempotency_keys_expires_at', 'idempotency_keys', ['expires_at'])


def downgrade() -> None:
    op.drop_index('ix_idempotency_keys_expires_at', table_name='idempotency_keys')
    op.drop_table('idempotency_keys')
    op.drop_index('ix_subscriptions_external_id', table_name='subscriptions')
    with op.batch_alter_table('subscriptions') as batch:
        batch.drop_column('external_id')
    op.drop_index('ix_accounts_external_id', table_name='accounts')
    with op.batch_alter_table('accounts') as batch:
        batch.drop_column('billing_address')
        batch.drop_column('external_id')
