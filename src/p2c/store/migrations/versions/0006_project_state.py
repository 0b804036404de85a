"""Project state for the service: paused or not, and why.

``project_state`` holds one row per project the service (or ``p2c pause``) has touched: whether it
is paused, why (a person, or the service's auto-pause with the threshold passed), by whom and
since when. A paused project runs neither on its schedule nor on request. ``runs.requests`` keeps
what a run asked of each service (JSON: requests, retries, throttled, per status code). ``schedules`` (from
0001) keeps each project's schedule and its next run time, so a restarted service knows what it
missed.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "project_state",
        sa.Column("project", sa.Text, nullable=False),
        sa.Column("paused", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("reason", sa.Text),
        sa.Column("paused_by", sa.Text),
        sa.Column("paused_at", Time),
        sa.Column("updated_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("project", name="pk_project_state"),
    )
    op.create_index("ix_schedules_project_unique", "schedules", ["project"], unique=True)
    op.add_column("runs", sa.Column("requests", sa.Text))


def downgrade() -> None:
    op.execute("ALTER TABLE runs DROP COLUMN requests")
    op.drop_index("ix_schedules_project_unique", "schedules")
    op.drop_table("project_state")
