"""Judging sympy answers: the student's expression must equal the grader's own derivation as a function.

Symbols are matched by name (the wire carries only names). A wrong answer is compared with the known mistakes
(each written as a formula text in the same symbols) to add a `Hint:` line; an answer in symbols the exercise does
not use is told which ones are unexpected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import sympy

from grader.compare import describe_type, fmt
from grader.judges import returned_values, where
from grader.model import Check, Outcome, Probe, Verdict
from grader.references import derivative, equivalent, free_names, parse


@dataclass(frozen=True)
class Derivation:
    """d(`function`)/d(`wrt`) in the symbols `symbols` (all names)."""

    function: str
    wrt: str
    symbols: tuple[str, ...]

    @property
    def expected(self) -> sympy.Expr:
        return derivative(self.function, self.wrt)

    @property
    def formula(self) -> str:
        return f"d/d{self.wrt} {self.function}"


@dataclass(frozen=True)
class WrongForm:
    """A known wrong derivative, as formula text in the exercise's symbols; `hint` names the mistake."""

    hint: str
    text: str


def judge_expression(check: Check, probe: Probe, value: Any, derivation: Derivation,
                     mistakes: Sequence[WrongForm] = (), label: str | None = None) -> Verdict:
    """One returned expression against `derivation`."""
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
    if equivalent(value, expected):
        return Verdict.ok()
    hint = next((m.hint for m in mistakes if equivalent(value, parse(m.text))), None)
    difference = sympy.factor(sympy.expand(value - expected))
    return Verdict.fail(f"{place}: expected {expected} from {derivation.formula}, got {value}; "
                        f"they differ by {difference}, which is not 0 for every {names}", hint)


def expect_expression(derivation: Derivation, mistakes: Sequence[WrongForm] = ()) -> Callable[[Check, Sequence[tuple[Probe, Outcome]]], Verdict]:
    """Each probe must return an expression equivalent to `derivation`."""

    def judge(check: Check, cases: Sequence[tuple[Probe, Outcome]]) -> Verdict:
        failed = returned_values(check, cases)
        if failed:
            return failed
        for probe, outcome in cases:
            verdict = judge_expression(check, probe, outcome.value, derivation, mistakes)
            if not verdict.passed:
                return verdict
        return Verdict.ok()

    return judge


def expect_expression_dict(derivations: dict[str, Derivation], mistakes: dict[str, Sequence[WrongForm]]) -> Callable:
    """Each probe must return a dict with exactly the keys of `derivations`, each value an equivalent expression."""

    def judge(check: Check, cases: Sequence[tuple[Probe, Outcome]]) -> Verdict:
        failed = returned_values(check, cases)
        if failed:
            return failed
        for probe, outcome in cases:
            value, place = outcome.value, where(check, probe)
            if not isinstance(value, dict):
                return Verdict.fail(f"{place}: returned {describe_type(value)}; expected a dict with the keys {fmt(list(derivations))}")
            missing = [k for k in derivations if k not in value]
            if missing:
                return Verdict.fail(f"{place}: the dict has the keys {fmt(list(value))}; the key(s) {fmt(missing)} are missing")
            for key, derivation in derivations.items():
                verdict = judge_expression(check, probe, value[key], derivation, mistakes.get(key, ()), label=f"{place}: [{key!r}]")
                if not verdict.passed:
                    return verdict
        return Verdict.ok()

    return judge
