"""Judge builders: the common ways a check decides, each returning a `Judge` for `grader.model.Check`.

The central one is `expect`: for every probe, compute the reference from the probe's own arguments, compare, and
on failure say what was expected, from which formula, what came back and by how much it missed; if the answer
matches one of the known `Mistake`s instead, add a `Hint:` line naming it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Sequence

import numpy as np

from grader.compare import NotComparable, as_array, as_real, close, failure_message, fmt, mismatch, tolerance_for
from grader.model import Check, Outcome, Probe, Raised, Returned, Verdict


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer: `answer(*args, **kwargs)` computes what that mistake returns; `hint` names it."""

    hint: str
    answer: Callable[..., Any]


Tolerance = tuple[float, float] | Callable[[Probe], tuple[float, float]]
_ONCE: dict[tuple[int, str], tuple[Probe, Any]] = {}


def once_per_probe(probe: Probe, key: str, compute: Callable[[], Any]) -> Any:
    """`compute()` for this probe, computed once per batch: every student's probe has the same inputs.

    Checks are loaded once per batch, so a reference (or a known mistake's answer) derived for the first student
    serves all the others. Keyed by the probe object itself; the values are never mutated by judges.
    """
    slot = (id(probe), key)
    hit = _ONCE.get(slot)
    if hit is not None and hit[0] is probe:
        return hit[1]
    value = compute()
    if len(_ONCE) > 50_000:
        _ONCE.clear()
    _ONCE[slot] = (probe, value)
    return value
FLOAT64 = tolerance_for("float64")


def where(check: Check, probe: Probe) -> str:
    """`ex02_derivative.gradient at x=2.0, y=4.0` — the function called and its inputs (rendered once per batch)."""

    def describe() -> str:
        function = probe.function or check.name
        inputs = probe.describe_inputs()
        return f"{check.exercise}.{function} at {inputs}" if inputs else f"{check.exercise}.{function}"

    return once_per_probe(probe, f"where:{check.qualified_name}", describe)


def returned_values(check: Check, cases: Sequence[tuple[Probe, Outcome]]) -> Verdict | None:
    """A failing verdict for the first probe that did not return; None when all returned."""
    for probe, outcome in cases:
        if not isinstance(outcome, Returned):
            return Verdict.fail(f"{where(check, probe)}: {outcome.describe()}")
    return None


def received(value: Any, expected: Any) -> Any:
    """The received value converted to the expected value's kind: a real number or a float array."""
    if np.ndim(expected) == 0 and not isinstance(expected, (list, tuple)):
        return as_real(value)
    return as_array(value, np.shape(np.asarray(expected, dtype=float)))


def compare_case(
    check: Check,
    probe: Probe,
    got: Any,
    expected: Any,
    formula: str,
    tolerance: tuple[float, float],
    mistakes: Sequence[Mistake] = (),
    label: str | None = None,
) -> Verdict:
    """Judge one received value against the reference; recognise known mistakes on failure."""
    place = label or where(check, probe)
    try:
        value = received(got, expected)
        miss = mismatch(value, expected, *tolerance)
    except NotComparable as error:
        return Verdict.fail(f"{place}: {error}")
    if miss is None:
        return Verdict.ok()
    args, kwargs = probe.params.get("args", ()), probe.params.get("kwargs", {})
    return Verdict.fail(failure_message(place, expected, formula, value, miss),
                        recognise(value, mistakes, args, kwargs, tolerance, probe, scope=label or ""))


def recognise(value: Any, mistakes: Sequence[Mistake], args: Sequence[Any], kwargs: dict, tolerance: tuple[float, float],
              probe: Probe | None = None, scope: str = "") -> str | None:
    """The hint of the known mistake whose answer equals `value`; where several do, a hint that names them all.

    With a `probe`, each mistake's answer is computed once per batch, cached under `scope` (the part of the answer
    being judged, so that one hint judged on two parts of a result keeps two answers).
    """
    hints: list[str] = []
    for mistake in mistakes:
        try:
            compute = lambda: mistake.answer(*args, **kwargs)  # noqa: E731
            wrong = compute() if probe is None else once_per_probe(probe, f"mistake:{scope}:{mistake.hint}", compute)
        except Exception:  # a mistake model that does not apply to these inputs
            continue
        if close(value, wrong, *tolerance) and mistake.hint not in hints:
            hints.append(mistake.hint)
    if len(hints) > 1:  # at these inputs the mistakes give the same answer: naming one would be a guess
        return "at these inputs this answer fits several known mistakes: " + "; or ".join(h.rstrip(".") for h in hints) + "."
    return hints[0] if hints else None


