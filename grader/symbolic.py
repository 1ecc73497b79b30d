"""Judging sympy answers: the student's expression must equal the derivative of the problem's own function.

The derivative is derived at check time from the function's text (`sympy.diff`, `grader.references.derivative`),
so neither the grader nor a student bundle holds its closed form. Symbols are matched by name (the wire carries
only names). A wrong answer is compared with the known mistakes numerically: each `WrongForm` (a formula text, on
the instructor's side only) is evaluated at a few fixed points, and those values are what a bundle ships, so the
`Hint:` line works without the mistake's formula. An answer in symbols the exercise does not use is told which
ones are unexpected.
"""

from __future__ import annotations

import functools
import math
import random
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import sympy

from grader.compare import describe_type, fmt
from grader.judges import DataJudge, Lookup, returned_values, where
from grader.model import Check, Outcome, Probe, Verdict
from grader.references import derivative, equivalent, free_names, parse

POINTS = 3  # points at which known wrong forms are evaluated


def spoken(text: str) -> str:
    """A formula text as the exercise writes it: `(x*w - y)**2` reads `(x·w − y)²`."""
    return text.replace("**2", "²").replace("**3", "³").replace(" - ", " − ").replace("*", "·")


@dataclass(frozen=True)
class Derivation:
    """d(`function`)/d(`wrt`) in the symbols `symbols` (all names); `function` is the problem's own text."""

    function: str
    wrt: str
    symbols: tuple[str, ...]

    @property
    def expected(self) -> sympy.Expr:
        return derivative(self.function, self.wrt)

    @property
    def formula(self) -> str:
        return f"d/d{self.wrt} {self.function}"

    @property
    def source(self) -> str:
        return f"sympy: d/d{self.wrt} of {spoken(self.function)}"

    def to_data(self) -> list:
        return [self.function, self.wrt, list(self.symbols)]

    @classmethod
    def from_data(cls, data: Sequence) -> "Derivation":
        return cls(str(data[0]), str(data[1]), tuple(data[2]))

    def points(self) -> list[dict[str, float]]:
        """Fixed points (the same on every run) at which wrong forms are told apart numerically."""
        rng = random.Random(f"{self.function}|{self.wrt}")
        return [{name: round(rng.uniform(-3, 3), 3) for name in self.symbols} for _ in range(POINTS)]


@dataclass(frozen=True)
class WrongForm:
    """A known wrong derivative, as formula text in the exercise's symbols; `hint` names the mistake."""

    hint: str
    text: str


def value_at(expr: Any, point: Mapping[str, float]) -> float | None:
    """The real value of an expression at a point given by symbol names; None where it has none (memoised by the
    expression and the point: students with the same answer cost one evaluation)."""
    try:
        return _value_at(expr, tuple(point.items()))
    except TypeError:  # an unhashable value
        return _value_at.__wrapped__(expr, tuple(point.items()))


@functools.lru_cache(maxsize=8192)
def _value_at(expr: Any, point: tuple[tuple[str, float], ...]) -> float | None:
    try:
        number = complex(expr.subs({sympy.Symbol(k): v for k, v in point}).evalf())
    except (TypeError, ValueError, AttributeError):
        return None
    return number.real if abs(number.imag) < 1e-12 and math.isfinite(number.real) else None


@functools.lru_cache(maxsize=4096)
def same_function(received: sympy.Basic, expected: sympy.Basic) -> bool:
    """`equivalent(received, expected)`, derived once per distinct answer in a class (sympy expressions are hashable
    and equal when their trees are: two students with the same expression cost one simplification)."""
    return equivalent(received, expected)


def same_values(got: Sequence[float | None], wanted: Sequence[float]) -> bool:
    return all(g is not None and math.isclose(g, w, rel_tol=1e-9, abs_tol=1e-9) for g, w in zip(got, wanted))


def form_sources(derivation: Derivation, mistakes: Sequence[WrongForm], prefix: str = "") -> dict:
    """`{prefix}points` and `{prefix}mistake:i`: each wrong form's values at the derivation's fixed points."""
    points = derivation.points()
    sources = {f"{prefix}points": lambda probe: points}
    for i, mistake in enumerate(mistakes):
        sources[f"{prefix}mistake:{i}"] = lambda probe, text=mistake.text: [value_at(parse(text), p) for p in points]
    return sources


