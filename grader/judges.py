"""Judge builders: the common ways a check decides, each returning a `Judge` for `grader.model.Check`.

A judge is split in two (`DataJudge`). Its *logic* ("module:function", shipped to students) decides from plain data:
a static `spec` (the source of the expected value in the problem's own words, the hints of known mistakes, the
tolerance) and, per probe, values looked up by key ("expected", "tolerance", "mistake:0", …). Its *sources*
(instructor side) compute those values from the probe's inputs: a sympy derivation, torch autograd, the grader's own
run of an algorithm, a known mistake's answer. `grader release` runs the sources once per baked probe and ships the
values (`BakedJudge`), so a student's bundle judges exactly as `grader grade` does without holding any reference
implementation.

The central builder is `expect`: each probe's value must equal the reference computed from the probe's own
arguments; on failure the message says what was expected, where it comes from, what came back and by how much it
missed; if the answer matches one of the known `Mistake`s instead, a `Hint:` line names it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from grader.compare import NotComparable, as_array, as_real, close, failure_message, fmt, mismatch, tolerance_for
from grader.model import Check, Outcome, Probe, Raised, Returned, Verdict


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer: `answer(*args, **kwargs)` computes what that mistake returns; `hint` names it."""

    hint: str
    answer: Callable[..., Any]


Tolerance = tuple[float, float] | Callable[[Probe], tuple[float, float]]
Lookup = Callable[[Probe, str], Any]  # the value a judge's logic needs for one probe, by key
Logic = Callable[[Check, Sequence[tuple[Probe, Outcome]], dict, Lookup], Verdict]
Source = Callable[[Probe], Any]
SHOW_FORMULAS = {"enabled": False}  # `grader grade --show-formulas`: instructors' feedback pages show derived formulas


class Unavailable(Exception):
    """A source that does not apply to these inputs (a mistake model that fails on them)."""


def only_if(applies: bool, answer: Callable[[], Any]) -> Any:
    """`answer()` where a known mistake applies to these inputs; `Unavailable` where it does not (never None, which
    would compare as NaN)."""
    if not applies:
        raise Unavailable("this mistake does not apply to these inputs")
    return answer()


FLOAT64 = tolerance_for("float64")


# ------------------------------------------------------------------------------------------------- judges as data


def logic_named(path: str) -> Logic:
    """The logic function `module:function` (a shipped module of the kit)."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def of_call(function: Callable[..., Any]) -> Source:
    """A source computed from a call probe's own arguments: `function(*args, **kwargs)`."""
    return lambda probe: function(*probe.args, **probe.kwargs)


def tolerance_source(tolerance: Tolerance) -> Source:
    return (lambda probe: tuple(tolerance(probe))) if callable(tolerance) else (lambda probe: tuple(tolerance))


def mistake_sources(mistakes: Sequence[Mistake], source: Callable[[Callable[..., Any]], Source] = of_call) -> dict[str, Source]:
    """`mistake:i` -> the answer of the i-th known mistake for a probe."""
    return {f"mistake:{i}": source(m.answer) for i, m in enumerate(mistakes)}


def reference_sources(reference: Callable[..., Any], tolerance: Tolerance, mistakes: Sequence[Mistake]) -> dict[str, Source]:
    """What `expect`'s logic looks up per probe: the reference's answer, the tolerance and each known mistake's answer."""
    return {"expected": of_call(reference), "tolerance": tolerance_source(tolerance), **mistake_sources(mistakes)}


@dataclass(frozen=True, eq=False)
class DataJudge:
    """A judge whose shipped `logic` decides from the static `spec` and the per-probe values of `sources`.

    `formula` is the instructor's derived formula: never shipped, shown only on instructors' request.
    """

    logic: str
    spec: Mapping[str, Any]
    sources: Mapping[str, Source] = field(default_factory=dict)
    formula: str = ""

    def __call__(self, check: Check, cases: Sequence[tuple[Probe, Outcome]]) -> Verdict:
        def lookup(probe: Probe, key: str) -> Any:
            return probe.once((self, key), lambda: self.sources[key](probe))

        spec = {**self.spec, "formula": self.formula} if SHOW_FORMULAS["enabled"] and self.formula else self.spec
        return logic_named(self.logic)(check, cases, dict(spec), lookup)

    def bake(self, probe: Probe) -> dict[str, Any]:
        """Every source's value for `probe` (a source that fails there is marked unavailable)."""
        table = {}
        for key, source in self.sources.items():
            try:
                table[key] = source(probe)
            except Exception as error:  # a mistake model that does not apply to these inputs
                table[key] = {"unavailable": f"{type(error).__name__}: {error}"}
        return table


