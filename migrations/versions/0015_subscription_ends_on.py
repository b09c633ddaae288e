"""subscriptions: the day a subscription ends, and why

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-03

A subscription ends (the legal notice terminated its account, or it was canceled now or at
the end of its term) on `ends_on`, the first day without service: its final invoice is
issued that day and it is never renewed again. A cancellation at the end of the term sets
`ends_on` ahead of time; the scheduler's endings pass reads the index.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('subscriptions', sa.Column('ends_on', sa.Date(), nullable=True))
    op.add_column('subscriptions', sa.Column('end_reason', sa.Text(), nullable=True))
    op.create_index(op.f('ix_subscriptions_ends_on'), 'subscriptions', ['ends_on'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_subscriptions_ends_on'), table_name='subscriptions')
    with op.batch_alter_table('subscriptions') as batch:
        batch.drop_column('end_reason')
        batch.drop_column('ends_on')
