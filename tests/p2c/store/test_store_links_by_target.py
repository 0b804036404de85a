"""links_by_target: the links of many target keys in one query per chunk (duplicate-number checks)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from p2c.store import Link, StateStore, now

T = "accounts"


def test_links_by_target_agrees_with_link_by_target(
    store: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    task_run = store.start_task(store.start_run("p", [T]), T)
    t0 = now()
    links = [Link(T, f"S{i:04d}", f"usmf,C{i:04d}", "h", t0) for i in range(2500)]
    # two sources claim one target: the most recently synced one is the answer, as link_by_target says
    links += [
        Link(T, "S-old", "usmf,SHARED", "h", t0),
        Link(T, "S-new", "usmf,SHARED", "h", t0 + timedelta(seconds=1)),
    ]
    store.commit_batch(task_run, [], links)
    store.commit_batch(task_run, [], [Link("other", "X", "usmf,C0001", "h", t0)])
    monkeypatch.setattr(store, "_chunk", 1000)  # several chunks

    wanted = [f"usmf,C{i:04d}" for i in range(0, 2500, 2)] + ["usmf,SHARED", "usmf,MISSING", "demf,C0001"]
    found = store.links_by_target(T, wanted)

    assert set(found) == set(wanted) - {"usmf,MISSING", "demf,C0001"}
    assert found["usmf,C0002"].source_key == "S0002" and found["usmf,C0002"].task == T
    assert found["usmf,SHARED"] == store.link_by_target(T, "usmf,SHARED")
    assert found["usmf,SHARED"].source_key == "S-new"
    assert store.links_by_target(T, []) == {}