@dataclass(frozen=True, eq=False)
class BakedJudge:
    """A `DataJudge` as shipped: the same logic and spec, the sources' values per probe computed at release time."""

    logic: str
    spec: Mapping[str, Any]
    table: Sequence[Mapping[str, Any]]  # one per probe of the check, in order
    probes: Sequence[Probe] = ()

    def __call__(self, check: Check, cases: Sequence[tuple[Probe, Outcome]]) -> Verdict:
        index = {id(p): i for i, p in enumerate(check.probes)}

        def lookup(probe: Probe, key: str) -> Any:
            value = self.table[index[id(probe)]][key]
            if isinstance(value, dict) and set(value) == {"unavailable"}:
                raise Unavailable(value["unavailable"])
            return value

        return logic_named(self.logic)(check, cases, dict(self.spec), lookup)


def show_formulas(enabled: bool = True) -> None:
    """Let failure messages name the instructor's derived formula too (feedback pages of a graded class)."""
    SHOW_FORMULAS["enabled"] = enabled


# ------------------------------------------------------------------------------------------------- common steps


def where(check: Check, probe: Probe) -> str:
    """Where a probe looked, as messages name it (rendered once per probe):
    `ex02_derivative.gradient at x=2.0, y=4.0` for a call, the function and its inputs;
    `ex08_lenet.LeNet5() on an input of shape (5, 1, 32, 32)` for a model built and run by a recipe (`on meta` off the CPU).
    """

    def describe() -> str:
        function = probe.function or check.name
        if probe.recipe in MODEL_RECIPES:
            init = ", ".join(f"{k}={v}" for k, v in probe.init.items())
            shape = f" on an input of shape {tuple(probe.x.shape)}" if "x" in probe.params else ""
            device = f" on {probe.device}" if probe.device != "cpu" else ""
            return f"{check.exercise}.{function}({init}){shape}{device}"
        inputs = probe.describe_inputs()
        return f"{check.exercise}.{function} at {inputs}" if inputs else f"{check.exercise}.{function}"

    return probe.once(("where", check.qualified_name), describe)


MODEL_RECIPES = ("models.forward", "models.gradients", "models.summary")  # recipes that build the student's model
RaisedHint = Callable[[Probe, Outcome], "str | None"]  # the known mistake behind an exception, if it names one
Raises = Sequence[tuple[str, str, str]]  # (exception type, a phrase of its message, hint): known mistakes that raise


def raised_hints(known: Raises) -> RaisedHint | None:
    """A `RaisedHint` naming the mistake whose exception type and message phrase match what the student's code raised."""
    if not known:
        return None

    def hint(probe: Probe, outcome: Outcome) -> str | None:
        if not isinstance(outcome, Raised):
            return None
        return next((h for kind, phrase, h in known if outcome.type_name == kind and phrase in outcome.message), None)

    return hint


def returned_values(check: Check, cases: Sequence[tuple[Probe, Outcome]], raised_hint: RaisedHint | None = None, *,
                    label: Callable[[Probe], str] | None = None, note: str = "") -> Verdict | None:
    """A failing verdict for the first probe that did not return, None when all returned.

    The message is `place: what happened` (`place` from `label`, else `where`), then `note`; `raised_hint` may name
    the mistake behind what the student's code raised (never behind a stub that is not implemented yet).
    """
    for probe, outcome in cases:
        if not isinstance(outcome, Returned):
            place = label(probe) if label else where(check, probe)
            stub = isinstance(outcome, Raised) and outcome.is_stub  # nothing written yet: no mistake to name
            hint = None if raised_hint is None or stub else raised_hint(probe, outcome)
            return Verdict.fail(f"{place}: {outcome.describe()}{note}", hint)
    return None


def received(value: Any, expected: Any) -> Any:
    """The received value converted to the expected value's kind: a real number or a float array."""
    if np.ndim(expected) == 0 and not isinstance(expected, (list, tuple)):
        return as_real(value)
    return as_array(value, np.shape(np.asarray(expected, dtype=float)))


