"""Migration 0003: links' target keys become JSON arrays (the binder reads them back typed)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from migration_helpers import at_revision, back_to
from sqlalchemy import insert, select

from p2c.store import StateStore
from p2c.store.schema import links

AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_comma_joined_target_keys_become_json_arrays_and_back(store_url: str) -> None:
    with at_revision(store_url, "0002") as conn:
        conn.execute(
            insert(links),
            [
                {
                    "task": "QuoteLine",
                    "source_key": "q1",
                    "target_key": "usmf,QUO-001,2",
                    "hash": "h",
                    "synced_at": AT,
                },
                {
                    "task": "Accounts",
                    "source_key": "a1",
                    "target_key": "usmf,ACC-01000-BVRCPS",
                    "hash": "h",
                    "synced_at": AT,
                },
                {
                    "task": "Products",
                    "source_key": "p1",
                    "target_key": "D0001",
                    "hash": "h",
                    "synced_at": AT,
                },
            ],
        )
    with StateStore(store_url) as store:  # opening migrates to head
        keys = {
            lk.source_key: json.loads(lk.target_key)
            for task in ("QuoteLine", "Accounts", "Products")
            for lk in store.all_links(task)
        }
        assert keys == {"q1": ["usmf", "QUO-001", "2"], "a1": ["usmf", "ACC-01000-BVRCPS"], "p1": ["D0001"]}
        # the duplicate-number check finds an account's customer by its encoded key
        assert store.links_by_target("Accounts", ['["usmf","ACC-01000-BVRCPS"]']).keys() == {
            '["usmf","ACC-01000-BVRCPS"]'
        }
        with back_to(store, "0002") as conn:
            back = dict(conn.execute(select(links.c.source_key, links.c.target_key)).all())
    assert back == {"q1": "usmf,QUO-001,2", "a1": "usmf,ACC-01000-BVRCPS", "p1": "D0001"}
