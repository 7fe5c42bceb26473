"""StrictJSONParser's depth measure: right about strings, linear on hostile text."""

import json
import time

import pytest

from helpdesk.parsers import nesting_depth


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("{}", 1),
        ('{"a": [1, {"b": []}]}', 4),
        ('{"a": "[[[[[[[[[[{{{{{"}', 1),  # brackets inside a string do not nest
        (r'{"a": "x\"[[[[", "b": [[1]]}', 3),  # nor after an escaped quote
        (r'{"a": "back\\", "b": [[1]]}', 3),  # an escaped backslash ends before the quote
        ('"just a string"', 0),
        ("[" * 10_000 + "]" * 10_000, 10_000),
    ],
)
def test_nesting_depth_counts_arrays_and_objects_outside_strings(text, depth):
    assert nesting_depth(text) == depth
    if depth <= 100:
        json.loads(text)  # the cases are valid JSON, so the count means something


@pytest.mark.parametrize(
    "text",
    [
        '"' + '\\"' * 500_000,  # an unterminated string of escaped quotes
        '"' * 1_000_000,
        "[]" * 500_000,
        '"' + "\\" * 1_000_000,
    ],
    ids=["escaped quotes", "quotes", "flat brackets", "backslashes"],
)
def test_nesting_depth_is_linear_on_a_hostile_megabyte(text):
    # A regular expression that must find a closing quote backtracks quadratically here.
    started = time.perf_counter()
    nesting_depth(text)
    assert time.perf_counter() - started < 2
