"""Duplicate natural keys are found and reported, never merged; the rule registry describes every rule."""

from __future__ import annotations

from p2c.rules import RULES
from p2c.rules.duplicates import find_duplicates


def test_duplicates_case_and_space_insensitive() -> None:
    rows = [
        {"accountid": "a", "accountnumber": "ACC-01000-BVRCPS"},
        {"accountid": "b", "accountnumber": "ACC-01001-XXXXXX"},
        {"accountid": "c", "accountnumber": " acc-01000-bvrcps"},
        {"accountid": "d", "accountnumber": None},
        {"accountid": "e", "accountnumber": ""},
        {"accountid": "f", "accountnumber": "ACC-01000-BVRCPS"},
        {"accountid": "g", "accountnumber": "ACC-01001-XXXXXX"},
    ]
    assert find_duplicates(rows, "accountnumber", "accountid") == {
        "ACC-01000-BVRCPS": ["a", "c", "f"],
        "ACC-01001-XXXXXX": ["b", "g"],
    }
    assert find_duplicates(rows[:2], "accountnumber", "accountid") == {}
    assert find_duplicates([{"id": 1, "k": "x"}, {"id": 2, "k": "X"}], "k") == {"x": [1, 2]}


def test_registry() -> None:
    assert set(RULES) >= {  # the P2C flows' rules are checked in test_rules_registry_p2c.py
        "generate_account_number",
        "report_duplicate_numbers",
        "choose_price_list",
        "set_product_state",
    }
    assert RULES["choose_price_list"].provides == ("$price_list",)
    assert RULES["generate_account_number"].requires == ("accountid", "accountnumber")
    assert all(rule.summary for rule in RULES.values())