Known = tuple[str, Callable[[], Any]]  # a known mistake's hint, and a thunk computing its answer for this probe


def known_mistakes(mistakes: Sequence[Mistake | Known], probe: Probe, scope: str = "") -> list[Known]:
    """(hint, answer thunk) pairs; a `Mistake`'s answer comes from the probe's own arguments, once per batch."""
    args, kwargs = probe.args, probe.kwargs
    known = []
    for mistake in mistakes:
        if isinstance(mistake, Mistake):
            answer = mistake.answer
            known.append((mistake.hint, lambda answer=answer, hint=mistake.hint: probe.once(
                ("mistake", scope, hint), lambda: answer(*args, **kwargs))))
        else:
            known.append(mistake)
    return known


def looked_up(spec: Mapping[str, Any], lookup: Lookup, probe: Probe, through: Callable[[Any], Any] | None = None) -> list[Known]:
    """The known mistakes of a data judge: hint `spec["hints"][i]`, answer the probe's `mistake:i` value."""
    def thunk(i: int) -> Callable[[], Any]:
        return lambda: lookup(probe, f"mistake:{i}") if through is None else through(lookup(probe, f"mistake:{i}"))

    return [(hint, thunk(i)) for i, hint in enumerate(spec.get("hints", ()))]


def compare_case(
    check: Check,
    probe: Probe,
    got: Any,
    expected: Any,
    source: str,
    tolerance: tuple[float, float],
    mistakes: Sequence[Mistake | Known] = (),
    label: str | None = None,
    *,
    formula: str = "",
    shaped: bool = False,
) -> Verdict:
    """Judge one received value against the reference; recognise known mistakes on failure.

    With `shaped`, a mistake whose answer has another shape than the reference (a transposed Jacobian, a Hessian
    instead of a gradient, one epoch too few) is recognised too, though such an answer fails on shape first.
    """
    place = label or where(check, probe)
    known = known_mistakes(mistakes, probe, scope=label or "")
    try:
        value = received(got, expected)
        miss = mismatch(value, expected, *tolerance)
    except NotComparable as error:
        return Verdict.fail(f"{place}: {error}", shaped_hint(got, expected, known, tolerance) if shaped else None)
    if miss is None:
        return Verdict.ok()
    return Verdict.fail(failure_message(place, expected, source, value, miss, formula), recognise_known(value, known, tolerance))


def shaped_hint(got: Any, expected: Any, known: Sequence[Known], tolerance: tuple[float, float]) -> str | None:
    """The hint of a known mistake whose answer has the received value's shape, not the reference's, and its values."""
    try:
        value = as_array(got)
    except NotComparable:
        return None
    for hint, answer in known:
        try:
            wrong = np.asarray(answer(), dtype=float)
        except Exception:  # a mistake model that does not apply to these inputs
            continue
        if wrong.shape == value.shape and wrong.shape != np.shape(expected) and close(value, wrong, *tolerance):
            return hint
    return None


def recognise_known(value: Any, known: Sequence[Known], tolerance: tuple[float, float]) -> str | None:
    """The hint of the known mistake whose answer equals `value`; where several do, a hint that names them all."""
    hints: list[str] = []
    for hint, answer in known:
        try:
            wrong = answer()
        except Exception:  # a mistake model that does not apply to these inputs
            continue
        if close(value, wrong, *tolerance) and hint not in hints:
            hints.append(hint)
    if len(hints) > 1:  # at these inputs the mistakes give the same answer: naming one would be a guess
        return "at these inputs this answer fits several known mistakes: " + "; or ".join(h.rstrip(".") for h in hints) + "."
    return hints[0] if hints else None


def recognise(value: Any, mistakes: Sequence[Mistake], args: Sequence[Any], kwargs: dict, tolerance: tuple[float, float],
              probe: Probe | None = None, scope: str = "") -> str | None:
    """`recognise_known` for `Mistake`s answered from `args` (cached per batch when a `probe` is given)."""
    if probe is not None:
        return recognise_known(value, known_mistakes(mistakes, probe, scope), tolerance)
    return recognise_known(value, [(m.hint, lambda m=m: m.answer(*args, **kwargs)) for m in mistakes], tolerance)


# ------------------------------------------------------------------------------------------------- parts of a value


