"""References derived by the grader itself: sympy derivations, differentiated once and compiled once.

`derivative("(x*w - y)**2", "w")` returns the sympy expression d/dw of the text; `compiled(text, wrt, args)` the
same derivative as a fast numeric function of `args`. Both are cached, so a batch derives each reference once.
Symbols are matched by name, so a student's `sympy.symbols("x w y")` compares equal to ours.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable, Sequence

import sympy


@lru_cache(maxsize=None)
def parse(text: str) -> sympy.Expr:
    """A grader-written formula (never a student's) as a sympy expression."""
    return sympy.sympify(text)


@lru_cache(maxsize=None)
def derivative(text: str, wrt: str) -> sympy.Expr:
    """d(text)/d(wrt), simplified."""
    return sympy.simplify(sympy.diff(parse(text), sympy.Symbol(wrt)))


@lru_cache(maxsize=None)
def compiled(text: str, wrt: str | None, args: tuple[str, ...]) -> Callable[..., Any]:
    """The formula (or its derivative with respect to `wrt`) as a numeric function of `args`, via `lambdify`."""
    expr = parse(text) if wrt is None else derivative(text, wrt)
    return sympy.lambdify([sympy.Symbol(a) for a in args], expr, modules="math")


def equivalent(received: Any, expected: sympy.Expr) -> bool:
    """True when two expressions are equal as functions: their difference simplifies to 0."""
    if isinstance(received, sympy.MatrixBase) or isinstance(expected, sympy.MatrixBase):
        if not (isinstance(received, sympy.MatrixBase) and isinstance(expected, sympy.MatrixBase)) or received.shape != expected.shape:
            return False
        return all(equivalent(a, b) for a, b in zip(received, expected))
    if not isinstance(received, sympy.Basic):
        return False
    return sympy.simplify(sympy.expand(received - expected)) == 0


def free_names(expr: sympy.Basic) -> set[str]:
    """Names of the free symbols of an expression (to tell a student which symbols are unexpected)."""
    return {s.name for s in expr.free_symbols}


def numeric(text: str, args: Sequence[str]) -> Callable[..., Any]:
    """The formula itself as a numeric function of `args`."""
    return compiled(text, None, tuple(args))
