"""Every record's fate: *unchanged* and *filtered* apart from *skipped*, and the reason of a skip.

Until now one counter, ``skipped``, held records found equal to what was last written, records
a rule left out and records skipped for a reason, so the counts of a run did not say what became
of its records. Task runs get the counters ``unchanged`` and ``filtered``; record outcomes get
``reason`` (why a record was skipped) and ``problem`` (what went wrong with a failed or waiting
record, without the record's name: records with the same problem are grouped by it). Existing history is converted as far as it can be:

- a stored SKIPPED row whose message is the engine's "unchanged since the last write" becomes an
  UNCHANGED row;
- a task run's ``unchanged`` becomes its ``skipped`` minus its stored SKIPPED rows (the engine
  stored every skip that had a reason, and counted the unchanged ones only); ``skipped`` keeps the
  stored ones. Nothing was recorded of filtered records before: ``filtered`` starts at 0.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNCHANGED_MESSAGE = "unchanged since the last write"

record_outcomes = sa.table(
    "record_outcomes",
    sa.column("id", sa.BigInteger),
    sa.column("task_run_id", sa.BigInteger),
    sa.column("action", sa.String(16)),
    sa.column("message", sa.Text),
    sa.column("operation", sa.String(40)),
)
task_runs = sa.table(
    "task_runs",
    sa.column("id", sa.BigInteger),
    sa.column("skipped", sa.BigInteger),
    sa.column("unchanged", sa.BigInteger),
    sa.column("filtered", sa.BigInteger),
)


def upgrade() -> None:
    for name in ("unchanged", "filtered"):  # a plain ADD COLUMN: no copy of the table on SQLite
        op.add_column(
            "task_runs", sa.Column(name, sa.BigInteger, nullable=False, server_default=sa.text("0"))
        )
    op.add_column("record_outcomes", sa.Column("reason", sa.String(32)))
    op.add_column("record_outcomes", sa.Column("problem", sa.Text))
    o, t = record_outcomes.c, task_runs.c
    conn = op.get_bind()
    conn.execute(
        sa.update(record_outcomes)
        .where(o.action == "skipped", o.message == UNCHANGED_MESSAGE, o.operation.is_(None))
        .values(action="unchanged")
    )
    stored = (
        sa.select(sa.func.count())
        .where(o.task_run_id == t.id, o.action == "skipped", o.operation.is_(None))
        .scalar_subquery()
    )
    conn.execute(sa.update(task_runs).values(unchanged=t.skipped - stored, skipped=stored))


def downgrade() -> None:
    o, t = record_outcomes.c, task_runs.c
    conn = op.get_bind()
    conn.execute(sa.update(task_runs).values(skipped=t.skipped + t.unchanged + t.filtered))
    conn.execute(
        sa.update(record_outcomes)
        .where(o.action == "unchanged")
        .values(action="skipped", message=UNCHANGED_MESSAGE)
    )
    conn.execute(sa.update(record_outcomes).where(o.action == "filtered").values(action="skipped"))
    # plain DROP COLUMN (SQLite 3.35+): a batch copy of task_runs would drop the table, and with it,
    # through ON DELETE CASCADE, every record outcome
    for table, column in (
        ("record_outcomes", "problem"),
        ("record_outcomes", "reason"),
        ("task_runs", "filtered"),
        ("task_runs", "unchanged"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