@dataclass(frozen=True)
class Part:
    """Which part of a returned value a judge compares: `whole`, a `column` of rows, one `item`, or some `items`."""

    kind: str = "whole"
    index: tuple[int, ...] = ()

    def __call__(self, value: Any) -> Any:
        if self.kind == "column":
            return [row[self.index[0]] for row in value]
        if self.kind == "item":
            return list(value[self.index[0]])
        if self.kind == "items":
            return [value[i] for i in self.index]
        return value

    def to_data(self) -> list:
        return [self.kind, list(self.index)]

    @classmethod
    def from_data(cls, data: Any) -> "Part | Callable[[Any], Any]":
        """A part from its plain data; a Part or any other callable is returned as it is (a callable cannot be baked)."""
        if isinstance(data, Part) or callable(data):
            return data
        return cls() if data is None else cls(str(data[0]), tuple(int(i) for i in data[1]))


def part_data(part: Any) -> Any:
    """A part as plain data for a spec (a callable that is not a `Part` stays, and makes the judge unbakeable)."""
    return part.to_data() if isinstance(part, Part) else part


WHOLE = Part()


def column(index: int) -> Part:
    """One column of a trajectory (a list of rows, or a 2-d array)."""
    return Part("column", (index,))


def item(index: int) -> Part:
    """`list(value[index])`: a sequence inside a returned tuple."""
    return Part("item", (index,))


def items(*indices: int) -> Part:
    """`[value[i] for i in indices]`: some entries of a returned tuple."""
    return Part("items", tuple(indices))


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


# ------------------------------------------------------------------------------------------------- expect


DEFAULT_SOURCE = "the grader's reference for these inputs"


def expect(
    reference: Callable[..., Any],
    formula: str,
    mistakes: Sequence[Mistake] = (),
    tolerance: Tolerance = FLOAT64,
    extract: Part = WHOLE,
    curve: Curve | None = None,
    *,
    source: str = DEFAULT_SOURCE,
    shaped: bool = False,
    raises: Raises = (),
) -> DataJudge:
    """Each probe's value (its `extract` part) must equal `reference(*args, **kwargs)` within `tolerance`.

    `source` says where the expected value comes from in the problem's own words (what a student reads);
    `formula` is the instructor's derived formula (never shipped; shown with `grader grade --show-formulas`).
    With a `curve`, the first probe's trajectory and the reference's are attached for the feedback page.
    `raises` names known mistakes by the exception they raise.
    """
    spec = {"source": source, "hints": [m.hint for m in mistakes], "extract": part_data(extract), "shaped": shaped,
            "raises": [list(r) for r in raises]}
    if curve is not None:
        spec["curve"] = curve
    sources = reference_sources(reference, tolerance, mistakes)
    return DataJudge("grader.judges:judge_expected", spec, sources, formula)


def judge_expected(check: Check, cases: Sequence[tuple[Probe, Outcome]], spec: Mapping[str, Any], lookup: Lookup) -> Verdict:
    """The logic of `expect`: each probe's part equals its `expected` value; known mistakes give the hint."""
    failed = returned_values(check, cases, raised_hints(spec.get("raises", ())))
    if failed:
        return failed
    part, curve = Part.from_data(spec.get("extract")), spec.get("curve")
    first_curve: dict = {}
    for probe, outcome in cases:
        expected, limits = lookup(probe, "expected"), tuple(lookup(probe, "tolerance"))
        try:
            got = part(outcome.value)
        except (KeyError, IndexError, TypeError) as error:
            return unexpected_form(check, probe, outcome.value, error)
        verdict = compare_case(check, probe, got, expected, spec["source"], limits, looked_up(spec, lookup, probe),
                               formula=spec.get("formula", ""), shaped=spec.get("shaped", False))
        if curve is not None and (probe is cases[0][0] or not verdict.passed):
            drawn = with_curve(verdict, curve, got, expected)
            first_curve = first_curve or drawn.extras
            verdict = drawn
        if not verdict.passed:
            return verdict
    return Verdict.ok(first_curve)


def unexpected_form(check: Check, probe: Probe, value: Any, error: Exception) -> Verdict:
    """The failure of a returned value whose part a judge compares could not be taken out of it."""
    return Verdict.fail(f"{where(check, probe)}: returned {fmt(value)} of an unexpected form ({error})")


