"""The binder: target keys stored as JSON arrays, read back typed by the catalog (no text splitting)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from p2c.catalog import load_catalog
from p2c.engine.binder import Binder, encode_key
from p2c.project import load_template
from p2c.settings import System
from p2c.store import Link, StateStore


def test_a_line_key_round_trips_typed_even_with_a_comma_in_a_value(tmp_path: Path) -> None:
    [_header, line] = load_template("quotes").tasks
    spec = load_catalog().entity(System.ERP, line.target.entity)
    assert line.key_target == ("dataAreaId", "LineCreationSequenceNumber", "SalesQuotationNumber")
    with StateStore(str(tmp_path / "state.db")) as store:
        binder = Binder(line, spec, store)
        payload = {
            "dataAreaId": "usmf",
            "SalesQuotationNumber": "Q-1,a",
            "LineCreationSequenceNumber": Decimal("2"),
        }
        link = binder.link("src-1", payload, "hash")
        assert link.target_key == '["usmf",2,"Q-1,a"]'
        assert binder.target_of(link) == {
            "dataAreaId": "usmf",
            "SalesQuotationNumber": "Q-1,a",
            "LineCreationSequenceNumber": 2,
        }
        assert binder.display(payload) == "usmf,2,Q-1,a"
        # a link converted by migration 0003 holds text; whole-number key fields come back as ints
        migrated = Link(line.name, "src-2", '["usmf","7","Q-2"]', "h", link.synced_at)
        assert binder.target_of(migrated)["LineCreationSequenceNumber"] == 7


def test_encoded_keys_are_compact_and_unicode_as_is() -> None:
    assert encode_key(["usmf", "Ærø ApS", 3.0, None]) == '["usmf","Ærø ApS",3,null]'
