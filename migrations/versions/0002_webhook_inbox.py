"""webhook inbox: the object an event is about, when it happened, and parking

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

Events for an object we do not know yet are parked (left unprocessed with a try counter, a
next-try time and a note) and re-driven by the sweeper; events of one object are compared by
the provider's own time to tell a late failure from an early one.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

INSTANT = sa.DateTime(timezone=True)

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('webhook_events', sa.Column('resource_id', sa.Text(), nullable=True))
    op.add_column('webhook_events', sa.Column('occurred_at', INSTANT, nullable=True))
    op.add_column('webhook_events', sa.Column('attempts', sa.Integer(), nullable=False,
                                              server_default='0'))
    op.add_column('webhook_events', sa.Column('next_attempt_at', INSTANT, nullable=True))
    op.add_column('webhook_events', sa.Column('note', sa.Text(), nullable=False,
                                              server_default=''))
    op.create_index(op.f('ix_webhook_events_resource_id'), 'webhook_events', ['resource_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_webhook_events_resource_id'), table_name='webhook_events')
    with op.batch_alter_table('webhook_events') as batch:
        for column in ('note', 'next_attempt_at', 'attempts', 'occurred_at', 'resource_id'):
            batch.drop_column(column)
