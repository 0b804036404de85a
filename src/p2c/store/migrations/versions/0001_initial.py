"""The initial schema: runs, task runs, record outcomes, links, cursors, schedules.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the types in p2c.store.schema: history must not change when the code does.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = sa.DateTime(timezone=True)
COUNTERS = ("read", "created", "updated", "deleted", "skipped", "waiting", "failed")


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", Id, autoincrement=True),
        sa.Column("project", sa.Text, nullable=False),
        sa.Column("trigger", sa.String(32), nullable=False),
        sa.Column("tasks", sa.Text, nullable=False),
        sa.Column("full", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", Time, nullable=False),
        sa.Column("finished_at", Time),
        sa.Column("message", sa.Text),
        sa.Column("host", sa.Text),
        sa.Column("pid", sa.Integer),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
    )
    op.create_index("ix_runs_project_id", "runs", ["project", "id"])
    op.create_index("ix_runs_status_project", "runs", ["status", "project"])

    op.create_table(
        "task_runs",
        sa.Column("id", Id, autoincrement=True),
        sa.Column("run_id", Id, nullable=False),
        sa.Column("task", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", Time, nullable=False),
        sa.Column("finished_at", Time),
        sa.Column("heartbeat_at", Time, nullable=False),
        sa.Column("message", sa.Text),
        *(sa.Column(name, sa.BigInteger, nullable=False, server_default=sa.text("0")) for name in COUNTERS),
        sa.PrimaryKeyConstraint("id", name="pk_task_runs"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_task_runs_run_id_runs", ondelete="CASCADE"),
    )
    op.create_index("ix_task_runs_run_id_id", "task_runs", ["run_id", "id"])

    op.create_table(
        "record_outcomes",
        sa.Column("id", Id, autoincrement=True),
        sa.Column("run_id", Id, nullable=False),
        sa.Column("task_run_id", Id, nullable=False),
        sa.Column("task", sa.Text, nullable=False),
        sa.Column("source_key", sa.Text, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("target_key", sa.Text),
        sa.Column("error_class", sa.Text),
        sa.Column("field", sa.Text),
        sa.Column("message", sa.Text),
        sa.Column("transient", sa.Boolean, nullable=False),
        sa.Column("source_row", sa.Text),
        sa.Column("target_payload", sa.Text),
        sa.Column("at", Time, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_record_outcomes"),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_record_outcomes_run_id_runs", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["task_run_id"],
            ["task_runs.id"],
            name="fk_record_outcomes_task_run_id_task_runs",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_record_outcomes_task_source_key_id", "record_outcomes", ["task", "source_key", "id"])
    op.create_index("ix_record_outcomes_task_action_id", "record_outcomes", ["task", "action", "id"])
    op.create_index("ix_record_outcomes_run_id_action_id", "record_outcomes", ["run_id", "action", "id"])
    op.create_index("ix_record_outcomes_task_run_id", "record_outcomes", ["task_run_id"])

    op.create_table(
        "links",
        sa.Column("task", sa.Text, nullable=False),
        sa.Column("source_key", sa.Text, nullable=False),
        sa.Column("target_key", sa.Text, nullable=False),
        sa.Column("hash", sa.Text, nullable=False),
        sa.Column("source_hash", sa.Text),
        sa.Column("target_etag", sa.Text),
        sa.Column("synced_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("task", "source_key", name="pk_links"),
    )
    op.create_index("ix_links_task_target_key", "links", ["task", "target_key"])

    op.create_table(
        "cursors",
        sa.Column("task", sa.Text, nullable=False),
        sa.Column("value", sa.Text),
        sa.Column("updated_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("task", name="pk_cursors"),
    )

    op.create_table(
        "schedules",
        sa.Column("id", Id, autoincrement=True),
        sa.Column("project", sa.Text, nullable=False),
        sa.Column("tasks", sa.Text),
        sa.Column("cron", sa.Text, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.text("true")),
        sa.Column("next_run_at", Time),
        sa.Column("last_run_id", Id),
        sa.Column("updated_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_schedules"),
        sa.ForeignKeyConstraint(
            ["last_run_id"], ["runs.id"], name="fk_schedules_last_run_id_runs", ondelete="SET NULL"
        ),
    )
    op.create_index("ix_schedules_enabled_next_run_at", "schedules", ["enabled", "next_run_at"])
    op.create_index("ix_schedules_project", "schedules", ["project"])


def downgrade() -> None:
    for table in ("schedules", "cursors", "links", "record_outcomes", "task_runs", "runs"):
        op.drop_table(table)
