"""index: due subscriptions in the order renewal batches claim them

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03

A renewal batch claims the earliest due subscriptions, `ORDER BY next_renewal_on, id LIMIT n`.
With the index on `next_renewal_on` alone, PostgreSQL sorted every due row of the day for
each batch (a million subscriptions, a tenth due: 100,000 rows sorted per batch). The index
on (next_renewal_on, id) returns them in order; it replaces the one-column index, its prefix.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f('ix_subscriptions_next_renewal_on_id'), 'subscriptions',
                    ['next_renewal_on', 'id'], unique=False)
    op.drop_index(op.f('ix_subscriptions_next_renewal_on'), table_name='subscriptions')


def downgrade() -> None:
    op.create_index(op.f('ix_subscriptions_next_renewal_on'), 'subscriptions',
                    ['next_renewal_on'], unique=False)
    op.drop_index(op.f('ix_subscriptions_next_renewal_on_id'), table_name='subscriptions')
