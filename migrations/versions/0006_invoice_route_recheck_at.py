"""invoices: when the sweeper may route a never-routed invoice again

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27

An open invoice without any attempt is routed again by the sweeper once its message is
presumed lost. Without a mark of that request, every pass past the lost-message delay sent
it again while the first request still waited behind a backlog, and an invoice routing
declines for good (an unusable payment method) was re-sent on every pass for ever.
`route_recheck_at` says when the sweeper may ask again, like payment_attempts.recheck_at.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

INSTANT = sa.DateTime(timezone=True)

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('invoices', sa.Column('route_recheck_at', INSTANT, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('invoices') as batch:
        batch.drop_column('route_recheck_at')
