"""``lean_gc``: what ``p2c run``, ``worker`` and ``serve`` set once the project is loaded."""

from __future__ import annotations

import gc
import weakref

from p2c.cli.base import lean_gc


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_objects_alive_before_are_frozen_then_thawed_thresholds_untouched() -> None:
    gc.unfreeze()  # an in-process sandbox of an earlier test may have frozen its seed
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    with lean_gc():
        assert gc.get_threshold() == before  # Python's: cyclic garbage goes as soon as before
        assert gc.get_freeze_count() > 10_000  # modules, pytest, everything alive at the start
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_cycles_made_inside_are_still_collected_without_asking() -> None:
    """Memory stays bounded: garbage in cycles made inside goes without gc.collect()."""
    freed = [0]

    def gone() -> None:
        freed[0] += 1

    with lean_gc():
        for _ in range(100_000):
            weakref.finalize(_Cycle(), gone)
        assert freed[0] > 90_000


def test_a_heap_frozen_before_stays_frozen() -> None:
    """Another freezer (a sandbox in this process, its seed) is not undone on leaving."""
    gc.freeze()
    try:
        assert gc.get_freeze_count() > 10_000
        with lean_gc():
            pass
        # still frozen (thawing would leave none; frozen objects may die meanwhile: not an equality)
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
