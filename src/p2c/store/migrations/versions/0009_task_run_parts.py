"""Task runs say which part of a split load they ran (``task_runs.part``).

A queued run may split a task's large load into parts (``settings.parts``, ``p2c.engine.share``);
each part is a task run of the task. ``part`` holds ``"2/4"`` for such a run and stays NULL for
every other one (an unsplit task, a split task's closing pass), so the history, the API and the
console tell the parts apart by a column instead of a prefix of the task run's message. Task runs
recorded before it carry that prefix (``part 2/4 of a split load: <why it failed>``): the upgrade
moves it into the column and leaves the message its reason alone.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# how the engine wrote a part into the message until this revision
_PREFIX = re.compile(r"part ([0-9]+/[0-9]+) of a split load(?:: (.*))?\Z", re.DOTALL)


def upgrade() -> None:
    op.add_column("task_runs", sa.Column("part", sa.Text, nullable=True))
    task_runs = sa.table("task_runs", sa.column("id"), sa.column("message"), sa.column("part"))
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(task_runs.c.id, task_runs.c.message).where(
            task_runs.c.message.like("part %of a split load%")
        )
    ).all()
    for task_run_id, message in rows:
        match = _PREFIX.match(message)
        if match is not None:
            conn.execute(
                sa.update(task_runs)
                .where(task_runs.c.id == task_run_id)
                .values(part=match.group(1), message=match.group(2) or None)
            )


def downgrade() -> None:
    task_runs = sa.table("task_runs", sa.column("id"), sa.column("message"), sa.column("part"))
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(task_runs.c.id, task_runs.c.message, task_runs.c.part).where(task_runs.c.part.is_not(None))
    ).all()
    for task_run_id, message, part in rows:  # the prefix the code before this revision reads
        prefixed = f"part {part} of a split load" + (f": {message}" if message else "")
        conn.execute(sa.update(task_runs).where(task_runs.c.id == task_run_id).values(message=prefixed))
    # not a batch copy of the table: on SQLite, dropping the old copy of task_runs would cascade to
    # every record outcome (SQLite drops a column in place since 3.35)
    op.drop_column("task_runs", "part")
