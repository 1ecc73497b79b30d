# %% [markdown]
# # Exercise 2 — the derivative of (x·w − y)²
#
# Gradient descent walks downhill: it needs the slope of the loss at the current w. For one sample (x, y) the loss
# of the model ŷ = x·w is
#
#     loss(w) = (x·w − y)²
#
# **Your question (the lecture's): d loss / d w = ?** Work it out on paper first, then write it three ways below.
#
# **Method: the chain rule.** When a function is built as an outer function of an inner one, f(w) = g(h(w)), its
# derivative is the outer derivative taken at the inner value, times the inner derivative: f′(w) = g′(h(w))·h′(w).
# Worked on a *different* function, f(w) = sin(a·w − c): the outer function is sin, with derivative cos; the inner
# one is a·w − c, with derivative a; so f′(w) = cos(a·w − c)·a. Forgetting the inner factor, or a sign inside the
# inner function, are the usual slips.
#
# **Symbolically.** `sympy` does the same algebra: after `a, c, w = sympy.symbols("a c w")`,
# `sympy.diff(sympy.sin(a*w - c), w)` gives `a*cos(a*w - c)`. An expression built from the module's symbols `x, w, y`
# (defined below) can be differentiated the same way, or you may type the derivative you found by hand.
#
# **Numerically.** Without any algebra, the slope of a function f at w can be estimated from two nearby values.
# The *central difference*
#
#     f'(w) ≈ (f(w + h) − f(w − h)) / (2h)
#
# looks symmetrically on both sides of w. Its error shrinks like h², because the terms of even order in the Taylor
# expansion cancel. The one-sided *forward difference* (f(w + h) − f(w)) / h is off by about f''(w)·h/2, which is
# much larger for the same h. A numerical gradient is the usual way to test a hand-derived one: compare your
# `gradient` with `numerical_gradient(lambda v: (x·v − y)², w)` at a few points.
#
# ## What to write
#
# - `dloss_dw() -> sympy.Expr`: d/dw of (x·w − y)², in the symbols `x, w, y = sympy.symbols("x w y")` (use the
#   module-level ones). Any equivalent form is right: the grader matches the symbols by name and compares by
#   simplification.
# - `gradient(x, y, w) -> float`: the value of that derivative at the given numbers (note the argument order: x, y, w).
#   Self-check: at x = 2, y = 4, w = 1 it equals `numerical_gradient(lambda v: (2*v - 4)**2, 1.0)`.
# - `numerical_gradient(f, w, h=1e-6) -> float`: the central difference above, for any function f: float → float.

# %%
from typing import Callable

import sympy

x, w, y = sympy.symbols("x w y")


# %%
def dloss_dw() -> sympy.Expr:
    """The derivative d/dw of (x·w − y)², as a sympy expression in the symbols x, w, y."""
    return sympy.diff((x * w - y) ** 2, w)


def gradient(x: float, y: float, w: float) -> float:
    """The value of d/dw (x·w − y)² at the given numbers."""
    return x * (x * w - y)


def numerical_gradient(f: Callable[[float], float], w: float, h: float = 1e-6) -> float:
    """The central difference (f(w + h) − f(w − h)) / (2h), an estimate of f'(w)."""
    return (f(w + h) - f(w - h)) / (2 * h)


# %%
if __name__ == "__main__":
    print("d loss / d w =", dloss_dw())
    print("analytic at x=2, y=4, w=1:", gradient(2.0, 4.0, 1.0))
    print("numerical at the same point:", numerical_gradient(lambda v: (2.0 * v - 4.0) ** 2, 1.0))
