"""webhook endpoints: a pause after a failed try (a circuit breaker)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04

An endpoint that failed is sent nothing until `paused_until`, which doubles with each failure
in a row (`failures`) and is cleared by a delivered event. The delivery claim reads the
endpoints first and only then their due deliveries, by the new (endpoint, status, due) index:
a dead endpoint's growing backlog is no longer scanned by every drain.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INSTANT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column('webhook_endpoints', sa.Column('paused_until', INSTANT, nullable=True))
    op.add_column('webhook_endpoints', sa.Column('failures', sa.Integer(), nullable=False,
                                                 server_default='0'))
    op.create_index(op.f('ix_event_deliveries_endpoint_id_status_next_attempt_at'),
                    'event_deliveries', ['endpoint_id', 'status', 'next_attempt_at'])
    op.drop_index(op.f('ix_event_deliveries_status_next_attempt_at'),
                  table_name='event_deliveries')


def downgrade() -> None:
    op.create_index(op.f('ix_event_deliveries_status_next_attempt_at'), 'event_deliveries',
                    ['status', 'next_attempt_at'])
    op.drop_index(op.f('ix_event_deliveries_endpoint_id_status_next_attempt_at'),
                  table_name='event_deliveries')
    with op.batch_alter_table('webhook_endpoints') as batch:
        batch.drop_column('failures')
        batch.drop_column('paused_until')
