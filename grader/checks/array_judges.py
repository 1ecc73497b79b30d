"""Judge helpers shared by the tensor and matrix exercises (ex05, ex06).

`compare_shaped` is `grader.judges.compare_case` that also recognises a known mistake whose answer has a different
shape from the reference (a transposed Jacobian, a Hessian instead of a gradient, one epoch too few): such answers
fail on shape before values can be compared, yet deserve their `Hint:` line. `expect_parts` judges a returned
structure part by part (`(w, b, losses)`: the parameters, then the losses), each with its own label.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from grader.compare import NotComparable, as_array, close, fmt
from grader.judges import FLOAT64, Mistake, Tolerance, compare_case, per_case, where
from grader.model import Check, Probe, Verdict
from grader.wire import TensorData


def compare_shaped(check: Check, probe: Probe, got: Any, expected: Any, formula: str, tolerance: tuple[float, float],
                   mistakes: Sequence[Mistake] = (), label: str | None = None) -> Verdict:
    """`compare_case`, then, for an answer of the wrong shape, the hint of a mistake of that shape and value."""
    verdict = compare_case(check, probe, got, expected, formula, tolerance, mistakes, label)
    if verdict.passed or verdict.hint:
        return verdict
    try:
        value = as_array(got)
    except NotComparable:
        return verdict
    args, kwargs = probe.params.get("args", ()), probe.params.get("kwargs", {})
    for mistake in mistakes:
        try:
            wrong = np.asarray(mistake.answer(*args, **kwargs), dtype=float)
        except Exception:  # a mistake model that does not apply to these inputs
            continue
        if wrong.shape == value.shape and wrong.shape != np.shape(expected) and close(value, wrong, *tolerance):
            return Verdict.fail(verdict.message, mistake.hint)
    return verdict


def expect_parts(reference: Callable[..., Any], formula: str, parts: Sequence[tuple[str, Callable[[Any], Any]]],
                 mistakes: Sequence[Mistake] = (), tolerance: Tolerance = FLOAT64) -> Callable:
    """Each probe's value must equal `reference(*args, **kwargs)` part by part; `parts` are (label, extractor) pairs."""

    def judge_parts(check: Check, probe: Probe, value: Any, expected: Any, limits: tuple[float, float]) -> Verdict:
        for label, extract in parts:
            try:
                got = extract(value)
            except (KeyError, IndexError, TypeError, ValueError) as error:
                return Verdict.fail(f"{where(check, probe)}: returned {fmt(value)} of an unexpected form ({error})")
            part_mistakes = [Mistake(m.hint, _through(m.answer, extract)) for m in mistakes]
            place = f"{where(check, probe)}: {label}" if label else None
            verdict = compare_shaped(check, probe, got, extract(expected), formula, limits, part_mistakes, place)
            if not verdict.passed:
                return verdict
        return Verdict.ok()

    return per_case(reference, judge_parts, tolerance)


def _through(answer: Callable[..., Any], extract: Callable[[Any], Any]) -> Callable[..., Any]:
    return lambda *args, **kwargs: extract(answer(*args, **kwargs))


def whole(value: Any) -> Any:
    """The identity extractor."""
    return value


def tensor_dtype(probe: Probe, default: str = "float64") -> str:
    """The dtype of the first tensor among a probe's arguments (`default` when it has none)."""
    for value in [*probe.params.get("args", ()), *probe.params.get("kwargs", {}).values()]:
        if isinstance(value, TensorData):
            return value.dtype
    return default
