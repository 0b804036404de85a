"""Lines follow headers: added, changed and removed lines by sequence number."""

from __future__ import annotations

from decimal import Decimal

import pytest

from p2c.errors import RecordError
from p2c.rules.freight import FREIGHT_TAX_SEQUENCE, freight_tax_line
from p2c.rules.lines import LineDiff, diff_lines, index_lines, next_sequence_number, number_lines

D = Decimal


def test_add_change_remove() -> None:
    source = {
        1: {"quantity": D("2"), "priceperunit": D("5.00"), "productdescription": None},
        2: {"quantity": D("4"), "priceperunit": D("1.00")},
        4: {"quantity": D("1"), "priceperunit": D("9.99")},
    }
    target = {
        1: {"salesorderdetailid": "d1", "quantity": 2.0, "priceperunit": 5, "productdescription": ""},
        2: {"salesorderdetailid": "d2", "quantity": 3, "priceperunit": D("1.0000")},
        3: {"salesorderdetailid": "d3", "quantity": 1, "priceperunit": 3},
    }
    diff = diff_lines(source, target)
    assert diff.add == {4: {"quantity": D("1"), "priceperunit": D("9.99")}}
    assert diff.change == {2: {"quantity": D("4")}}  # only what differs; line 1 is the same
    assert diff.remove == {3: {"salesorderdetailid": "d3", "quantity": 1, "priceperunit": 3}}
    assert not diff.empty


def test_a_rerun_writes_nothing() -> None:
    lines = {7: {"quantity": D("1.5"), "isproductoverridden": False, "tax": D("0.10")}}
    current = {7: {"quantity": 1.5, "isproductoverridden": False, "tax": 0.1, "salesorderdetailid": "x"}}
    assert diff_lines(lines, current) == LineDiff() and diff_lines(lines, current).empty
    assert diff_lines({}, {}).empty


def test_value_comparison() -> None:
    def changed(a: object, b: object) -> bool:
        return bool(diff_lines({1: {"f": a}}, {1: {"f": b}}).change)

    assert not changed(None, "") and not changed("", None) and not changed(None, None)
    assert changed("x", "X") and changed(None, 0) and changed("", 0)
    assert changed(True, 1) and not changed(True, True) and changed(False, 0)
    assert not changed(D("2"), 2.0) and changed(D("2"), "2") and changed(D("0.1"), 0.10000001)
    assert not changed("GUID-1", "GUID-1") and changed("guid-1", "GUID-1")
    assert changed(1, None)  # a field the target lacks differs


def test_freight_line_follows_its_header_tax() -> None:
    target = {FREIGHT_TAX_SEQUENCE: {"salesorderdetailid": "f", "priceperunit": D("2.00")}}
    line = freight_tax_line(D("3.00"), currency_precision=2)
    assert line is not None
    diff = diff_lines({FREIGHT_TAX_SEQUENCE: line}, target)
    assert diff.change == {FREIGHT_TAX_SEQUENCE: line}  # the target row above lacks every other field
    assert diff_lines({FREIGHT_TAX_SEQUENCE: line}, {FREIGHT_TAX_SEQUENCE: line}).empty
    assert list(diff_lines({}, target).remove) == [FREIGHT_TAX_SEQUENCE]  # the tax went to zero


def test_index_lines() -> None:
    field = "LineCreationSequenceNumber"
    lines = [{field: 2, "p": "a"}, {field: 0, "p": "b"}, {field: "5", "p": "c"}, {"p": "d"}, {field: 2.5}]
    numbered, unnumbered = index_lines(lines, field, entity="CDSSalesOrderLines")
    assert sorted(numbered) == [2, 5]
    assert [line.get("p") for line in unnumbered] == ["b", "d", None]
    with pytest.raises(RecordError) as e:
        index_lines([{field: 3}, {field: "3"}], field, entity="CDSSalesOrderLines", key="000007")
    assert (e.value.entity, e.value.key, e.value.field) == ("CDSSalesOrderLines", "000007", field)


def test_sequence_numbers() -> None:
    assert next_sequence_number([]) == 1
    assert next_sequence_number([None, 0, -3]) == 1
    assert next_sequence_number([4, 2, None]) == 5
    assert next_sequence_number([1, FREIGHT_TAX_SEQUENCE]) == 2  # the reserved one does not count
    numbered = number_lines([{"sequencenumber": None}, {"sequencenumber": 3}, {}, {"sequencenumber": 1}])
    assert [seq for seq, _ in numbered] == [4, 3, 5, 1]
    assert numbered[0][1] == {"sequencenumber": None}  # the caller writes the number back
    assert number_lines([], "LineCreationSequenceNumber") == []