def judge_expression(check: Check, probe: Probe, value: Any, derivation: Derivation, hints: Sequence[str], lookup: Lookup,
                     prefix: str = "", label: str | None = None) -> Verdict:
    """One returned expression against `derivation`, derived now; known wrong forms recognised by their values."""
    place = label or where(check, probe)
    names = ", ".join(derivation.symbols)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = sympy.sympify(value)
    if not isinstance(value, sympy.Basic) or isinstance(value, sympy.MatrixBase):
        return Verdict.fail(f"{place}: returned {describe_type(value)}; expected a sympy expression in the symbols {names}",
                            "build the expression from sympy symbols, e.g. sympy.symbols(\"" + " ".join(derivation.symbols) + "\"), "
                            "and return it, not a number or a Python function.")
    unexpected = sorted(free_names(value) - set(derivation.symbols))
    if unexpected:
        return Verdict.fail(
            f"{place}: the expression {value} contains the symbol(s) {', '.join(unexpected)}, which the exercise does not use; "
            f"write it in the symbols {names} only (created with sympy.symbols(\"{' '.join(derivation.symbols)}\"))")
    expected = derivation.expected
    if same_function(value, expected):
        return Verdict.ok()
    points = lookup(probe, f"{prefix}points")
    got = [value_at(value, p) for p in points]
    hint = None
    for i, text in enumerate(hints):
        try:
            wrong = lookup(probe, f"{prefix}mistake:{i}")
        except Exception:  # noqa: BLE001 - a wrong form that has no value there
            continue
        if all(w is not None for w in wrong) and same_values(got, wrong):
            hint = text
            break
    return Verdict.fail(f"{place}: {differs(value, expected, derivation, points)}", hint)


def differs(value: Any, expected: Any, derivation: Derivation, points: Sequence[Mapping[str, float]]) -> str:
    """How a wrong expression differs, shown at a point (values, never the derivative's closed form)."""
    names = ", ".join(derivation.symbols)
    for point in points:
        got, wanted = value_at(value, point), value_at(expected, point)
        if wanted is not None and (got is None or not math.isclose(got, wanted, rel_tol=1e-9, abs_tol=1e-9)):
            at = ", ".join(f"{k}={fmt(v)}" for k, v in point.items())
            return (f"got {value}, which is not equal to the derivative ({derivation.source}) for every {names}: "
                    f"at {at} it gives {fmt(got)}, the derivative {fmt(wanted)}")
    return f"got {value}, which is not equal to the derivative ({derivation.source}) for every {names}: their difference does not simplify to 0"


def expect_expression(derivation: Derivation, mistakes: Sequence[WrongForm] = ()) -> DataJudge:
    """Each probe must return an expression equivalent to `derivation`."""
    spec = {"derivation": derivation.to_data(), "hints": [m.hint for m in mistakes]}
    return DataJudge("grader.symbolic:judge_expressions", spec, form_sources(derivation, mistakes),
                     f"{derivation.expected} = {derivation.formula}")


def judge_expressions(check: Check, cases: Sequence[tuple[Probe, Outcome]], spec: Mapping[str, Any], lookup: Lookup) -> Verdict:
    """The logic of `expect_expression`."""
    failed = returned_values(check, cases)
    if failed:
        return failed
    derivation = Derivation.from_data(spec["derivation"])
    for probe, outcome in cases:
        verdict = judge_expression(check, probe, outcome.value, derivation, spec["hints"], lookup)
        if not verdict.passed:
            return verdict
    return Verdict.ok()


def expect_expression_dict(derivations: dict[str, Derivation], mistakes: dict[str, Sequence[WrongForm]]) -> DataJudge:
    """Each probe must return a dict with exactly the keys of `derivations`, each value an equivalent expression."""
    spec = {"derivations": {k: d.to_data() for k, d in derivations.items()},
            "hints": {k: [m.hint for m in mistakes.get(k, ())] for k in derivations}}
    sources = {name: source for key, d in derivations.items() for name, source in form_sources(d, mistakes.get(key, ()), f"{key}:").items()}
    return DataJudge("grader.symbolic:judge_expression_dict", spec, sources,
                     "; ".join(f"{k}: {d.expected} = {d.formula}" for k, d in derivations.items()))


def judge_expression_dict(check: Check, cases: Sequence[tuple[Probe, Outcome]], spec: Mapping[str, Any], lookup: Lookup) -> Verdict:
    """The logic of `expect_expression_dict`."""
    failed = returned_values(check, cases)
    if failed:
        return failed
    derivations = {k: Derivation.from_data(d) for k, d in spec["derivations"].items()}
    for probe, outcome in cases:
        value, place = outcome.value, where(check, probe)
        if not isinstance(value, dict):
            return Verdict.fail(f"{place}: returned {describe_type(value)}; expected a dict with the keys {fmt(list(derivations))}")
        missing = [k for k in derivations if k not in value]
        if missing:
            return Verdict.fail(f"{place}: the dict has the keys {fmt(list(value))}; the key(s) {fmt(missing)} are missing")
        for key, derivation in derivations.items():
            verdict = judge_expression(check, probe, value[key], derivation, spec["hints"][key], lookup, f"{key}:", label=f"{place}: [{key!r}]")
            if not verdict.passed:
                return verdict
    return Verdict.ok()
