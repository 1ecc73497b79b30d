# %% [markdown]
# # Exercise 2 — the derivative of (x·w − y)²
#
# Gradient descent walks downhill: it needs the slope of the loss at the current w. For one sample the loss is
#
#     loss(w) = (x·w − y)²
#
# **By the chain rule.** Call the error e = x·w − y, so loss = e². The outer function squares, and d(e²)/de = 2e.
# The inner function is linear in w, and de/dw = x. Multiplying the two:
#
#     d loss / d w = 2 · (x·w − y) · x
#
# Three things are easy to lose on the way: the factor 2 from the square, the inner factor x, and the sign
# (it is x·w − y, prediction minus target; writing y − x·w needs a minus sign in front).
#
# **Symbolically.** `sympy` does the same algebra: `sympy.diff(expr, w)` differentiates an expression built from
# symbols. Any equivalent form is fine, for example `2*x*(x*w - y)` or `2*w*x**2 - 2*x*y`.
#
# **Numerically.** Without any algebra, the slope of a function f at w can be estimated from two nearby values.
# The *central difference*
#
#     f'(w) ≈ (f(w + h) − f(w − h)) / (2h)
#
# looks symmetrically on both sides of w. Its error shrinks like h², because the terms of even order in the Taylor
# expansion cancel. The one-sided *forward difference* (f(w + h) − f(w)) / h is off by about f''(w)·h/2, which is
# much larger for the same h. A numerical gradient is the usual way to test a hand-derived one.

# %%
from typing import Callable

import sympy

x, w, y = sympy.symbols("x w y")


# %%
def dloss_dw() -> sympy.Expr:
    """The derivative d/dw of (x·w − y)², as a sympy expression in the symbols x, w, y."""
    return sympy.diff((x * w - y) ** 2, w)


def gradient(x: float, y: float, w: float) -> float:
    """The value of d/dw (x·w − y)² = 2·x·(x·w − y) at the given numbers."""
    return 2 * x * (x * w - y)


def numerical_gradient(f: Callable[[float], float], w: float, h: float = 1e-6) -> float:
    """The central difference (f(w + h) − f(w − h)) / (2h), an estimate of f'(w)."""
    return (f(w + h) - f(w - h)) / (2 * h)


# %%
if __name__ == "__main__":
    print("d loss / d w =", dloss_dw())
    print("analytic at x=2, y=4, w=1:", gradient(2.0, 4.0, 1.0))
    print("numerical at the same point:", numerical_gradient(lambda v: (2.0 * v - 4.0) ** 2, 1.0))
