# %% [markdown]
# # Exercise 1 — the linear model, its loss, and searching for w
#
# We study for x hours and score y points. Three observations suggest a straight line through the origin:
#
# | x (hours) | y (points) |
# |-----------|------------|
# | 1         | 2          |
# | 2         | 4          |
# | 3         | 6          |
#
# **Model.** The prediction for input x with weight w is ŷ = x · w.
#
# **Loss of one sample.** How wrong one prediction is: loss(w) = (ŷ − y)² = (x·w − y)².
#
# **Cost over the data.** The mean squared error (MSE) over all N samples:
# cost(w) = (1/N) Σₙ (xₙ·w − yₙ)². It is a mean, not a sum: the cost does not grow with the size of the data.
#
# Plotting the cost for w = 0, 1, 2, 3, 4 gives 56/3, 14/3, 0, 14/3, 56/3: a parabola with its lowest point at w = 2.
#
# **Searching.** Before calculus, one can simply try many values of w (exhaustive *grid search*). With one weight
# and n points that is n evaluations; with d weights it is n^d, which explodes. A cheaper idea is *divide and
# conquer*: search a coarse grid, then a finer grid around the best point, and so on. With 4 points per axis and two
# weights that is 16 + 16 = 32 evaluations for two rounds instead of 16 × 16 = 256 for a grid as fine. Both can
# miss the global minimum of a cost that is not a smooth bowl — which is why the next lectures turn to gradients.

# %%
import itertools
from typing import Callable, Sequence

import numpy as np

XS = [1.0, 2.0, 3.0]
YS = [2.0, 4.0, 6.0]


# %%
def forward(x: float, w: float) -> float:
    """The linear model's prediction ŷ = x · w."""
    return x * w


def loss(x: float, y: float, w: float) -> float:
    """The squared error of one sample, (ŷ − y)²."""
    return (forward(x, w) - y) ** 2


def cost(xs: Sequence[float], ys: Sequence[float], w: float) -> float:
    """The mean of `loss` over the data (MSE)."""
    return sum(loss(x, y, w) for x, y in zip(xs, ys)) / len(xs)


def loss_curve(xs: Sequence[float], ys: Sequence[float], ws: Sequence[float]) -> list[float]:
    """`cost` at each w of `ws`, in order."""
    return [cost(xs, ys, w) for w in ws]


# %% [markdown]
# ## Grid search and divide and conquer
#
# **`grid_search(cost_fn, bounds, n)`** — `bounds` holds one `(lo, hi)` pair per weight, so d = len(bounds). Each
# axis is `numpy.linspace(lo, hi, n)`, and the points of the grid are visited in `itertools.product` order (the
# last axis changes fastest). `cost_fn` takes one tuple of d Python floats and returns a number; call it exactly once
# per grid point, n^d calls in all, and never again. Return `(best_point, evaluations)`: `best_point` is the tuple of
# d floats with the smallest cost — on a tie, the point visited *first* — and `evaluations` is the number of calls
# you made, n^d.
#
# **`refine_search(cost_fn, bounds, n=4, rounds=2)`** (n ≥ 2) runs that grid `rounds` times. After each round every
# axis shrinks around *that round's* best point b: with step = (hi − lo)/(n − 1) on that axis, the new bounds are
# `(max(lo, b − step), min(hi, b + step))`, so they never leave the current ones. It returns
# `(best_point, evaluations)` where
#
# - `best_point` is the best point seen in *any* round (a later grid need not contain the previous best point, so
#   its own best can be worse), ties going to the point evaluated first;
# - `evaluations` is rounds · n^d, and that is also exactly how many times `cost_fn` may be called: keep the cost of
#   every point you evaluate instead of calling `cost_fn` again (for example on the best point at the end).
#
# Self-check on the lecture's data with one weight: `grid_search(lambda p: cost(XS, YS, p[0]), [(0.0, 4.0)], 5)`
# visits w = 0, 1, 2, 3, 4 and returns `((2.0,), 5)`.

# %%
def grid_search(cost_fn: Callable, bounds: Sequence[tuple[float, float]], n: int) -> tuple[tuple[float, ...], int]:
    """Exhaustive search over an n-point grid per axis, one `cost_fn` call per point: (best point, n**d)."""
    axes = [np.linspace(lo, hi, n) for lo, hi in bounds]
    best_point, best_cost, evaluations = None, None, 0
    for point in itertools.product(*axes):
        point = tuple(float(p) for p in point)
        value = cost_fn(point)
        evaluations += 1
        if best_cost is None or value < best_cost:
            best_point, best_cost = point, value
    return best_point, evaluations


def refine_search(cost_fn: Callable, bounds: Sequence[tuple[float, float]], n: int = 4, rounds: int = 2) -> tuple[tuple[float, ...], int]:
    """Divide and conquer: `rounds` grids, each shrunk around the previous round's best; (best point seen,
    rounds * n**d), calling `cost_fn` exactly rounds * n**d times."""
    bounds = [(float(lo), float(hi)) for lo, hi in bounds]
    best_point, best_cost, evaluations = None, None, 0
    for _ in range(rounds):
        axes = [np.linspace(lo, hi, n) for lo, hi in bounds]
        round_point, round_cost = None, None
        for point in itertools.product(*axes):
            point = tuple(float(p) for p in point)
            value = cost_fn(point)
            evaluations += 1
            if round_cost is None or value < round_cost:
                round_point, round_cost = point, value
        if best_cost is None or round_cost < best_cost:
            best_point, best_cost = round_point, round_cost
        steps = [(hi - lo) / (n - 1) for lo, hi in bounds]
        bounds = [(max(lo, b - s), min(hi, b + s)) for (lo, hi), b, s in zip(bounds, round_point, steps)]
    return best_point, evaluations


# %%
if __name__ == "__main__":
    print("cost at w = 0..4:", loss_curve(XS, YS, [0, 1, 2, 3, 4]))
    print("grid search:", grid_search(lambda p: cost(XS, YS, p[0]), [(0.0, 4.0)], 41))
