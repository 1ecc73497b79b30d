"""grader/compare.py: messages about arrays stay readable whatever the arrays' size and rank."""

from __future__ import annotations

import numpy as np

from conftest import failed
from grader.compare import fmt, mismatch

MAX_POOL = "    return windows.max(axis=(3, 5))\n"


def test_a_large_array_is_its_shape_and_first_values_whatever_its_rank():
    image = np.arange(2 * 3 * 8 * 8, dtype=float).reshape(2, 3, 8, 8)
    assert fmt(image) == "array of shape (2, 3, 8, 8) beginning [0.0, 1.0, 2.0, …]"
    assert fmt(np.arange(4.0)) == "[0., 1., 2., 3.]"


def test_a_mismatch_in_a_summarised_array_says_where_it_starts_and_where_it_is_largest():
    expected = np.zeros((2, 3, 4, 4))
    got = expected.copy()
    got[0, 1, 2, 3], got[1, 0, 0, 0] = 0.5, 2.0
    text = mismatch(got, expected, 1e-9, 1e-9).describe()
    assert text.startswith("2 of 96 elements differ; the largest difference is at [1, 0, 0, 0]: got 2.0, expected 0.0")
    assert text.endswith("; the first is at [0, 1, 2, 3]")


def test_every_line_of_a_wrong_pooling_stays_short(grade_mutant):
    results = grade_mutant("ex08_lenet", (MAX_POOL, "    return windows.mean(axis=(3, 5))\n"))
    assert "maxpool2d_forward_random" in failed(results)
    lines = [line for r in results.values() for line in r.output.splitlines()]
    assert max(map(len, lines)) < 1000, max(lines, key=len)[:300]  # 5,888 characters before arrays were summarised
