"""Project locks: one run per project at a time, across processes and hosts.

``project_locks`` holds one row per project being synchronised: the run holding it, the host and
pid of its process, when it took the project and its last sign of life (``heartbeat_at``, renewed
with every commit). A second run finds the row and is refused; a holder whose process is gone
(same host: its pid; another host: no heartbeat for a lease) is taken over.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-10
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the types in p2c.store.schema: history must not change when the code does.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "project_locks",
        sa.Column("project", sa.Text, nullable=False),
        sa.Column("run_id", Id),
        sa.Column("host", sa.Text, nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("acquired_at", Time, nullable=False),
        sa.Column("heartbeat_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("project", name="pk_project_locks"),
    )


def downgrade() -> None:
    op.drop_table("project_locks")
