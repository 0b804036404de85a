"""Links keep their target key as a JSON array of the key's values, not comma-joined text.

Text like ``usmf,QUO-001,2`` had to be split again to address the target record (a line to
delete), which breaks on a value holding a comma and loses the values' types. The engine's binder
(:mod:`p2c.engine.binder`) now writes ``["usmf","QUO-001",2]`` and reads it back typed by the
catalog. Existing links are converted here: each comma-separated part becomes a string of the
array (the binder types whole-number fields when it reads them).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

links = sa.table(
    "links", sa.column("task", sa.Text), sa.column("source_key", sa.Text), sa.column("target_key", sa.Text)
)
CHUNK = 5000


def _convert(to_json: bool) -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.select(links.c.task, links.c.source_key, links.c.target_key)).all()
    update = (
        sa.update(links)
        .where(links.c.task == sa.bindparam("t"), links.c.source_key == sa.bindparam("k"))
        .values(target_key=sa.bindparam("v"))
    )
    batch = []
    for task, key, text in rows:
        if to_json:
            if text.startswith("["):
                continue
            value = json.dumps(text.split(","), ensure_ascii=False, separators=(",", ":"))
        else:
            if not text.startswith("["):
                continue
            value = ",".join("" if v is None else str(v) for v in json.loads(text))
        batch.append({"t": task, "k": key, "v": value})
        if len(batch) >= CHUNK:
            conn.execute(update, batch)
            batch = []
    if batch:
        conn.execute(update, batch)


def upgrade() -> None:
    _convert(to_json=True)


def downgrade() -> None:
    _convert(to_json=False)
