"""Account and contact numbers: PREFIX-<rising five digits>-<six random capitals>."""

from __future__ import annotations

import random
import re

import pytest

from p2c.rules.numbering import NumberGenerator, generate_number, next_sequence


def test_shape_and_determinism() -> None:
    number = generate_number("ACC", 1000, random.Random(42))
    assert re.fullmatch(r"ACC-01000-[A-Z]{6}", number)
    assert number == generate_number("ACC", 1000, random.Random(42))  # the same seed, the same number
    assert generate_number("CON", 7, random.Random(1)).startswith("CON-00007-")
    assert generate_number("ACC", 123456, random.Random(1)).startswith("ACC-123456-")  # past 99999 it widens
    with pytest.raises(ValueError):
        generate_number("ACC", -1, random.Random(1))


def test_next_sequence_continues_after_the_highest() -> None:
    existing = ["ACC-01000-BVRCPS", "acc-01041-abcdef", "ACC-0999-XXXXXX", "CON-05000-AAAAAA", "ACC-01500-TOOLONGX",
                None, "", "Contoso-1"]  # fmt: skip
    assert next_sequence(existing, "ACC") == 1042
    assert next_sequence(existing, "CON") == 5001
    assert next_sequence([], "ACC") == 1000
    assert next_sequence(["ACC-00005-ABCDEF"], "ACC") == 1000  # never below start
    assert next_sequence([], "ACC", start=1) == 1


def test_generator_rises_and_skips_taken_numbers() -> None:
    taken = "ACC-01001-ZZZZZZ"
    gen = NumberGenerator("ACC", ["ACC-01000-AAAAAA", taken], random.Random(3))
    numbers = [gen.next() for _ in range(3)]
    assert [n[:9] for n in numbers] == ["ACC-01002", "ACC-01003", "ACC-01004"]  # after the highest taken
    assert len(set(numbers)) == 3 and not set(numbers) & {"ACC-01000-AAAAAA", taken}
