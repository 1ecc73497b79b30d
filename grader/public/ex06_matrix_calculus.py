"""Judging logic of ex06's sympy answers: a returned Matrix compared by its values at fixed random symbol values."""

from __future__ import annotations

import functools
from typing import Any, Mapping, Sequence

import numpy as np
import sympy

from grader.compare import close, describe_type, fmt
from grader.judges import Lookup, logic_named, raised_hints, returned_values, where
from grader.model import Check, Outcome, Probe, Raised, Returned, Verdict

SINGULAR = ("with equal slopes the matrix of the system is singular (its determinant is 0) and has no inverse: test the "
            "determinant (or the slopes) first and raise ValueError yourself instead of inverting.")


def values_at(value: sympy.MatrixBase, points: Sequence[Mapping[str, float]]) -> list[np.ndarray] | None:
    """The matrix's numbers at each point (symbols by name); None where it has none. `xreplace` swaps the symbols
    for exact numbers without `subs`' rewriting and simplifying; `evalf` then evaluates each entry once. Memoised by
    the matrix and the points: students with the same answer cost one evaluation."""
    try:
        key = (sympy.ImmutableMatrix(value), tuple(tuple(point.items()) for point in points))
    except (TypeError, ValueError, AttributeError, sympy.SympifyError):
        return None
    return _values_at(*key)


@functools.lru_cache(maxsize=4096)
def _values_at(value: sympy.ImmutableMatrix, points: tuple) -> list[np.ndarray] | None:
    try:
        return [np.array(value.xreplace({sympy.Symbol(k): sympy.Float(v) for k, v in point}).evalf(), dtype=float)
                for point in points]
    except (TypeError, ValueError, AttributeError):
        return None


def same(got: Sequence[np.ndarray] | None, wanted: Sequence[Any]) -> bool:
    return got is not None and all(np.shape(g) == np.shape(w) and close(g, w, 1e-9, 1e-9) for g, w in zip(got, wanted))


def judge_symbolic_matrix(check: Check, cases: Sequence[tuple[Probe, Outcome]], spec: Mapping[str, Any], lookup: Lookup) -> Verdict:
    """The returned sympy Matrix takes the derivation's values (`expected`) at the fixed `points`; known mistakes by theirs
    (and by the exception they raise, `spec["raises"]`)."""
    failed = returned_values(check, cases, raised_hints(spec.get("raises", ())))
    if failed:
        return failed
    for probe, outcome in cases:
        got, place = outcome.value, where(check, probe)
        points, expected = lookup(probe, "points"), [np.asarray(e, dtype=float) for e in lookup(probe, "expected")]
        shape = expected[0].shape
        if not isinstance(got, sympy.MatrixBase):
            return Verdict.fail(f"{place}: returned {describe_type(got)}; expected a sympy Matrix of shape {shape}")
        values = values_at(got, points)
        if same(values, expected):
            continue
        hint = None
        for i, text in enumerate(spec["hints"]):
            try:
                wrong = lookup(probe, f"mistake:{i}")
            except Exception:  # noqa: BLE001 - a mistake model that does not apply here
                continue
            if same(values, wrong):
                hint = text
                break
        if tuple(got.shape) != shape:
            return Verdict.fail(f"{place}: returned a Matrix of shape {tuple(got.shape)}; expected shape {shape} ({spec['source']})", hint)
        at = ", ".join(f"{k}={fmt(v)}" for k, v in points[0].items())
        detail = (f"at {at} it gives {fmt(values[0])}, expected {fmt(expected[0])}" if values is not None
                  else "it has no numeric value for numeric symbols")
        return Verdict.fail(f"{place}: got {fmt(got)}, which is not equal to {spec['source']} for every value of the symbols: {detail}", hint)
    return Verdict.ok()


def judge_singular(check: Check, cases: Sequence[tuple[Probe, Outcome]], spec: Mapping[str, Any], lookup: Lookup) -> Verdict:
    """`spec["inner"]` (the ValueError judge), with SINGULAR where a singular system was solved anyway: a result came
    back (infinities, NaN, or the rounding noise of an almost singular inverse) or a division by zero was raised."""
    from dataclasses import replace

    verdict = logic_named(spec["inner"])(check, cases, spec, lookup)
    if verdict.passed or verdict.hint:
        return verdict
    for _, outcome in cases:
        if isinstance(outcome, Returned) or (isinstance(outcome, Raised) and outcome.type_name in ("ZeroDivisionError", "FloatingPointError")):
            return replace(verdict, hint=SINGULAR)
    return verdict
