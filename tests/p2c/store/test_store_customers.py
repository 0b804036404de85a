"""The customers of CRM documents in the store: changes with their cursors, touched customers settled."""

from __future__ import annotations

import doctest

import p2c.store.customers
from p2c.store import RunStatus, StateStore


def test_docstring_examples() -> None:
    result = doctest.testmod(p2c.store.customers, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_changes_whole_tables_and_deletes() -> None:
    with StateStore("sqlite://") as store:
        store.apply_customer_changes({"quotes": ({"q1": "a", "q2": "b"}, [], True, "t1")}, set())
        store.apply_customer_changes({"quotes": ({"q3": "c"}, ["q1"], False, "t2")}, {"a", "c"})
        assert store.document_customers("quotes") == {"q2": "b", "q3": "c"}
        assert store.customers_among(["A", "B", "C"]) == {"b", "c"}
        assert store.cursor("#customers:quotes") == "t2" and store.touched_customers() == {"a", "c"}
        # a whole table replaces what was there
        store.apply_customer_changes({"quotes": ({"q9": "z"}, [], True, "t3")}, set())
        assert store.document_customers("quotes") == {"q9": "z"}


def test_touched_customers_stay_until_every_task_completed_a_run_after_them() -> None:
    with StateStore("sqlite://") as store:
        store.apply_customer_changes({}, {"c1"})
        tasks = ["Contacts", "ContactToCustomer"]
        assert store.settle_touched(tasks) == 0  # neither task ran

        def run(*names: str, status: RunStatus = RunStatus.SUCCEEDED) -> None:
            run_id = store.start_run("p", list(names))
            for name in names:
                store.finish_task(store.start_task(run_id, name), status)
            store.finish_run(run_id, status)

        run("Contacts")
        assert store.settle_touched(tasks) == 0  # the other has not completed since
        run("ContactToCustomer", status=RunStatus.FAILED)
        assert store.settle_touched(tasks) == 0 and store.touched_customers() == {"c1"}
        run("ContactToCustomer", status=RunStatus.PARTIAL)  # its failed records are pending: read anyway
        assert store.settle_touched(tasks) == 1 and store.touched_customers() == set()
