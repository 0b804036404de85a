"""p2c's YAML: 1.2 booleans, Decimal numbers, duplicate keys, lines by key path, file:line errors."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from p2c.errors import ConfigError
from p2c.yaml_doc import format_path, load_yaml, parse_yaml


def test_yes_and_no_stay_text_and_true_is_a_boolean() -> None:
    doc = parse_yaml("a: Yes\nb: No\nc: NO\nd: on\ne: true\nf: False\n", "x.yaml")
    assert doc.data == {"a": "Yes", "b": "No", "c": "NO", "d": "on", "e": True, "f": False}


def test_numbers_with_a_fraction_are_decimals() -> None:
    doc = parse_yaml("price: 3.33\nqty: 3\nbig: 1_000.50\nexp: 1.5e+3\n", "x.yaml")
    assert doc.data == {
        "price": Decimal("3.33"),
        "qty": 3,
        "big": Decimal("1000.50"),
        "exp": Decimal("1.5e3"),
    }
    assert isinstance(doc.data["price"], Decimal)


def test_lines_by_key_path() -> None:
    text = "tasks:\n  Accounts:\n    fields:\n      A: x\n      B:\n        const: 1\nlist:\n  - a\n  - b\n"
    doc = parse_yaml(text, "t.yaml")
    assert doc.line(("tasks", "Accounts", "fields", "B")) == 5
    assert doc.line(("tasks", "Accounts", "fields", "B", "const")) == 6
    assert doc.line(("tasks", "Accounts", "fields", "B", "const", "deeper")) == 6  # longest known prefix
    assert doc.line(("list", 1)) == 9
    assert doc.line(("nowhere",)) == 1


def test_duplicate_keys_are_errors() -> None:
    with pytest.raises(ConfigError) as info:
        parse_yaml("tasks:\n  A: {}\n  A: {}\n", "dup.yaml")
    assert str(info.value) == "dup.yaml:3: tasks.A: duplicate key 'A'"


def test_syntax_errors_name_the_line() -> None:
    with pytest.raises(ConfigError) as info:
        parse_yaml("a: 1\nb: [1, 2\nc: 3\n", "bad.yaml")
    assert info.value.detail["line"] is not None and info.value.detail["line"] >= 2
    assert "invalid YAML" in info.value.reason
    assert str(info.value).startswith("bad.yaml:")


def test_format_path_quotes_odd_keys() -> None:
    assert format_path(("tasks", "Accounts", "fields", "X")) == "tasks.Accounts.fields.X"
    assert format_path(("value_maps", "country", "United States")) == 'value_maps.country["United States"]'
    assert format_path(("templates", 0)) == "templates[0]"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_yaml(tmp_path / "none.yaml")
