"""Work items of queued runs: one row per task (and part) of a run that ``p2c worker`` processes run.

``work_items`` holds, for a run started with ``p2c run --queue`` (or a queued service), each of its
tasks as an item: the wave it is enqueued in (its dependencies ran in earlier waves), its status,
and its lease — the holder running it (host, pid, thread) and until when, renewed while it runs,
and how many deliveries took it (``attempts``). A second delivery of a leased item does nothing;
one after the lease lapsed takes it over. See ``p2c.store.work_items``.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the types in p2c.store.schema: history must not change when the code does.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "work_items",
        sa.Column("id", Id, nullable=False, autoincrement=True),
        sa.Column("run_id", Id, nullable=False),
        sa.Column("project", sa.Text, nullable=False),
        sa.Column("task", sa.Text, nullable=False),
        sa.Column("part", sa.Text, nullable=False, server_default=sa.text("''")),
        sa.Column("wave", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("holder", sa.Text),
        sa.Column("lease_until", Time),
        sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("task_run_id", Id),
        sa.Column("message", sa.Text),
        sa.Column("requests", sa.Text),
        sa.Column("queued_at", Time),
        sa.Column("started_at", Time),
        sa.Column("finished_at", Time),
        sa.PrimaryKeyConstraint("id", name="pk_work_items"),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_work_items_run_id_runs", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_work_items_run_id_task_part", "work_items", ["run_id", "task", "part"], unique=True)
    op.create_index("ix_work_items_status_lease_until", "work_items", ["status", "lease_until"])


def downgrade() -> None:
    op.drop_index("ix_work_items_status_lease_until", "work_items")
    op.drop_index("ix_work_items_run_id_task_part", "work_items")
    op.drop_table("work_items")
