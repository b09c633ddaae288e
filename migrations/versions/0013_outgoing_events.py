"""outgoing events: webhook endpoints, the events outbox, per-account sequences, deliveries

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-03

Events reported to the business (invoice issued, payment failed, account suspended…) are
written in the transaction of the change, numbered per account without gaps, and fanned out
to the subscribed endpoints as one delivery row each, retried on its own schedule.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

INSTANT = sa.DateTime(timezone=True)

revision: str = '0013'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'webhook_endpoints',
        sa.Column('id', sa.Text(), nullable=False),
        sa.Column('url', sa.Text(), nullable=False),
        sa.Column('events', sa.JSON(), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('secret', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('created_at', INSTANT, nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_endpoints')))
    op.create_table(
        'event_sequences',
        sa.Column('account_id', sa.Text(), nullable=False),
        sa.Column('last_value', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'],
                                name=op.f('fk_event_sequences_account_id_accounts')),
        sa.PrimaryKeyConstraint('account_id', name=op.f('pk_event_sequences')))
    op.create_table(
        'events',
        sa.Column('id', sa.Text(), nullable=False),
        sa.Column('account_id', sa.Text(), nullable=False),
        sa.Column('sequence', sa.Integer(), nullable=False),
        sa.Column('type', sa.String(length=48), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('created_at', INSTANT, nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'],
                                name=op.f('fk_events_account_id_accounts')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_events')),
        sa.UniqueConstraint('account_id', 'sequence',
                            name=op.f('uq_events_account_id_sequence')))
    op.create_index(op.f('ix_events_created_at_id'), 'events', ['created_at', 'id'])
    op.create_table(
        'event_deliveries',
        sa.Column('id', sa.Text(), nullable=False),
        sa.Column('event_id', sa.Text(), nullable=False),
        sa.Column('endpoint_id', sa.Text(), nullable=False),
        sa.Column('account_id', sa.Text(), nullable=False),
        sa.Column('sequence', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', INSTANT, nullable=True),
        sa.Column('claimed_until', INSTANT, nullable=True),
        sa.Column('last_error', sa.Text(), nullable=False),
        sa.Column('delivered_at', INSTANT, nullable=True),
        sa.Column('created_at', INSTANT, nullable=False),
        sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoints.id'],
                                name=op.f('fk_event_deliveries_endpoint_id_webhook_endpoints')),
        sa.ForeignKeyConstraint(['event_id'], ['events.id'],
                                name=op.f('fk_event_deliveries_event_id_events')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_event_deliveries')))
    op.create_index(op.f('ix_event_deliveries_status_next_attempt_at'), 'event_deliveries',
                    ['status', 'next_attempt_at'])
    op.create_index(op.f('ix_event_deliveries_endpoint_id_account_id_status_sequence'),
                    'event_deliveries', ['endpoint_id', 'account_id', 'status', 'sequence'])
    op.create_index(op.f('ix_event_deliveries_event_id'), 'event_deliveries', ['event_id'])


def downgrade() -> None:
    op.drop_table('event_deliveries')
    op.drop_table('events')
    op.drop_table('event_sequences')
    op.drop_table('webhook_endpoints')
