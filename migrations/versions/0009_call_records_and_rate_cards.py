"""call records and rate cards: minutes rated by destination, each call billed once

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

`call_records` holds each call the telephony platform reports, once by its id, with the
invoice that billed it (NULL until then): a renewal bills every unbilled call of the
subscription started before its date, so a late call goes on the next invoice. `rate_cards`
and `rate_card_destinations` price outbound minutes per destination prefix.

The per-day `usage_records` become call records: the days not invoiced yet (on or after the
subscription's `billed_through`) as one synthetic call per day and direction, at midnight
UTC, unbilled; the days already invoiced are dropped (the invoices that billed them keep
their lines). The table goes: call records are the one source of minutes.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

INSTANT = sa.DateTime(timezone=True)
UNBILLED = sa.text("invoice_id IS NULL")

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'rate_cards',
        sa.Column('subscription_id', sa.Text(), nullable=False),
        sa.Column('currency', sa.CHAR(length=3), nullable=False),
        sa.Column('rounding', sa.String(length=24), nullable=False),
        sa.Column('default_outbound_minor', sa.BigInteger(), nullable=True),
        sa.Column('toll_free_minor', sa.BigInteger(), nullable=True),
        sa.Column('updated_at', INSTANT, nullable=False),
        sa.ForeignKeyConstraint(['subscription_id'], ['subscriptions.id'],
                                name=op.f('fk_rate_cards_subscription_id_subscriptions')),
        sa.PrimaryKeyConstraint('subscription_id', name=op.f('pk_rate_cards')))
    op.create_table(
        'rate_card_destinations',
        sa.Column('subscription_id', sa.Text(), nullable=False),
        sa.Column('prefix', sa.String(length=16), nullable=False),
        sa.Column('label', sa.Text(), nullable=False),
        sa.Column('per_minute_minor', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['subscription_id'], ['rate_cards.subscription_id'],
                                name=op.f('fk_rate_card_destinations_subscription_id_rate_cards')),
        sa.PrimaryKeyConstraint('subscription_id', 'prefix',
                                name=op.f('pk_rate_card_destinations')))
    op.create_table(
        'call_records',
        sa.Column('id', sa.Text(), nullable=False),
        sa.Column('subscription_id', sa.Text(), nullable=False),
        sa.Column('number', sa.Text(), nullable=False),
        sa.Column('direction', sa.String(length=24), nullable=False),
        sa.Column('destination', sa.Text(), nullable=False),
        sa.Column('started_at', INSTANT, nullable=False),
        sa.Column('duration_seconds', sa.Integer(), nullable=False),
        sa.Column('rate_prefix', sa.String(length=16), nullable=False),
        sa.Column('invoice_id', sa.Text(), nullable=True),
        sa.Column('received_at', INSTANT, nullable=False),
        sa.CheckConstraint('duration_seconds >= 0',
                           name=op.f('ck_call_records_duration_not_negative')),
        sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'],
                                name=op.f('fk_call_records_invoice_id_invoices')),
        sa.ForeignKeyConstraint(['subscription_id'], ['subscriptions.id'],
                                name=op.f('fk_call_records_subscription_id_subscriptions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_call_records')))
    op.create_index('ix_call_records_unbilled', 'call_records', ['subscription_id', 'started_at'],
                    unique=False, sqlite_where=UNBILLED, postgresql_where=UNBILLED)
    _move_usage_records()
    op.drop_index(op.f('ix_usage_records_subscription_id_used_on'), table_name='usage_records')
    op.drop_table('usage_records')


def _move_usage_records() -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    # Midnight UTC of the day: what `domain.usage.cutoff` compares with.
    started = ("(u.used_on::timestamp AT TIME ZONE 'UTC')" if postgres
               else "(u.used_on || ' 00:00:00.000000')")
    now = "now()" if postgres else "strftime('%Y-%m-%d %H:%M:%f', 'now')"
    for direction, column in (('outbound', 'outbound_minutes'),
                              ('inbound_toll_free', 'toll_free_minutes')):
        op.execute(
            "INSERT INTO call_records (id, subscription_id, number, direction, destination, "
            "started_at, duration_seconds, rate_prefix, invoice_id, received_at) "
            f"SELECT 'usage_records/' || u.id || '/{direction}', u.subscription_id, '', "
            f"'{direction}', '', {started}, u.{column} * 60, '', NULL, {now} "
            "FROM usage_records u JOIN subscriptions s ON s.id = u.subscription_id "
            f"WHERE u.{column} > 0 AND (s.billed_through IS NULL "
            "OR u.used_on >= s.billed_through)")  # noqa: S608 (constants only)


def downgrade() -> None:
    op.create_table(
        'usage_records',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('subscription_id', sa.Text(), nullable=False),
        sa.Column('used_on', sa.Date(), nullable=False),
        sa.Column('outbound_minutes', sa.Integer(), nullable=False),
        sa.Column('toll_free_minutes', sa.Integer(), nullable=False),
        sa.CheckConstraint('outbound_minutes >= 0',
                           name=op.f('ck_usage_records_outbound_minutes_not_negative')),
        sa.CheckConstraint('toll_free_minutes >= 0',
                           name=op.f('ck_usage_records_toll_free_minutes_not_negative')),
        sa.ForeignKeyConstraint(['subscription_id'], ['subscriptions.id'],
                                name=op.f('fk_usage_records_subscription_id_subscriptions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_usage_records')))
    op.create_index(op.f('ix_usage_records_subscription_id_used_on'), 'usage_records',
                    ['subscription_id', 'used_on'], unique=False)
    op.drop_index('ix_call_records_unbilled', table_name='call_records')
    op.drop_table('call_records')
    op.drop_table('rate_card_destinations')
    op.drop_table('rate_cards')