@dataclass(frozen=True)
class Curve:
    """How to draw a training check on the feedback page: `series` picks the curve out of a trajectory."""

    title: str
    ylabel: str
    series: Callable[[Any], Sequence[float]]


def with_curve(verdict: Verdict, curve: Curve, got: Any, expected: Any) -> Verdict:
    """The verdict with the student's curve and the reference's attached for the feedback page."""
    try:
        student = [float(v) for v in curve.series(np.asarray(got, dtype=float))]
        reference = [float(v) for v in curve.series(np.asarray(expected, dtype=float))]
    except (TypeError, ValueError, IndexError):
        return verdict
    return replace(verdict, extras={**verdict.extras, "curves": {"title": curve.title, "ylabel": curve.ylabel,
                                                                 "student": student, "reference": reference}})


def expect(
    reference: Callable[..., Any],
    formula: str,
    mistakes: Sequence[Mistake] = (),
    tolerance: Tolerance = FLOAT64,
    extract: Callable[[Any], Any] = lambda value: value,
    curve: Curve | None = None,
) -> Callable[[Check, Sequence[tuple[Probe, Outcome]]], Verdict]:
    """Each probe's value (after `extract`) must equal `reference(*args, **kwargs)` within `tolerance`.

    With a `curve`, the first probe's trajectory and the reference's are attached for the feedback page.
    """

    def judge(check: Check, cases: Sequence[tuple[Probe, Outcome]]) -> Verdict:
        failed = returned_values(check, cases)
        if failed:
            return failed
        first_curve: dict = {}
        for probe, outcome in cases:
            args, kwargs = probe.params.get("args", ()), probe.params.get("kwargs", {})
            expected = once_per_probe(probe, "reference", lambda: reference(*args, **kwargs))
            limits = tolerance(probe) if callable(tolerance) else tolerance
            try:
                got = extract(outcome.value)
            except (KeyError, IndexError, TypeError) as error:
                return Verdict.fail(f"{where(check, probe)}: returned {fmt(outcome.value)} of an unexpected form ({error})")
            verdict = compare_case(check, probe, got, expected, formula, limits, mistakes)
            if curve is not None and (probe is cases[0][0] or not verdict.passed):
                drawn = with_curve(verdict, curve, got, expected)
                first_curve = first_curve or drawn.extras
                verdict = drawn
            if not verdict.passed:
                return verdict
        return Verdict.ok(first_curve)

    return judge


CaseJudge = Callable[[Check, Probe, Any, Any, tuple[float, float]], Verdict]


def per_case(reference: Callable[..., Any], judge_one: CaseJudge, tolerance: Tolerance = FLOAT64) -> Callable[[Check, Sequence[tuple[Probe, Outcome]]], Verdict]:
    """Judge every probe with `judge_one(check, probe, received, expected, tolerance)`; the first failure wins.

    The reference is `reference(*args, **kwargs)` of the probe's own arguments, computed once per batch.
    """

    def judge(check: Check, cases: Sequence[tuple[Probe, Outcome]]) -> Verdict:
        failed = returned_values(check, cases)
        if failed:
            return failed
        for probe, outcome in cases:
            args, kwargs = probe.params.get("args", ()), probe.params.get("kwargs", {})
            expected = once_per_probe(probe, "reference", lambda: reference(*args, **kwargs))
            verdict = judge_one(check, probe, outcome.value, expected, tolerance(probe) if callable(tolerance) else tolerance)
            if not verdict.passed:
                return verdict
        return Verdict.ok()

    return judge


def expect_raise(exception: str, reason: str) -> Callable[[Check, Sequence[tuple[Probe, Outcome]]], Verdict]:
    """Each probe must raise `exception` (for `Check(expects_errors=True)`); `reason` says why it should."""

    def judge(check: Check, cases: Sequence[tuple[Probe, Outcome]]) -> Verdict:
        for probe, outcome in cases:
            if isinstance(outcome, Raised) and outcome.type_name == exception:
                continue
            if isinstance(outcome, Raised) and outcome.type_name == "NotImplementedError":
                return Verdict.fail(f"{where(check, probe)}: {outcome.describe()}")
            got = f"returned {fmt(outcome.value)}" if isinstance(outcome, Returned) else outcome.describe()
            return Verdict.fail(f"{where(check, probe)}: expected {exception} because {reason}; {got}")
        return Verdict.ok()

    return judge
