"""indexes: an invoice's attempts; open invoices for the sweeper

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27

Routing reads every attempt of an invoice (to number the next one), and the only index on
payment_attempts.invoice_id was the partial "one active attempt" index: each route scanned
the whole table (the pipeline benchmark's PostgreSQL time per invoice grew with the table).
The sweeper's "open invoices never routed" read every invoice; a partial index on the open
ones, in the order it reads them, keeps that proportional to what is open.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("status = 'open'")


def upgrade() -> None:
    op.create_index(op.f('ix_payment_attempts_invoice_id'), 'payment_attempts', ['invoice_id'],
                    unique=False)
    op.create_index('ix_invoices_open_issued_on_id', 'invoices', ['issued_on', 'id'],
                    unique=False, sqlite_where=OPEN, postgresql_where=OPEN)


def downgrade() -> None:
    op.drop_index('ix_invoices_open_issued_on_id', table_name='invoices')
    op.drop_index(op.f('ix_payment_attempts_invoice_id'), table_name='payment_attempts')
