"""payment attempts: when the sweeper looks at an attempt again

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27

The sweeper asks for a pending debit to be polled (or a stuck attempt to be reconciled) once;
`recheck_at` says when it may ask again: when the message is presumed lost, or one poll
interval after an answer that changed nothing. Without it every pass re-asked whatever was
still waiting in a busy queue.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

INSTANT = sa.DateTime(timezone=True)

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('payment_attempts', sa.Column('recheck_at', INSTANT, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('payment_attempts') as batch:
        batch.drop_column('recheck_at')
