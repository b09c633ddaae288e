"""notifications: a drain's claim on the messages it is sending

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27

The outbox is sent in batches by one drain at a time rather than one message per
notification. A drain claims the batch it sends (`claimed_until`, a lease): a second drain
started meanwhile takes other rows, never the same ones, and a drain that died mid-batch
leaves its rows to the next drain once the lease is over.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

INSTANT = sa.DateTime(timezone=True)

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('notifications', sa.Column('claimed_until', INSTANT, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('notifications') as batch:
        batch.drop_column('claimed_until')