def expect_parts(reference: Callable[..., Any], formula: str, parts: Sequence[tuple[str, Part]], mistakes: Sequence[Mistake] = (),
                 tolerance: Tolerance = FLOAT64, *, source: str = DEFAULT_SOURCE, raises: Raises = ()) -> DataJudge:
    """Each probe's value must equal `reference(*args, **kwargs)` part by part; `parts` are (label, `Part`) pairs."""
    spec = {"source": source, "hints": [m.hint for m in mistakes], "parts": [[label, part_data(p)] for label, p in parts],
            "raises": [list(r) for r in raises]}
    sources = reference_sources(reference, tolerance, mistakes)
    return DataJudge("grader.judges:judge_parts", spec, sources, formula)


def judge_parts(check: Check, cases: Sequence[tuple[Probe, Outcome]], spec: Mapping[str, Any], lookup: Lookup) -> Verdict:
    """The logic of `expect_parts`: each part of each probe's value equals that part of its `expected` value."""
    failed = returned_values(check, cases, raised_hints(spec.get("raises", ())))
    if failed:
        return failed
    for probe, outcome in cases:
        expected, limits = lookup(probe, "expected"), tuple(lookup(probe, "tolerance"))
        for label, data in spec["parts"]:
            part = Part.from_data(data)
            try:
                got = part(outcome.value)
            except (KeyError, IndexError, TypeError, ValueError) as error:
                return unexpected_form(check, probe, outcome.value, error)
            place = f"{where(check, probe)}: {label}" if label else None
            verdict = compare_case(check, probe, got, part(expected), spec["source"], limits, looked_up(spec, lookup, probe, part),
                                   place, formula=spec.get("formula", ""), shaped=True)
            if not verdict.passed:
                return verdict
    return Verdict.ok()


CaseJudge = Callable[[Check, Probe, Any, Any, tuple[float, float]], Verdict]


def per_case(reference: Callable[..., Any], judge_one: CaseJudge, tolerance: Tolerance = FLOAT64) -> Callable[[Check, Sequence[tuple[Probe, Outcome]]], Verdict]:
    """Judge every probe with `judge_one(check, probe, received, expected, tolerance)`; the first failure wins.

    Instructor side only (its judge is code, not data): a public check uses `expect` or another `DataJudge`.
    """

    def judge(check: Check, cases: Sequence[tuple[Probe, Outcome]]) -> Verdict:
        failed = returned_values(check, cases)
        if failed:
            return failed
        for probe, outcome in cases:
            args, kwargs = probe.args, probe.kwargs
            expected = probe.once(("reference", reference), lambda: reference(*args, **kwargs))
            verdict = judge_one(check, probe, outcome.value, expected, tolerance(probe) if callable(tolerance) else tolerance)
            if not verdict.passed:
                return verdict
        return Verdict.ok()

    return judge


def expect_raise(exception: str, reason: str, also: Sequence[str] = ()) -> DataJudge:
    """Each probe must raise `exception` (or one of `also`) for `Check(expects_errors=True)`; `reason` says why."""
    return DataJudge("grader.judges:judge_raises", {"exception": exception, "reason": reason, "also": list(also)})


def judge_raises(check: Check, cases: Sequence[tuple[Probe, Outcome]], spec: Mapping[str, Any], lookup: Lookup) -> Verdict:
    """The logic of `expect_raise`."""
    exception = spec["exception"]
    for probe, outcome in cases:
        if isinstance(outcome, Raised) and outcome.type_name in (exception, *spec.get("also", ())):
            continue
        if isinstance(outcome, Raised) and outcome.type_name == "NotImplementedError":
            return Verdict.fail(f"{where(check, probe)}: {outcome.describe()}")
        got = f"returned {fmt(outcome.value)}" if isinstance(outcome, Returned) else outcome.describe()
        return Verdict.fail(f"{where(check, probe)}: expected {exception} because {spec['reason']}; {got}")
    return Verdict.ok()


def digest(value: Any, salt: str) -> str:
    """A hash of `value` (its repr) salted with `salt`: an expectation a bundle may hold without printing it. A judge
    compares a received value's digest with it (an int or a shape, exactly)."""
    import hashlib

    return hashlib.sha256(f"{salt}|{value!r}".encode()).hexdigest()[:24]


def static(logic: str, **spec: Any) -> DataJudge:
    """A judge that needs no reference value: its logic decides from `spec` (plain data) and what came back."""
    return DataJudge(logic, spec)
