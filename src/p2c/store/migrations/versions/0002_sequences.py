"""Number sequences get their own table; record outcomes can name a side write.

Until now the engine kept the highest generated number of each prefix as a ``cursors`` row named
``~sequence:<prefix>``. Those rows move to ``sequences`` (name = the prefix, value = the integer).
A row whose value is not an integer stays where it is: nothing could use it as a number, and
dropping it would lose what an operator may want to look at.

``record_outcomes.operation`` (NULL for the record's own outcome) names a side write made for the
record.

Revision ID: 0002
Revises: 0001
Create Date: 2025-06-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the types in p2c.store.schema: history must not change when the code does.
Time = sa.DateTime(timezone=True)
PREFIX = "~sequence:"
BIGINT = range(-(2**63), 2**63)

cursors = sa.table(
    "cursors", sa.column("task", sa.Text), sa.column("value", sa.Text), sa.column("updated_at", Time)
)
sequences = sa.table(
    "sequences", sa.column("name", sa.Text), sa.column("value", sa.BigInteger), sa.column("updated_at", Time)
)


def _integer(value: str | None) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if number in BIGINT else None


def upgrade() -> None:
    op.create_table(
        "sequences",
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("value", sa.BigInteger, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_sequences"),
    )
    op.add_column("record_outcomes", sa.Column("operation", sa.String(40)))

    conn = op.get_bind()
    found = conn.execute(
        sa.select(cursors.c.task, cursors.c.value, cursors.c.updated_at).where(
            cursors.c.task.like(PREFIX + "%")
        )
    ).all()
    moved = []
    for task, value, updated_at in found:
        number = _integer(value)
        if task.startswith(PREFIX) and number is not None:  # LIKE may ignore case: check exactly
            moved.append(
                {"task": task, "name": task[len(PREFIX) :], "value": number, "updated_at": updated_at}
            )
    if moved:
        conn.execute(
            sa.insert(sequences), [{k: m[k] for k in ("name", "value", "updated_at")} for m in moved]
        )
        conn.execute(
            sa.delete(cursors).where(cursors.c.task == sa.bindparam("t")), [{"t": m["task"]} for m in moved]
        )


def downgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.select(sequences.c.name, sequences.c.value, sequences.c.updated_at)).all()
    back = [{"task": PREFIX + name, "value": str(value), "updated_at": at} for name, value, at in rows]
    if back:
        # A non-integer row left behind by upgrade() may hold the same name: the sequence wins.
        conn.execute(
            sa.delete(cursors).where(cursors.c.task == sa.bindparam("t")), [{"t": b["task"]} for b in back]
        )
        conn.execute(sa.insert(cursors), back)
    with op.batch_alter_table("record_outcomes") as batch:  # SQLite: copies the table without it
        batch.drop_column("operation")
    op.drop_table("sequences")
