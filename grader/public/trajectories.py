"""Judging logic for trajectories (ex03–ex05): hints for a result of the wrong precision or form.

`judge_with_row_hints` runs the judge it wraps (`spec["inner"]`, the logic of `expect` or `expect_parts`); when that
fails without naming a mistake, it looks at what came back: float32 arithmetic on float64 inputs (close at float32
precision only), rows that all hold one aliased tensor (`W.data` recorded, then changed in place by every step),
tensors where numbers were asked for, or one row too few or too many (`spec["row_rule"]` says how many there are).
`with_row_hints` wraps a `DataJudge` so.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping, Sequence

import numpy as np

from grader.compare import NotComparable, as_array, close, tolerance_for
from grader.judges import DataJudge, Lookup, Part, logic_named
from grader.model import Check, Outcome, Probe, Returned, Verdict
from grader.wire import TensorData

FLOAT32_INSIDE = ("the inputs are float64 tensors, but this result has only float32 precision: something was created with "
                  "torch's default dtype float32 (torch.zeros(1), torch.tensor(0.0)); create it with dtype=x.dtype so that the "
                  "computation keeps the inputs' dtype.")
ALIASED_ROWS = ("every row holds the same tensor: W.data (like W itself) is the parameter's own storage, which each update "
                "changes in place, so all rows show its last value; record a number, W.item().")
FLOAT32_INSIDE_WHY = ("a float64 computation done in float32 somewhere lands within 50 float32 tolerances of the float64 "
                      "reference after a training run's accumulated rounding, far outside the float64 one")
TENSOR_ROWS = "record numbers, not tensors: W.item() and cost.item() (a tensor of shape (1,) is not a real number)."


def precision_hint(probe: Probe, value: Any, expected: Any, tolerance: Sequence[float]) -> str | None:
    """FLOAT32_INSIDE when float64 inputs gave a value that is right at float32 precision only."""
    if probe.tensor_dtype != "float64":
        return None
    try:
        got = as_array(value, np.shape(np.asarray(expected, dtype=float)))
    except (NotComparable, ValueError, TypeError):
        return None
    if close(got, expected, *tolerance_for("float32", 50, why=FLOAT32_INSIDE_WHY)) and not close(got, expected, *tolerance):
        return FLOAT32_INSIDE
    return None


def part_precision_hint(probe: Probe, part: Any, value: Any, expected: Any, tolerance: Sequence[float]) -> str | None:
    """`precision_hint` for one part of a value (None where the part cannot be taken out of it)."""
    try:
        return precision_hint(probe, part(value), part(expected), tolerance)
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def rows_hint(value: Any, expected: Any) -> str | None:
    """ALIASED_ROWS or TENSOR_ROWS for a trajectory whose rows begin with tensors."""
    if not isinstance(value, (list, tuple)) or len(value) < 2:
        return None
    first = [row[0] if isinstance(row, (tuple, list)) and row else row for row in value]
    tensors = [item for item in first if isinstance(item, TensorData) and item.array is not None]
    if len(tensors) != len(first):
        return None
    expected_first = {repr(row[0]) for row in expected} if isinstance(expected, (list, tuple)) else set()
    if len(expected_first) > 1 and all(np.array_equal(t.array, tensors[-1].array) for t in tensors):
        return ALIASED_ROWS
    return TENSOR_ROWS


def count_hint(value: Any, expected: Any, rule: str) -> str | None:
    """One row too few or too many, named with the `rule` of how many rows there are."""
    if not rule or not isinstance(value, (list, tuple)) or not isinstance(expected, (list, tuple)):
        return None
    if abs(len(value) - len(expected)) != 1:
        return None
    return f"{'one row too few' if len(value) < len(expected) else 'one row too many'}: {rule}; check the range of the loop."


def with_row_hints(judge: DataJudge, rows: bool = True, row_rule: str = "") -> DataJudge:
    """`judge`, naming float32 arithmetic on float64 inputs and, with `rows`, rows of aliased tensors or of tensors and
    (with a `row_rule`) one row too few or too many."""
    return DataJudge("grader.public.trajectories:judge_with_row_hints", {**judge.spec, "inner": judge.logic, "rows": rows, "row_rule": row_rule},
                     judge.sources, judge.formula)


def judge_with_row_hints(check: Check, cases: Sequence[tuple[Probe, Outcome]], spec: Mapping[str, Any], lookup: Lookup) -> Verdict:
    """`spec["inner"]`'s verdict, with a precision or row hint where it named no mistake."""
    verdict = logic_named(spec["inner"])(check, cases, spec, lookup)
    if verdict.passed or verdict.hint:
        return verdict
    part = Part.from_data(spec.get("extract"))
    for probe, outcome in cases:
        if not isinstance(outcome, Returned):
            continue
        expected, tolerance = lookup(probe, "expected"), tuple(lookup(probe, "tolerance"))
        parts = [Part.from_data(data) for _, data in spec.get("parts", ())] or [part]  # expect_parts: each part's precision
        hint = next((h for p in parts if (h := part_precision_hint(probe, p, outcome.value, expected, tolerance))), None)
        if hint is None and spec.get("rows"):
            try:
                hint = rows_hint(part(outcome.value), part(expected)) or count_hint(part(outcome.value), part(expected), spec.get("row_rule", ""))
            except (KeyError, IndexError, TypeError):
                hint = None
        if hint:
            return replace(verdict, hint=hint)
    return verdict
