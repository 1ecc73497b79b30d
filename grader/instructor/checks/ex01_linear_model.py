"""Checks of ex01_linear_model: the model, its loss and cost, the loss curve, grid search and divide and conquer."""

from __future__ import annotations

import itertools
import random
from typing import Callable, Sequence

import numpy as np

from grader.judges import DataJudge, Mistake, expect, mistake_sources, of_call, only_if
from grader.model import Check, Probe, call
from grader.public.ex01_linear_model import FIRST_WINS
from grader.probes.functions import CATALOGUE
from grader.wire import FunctionRef

EXERCISE = "ex01_linear_model"
XS, YS = [1.0, 2.0, 3.0], [2.0, 4.0, 6.0]


# ------------------------------------------------------------------------------------------------- references


def forward(x: float, w: float) -> float:
    return x * w


def loss(x: float, y: float, w: float) -> float:
    return (x * w - y) ** 2


def cost(xs: Sequence[float], ys: Sequence[float], w: float) -> float:
    return sum(loss(x, y, w) for x, y in zip(xs, ys)) / len(xs)


def grid(bounds: Sequence[Sequence[float]], n: int) -> list[tuple[float, ...]]:
    """Every grid point in `itertools.product` order, each axis `numpy.linspace(lo, hi, n)`."""
    return [tuple(float(p) for p in point) for point in itertools.product(*(np.linspace(lo, hi, n) for lo, hi in bounds))]


def argmin_first(points: Sequence[tuple[float, ...]], cost_fn: Callable) -> tuple[tuple[float, ...], float]:
    """The first point with the smallest cost, and that cost."""
    costs = [cost_fn(p) for p in points]
    best = int(np.argmin(costs))
    return points[best], costs[best]


def refine(cost_fn: Callable, bounds: Sequence[Sequence[float]], n: int, rounds: int, clamp: bool = True, overall: bool = True,
           intervals: int | None = None):
    """Divide and conquer as SPEC.md defines it; `clamp=False`, `overall=False`, `intervals=n` model known mistakes."""
    bounds = [(float(lo), float(hi)) for lo, hi in bounds]
    best_point, best_cost = None, None
    for _ in range(rounds):
        point, value = argmin_first(grid(bounds, n), cost_fn)
        if not overall or best_cost is None or value < best_cost:
            best_point, best_cost = point, value
        steps = [(hi - lo) / (intervals or n - 1) for lo, hi in bounds]
        bounds = [
            (max(lo, b - s), min(hi, b + s)) if clamp else (b - s, b + s)
            for (lo, hi), b, s in zip(bounds, point, steps)
        ]
    return best_point, rounds * n ** len(bounds)


def build(ref: FunctionRef) -> Callable:
    """The grader's own copy of a catalogue function, to compute references with."""
    return CATALOGUE[ref.name](**ref.params)


# ------------------------------------------------------------------------------------------------- mistakes

SUM_NOT_MEAN = Mistake("the cost is the mean of the losses; this looks like their sum (divide by N).",
                       lambda xs, ys, w: sum(loss(x, y, w) for x, y in zip(xs, ys)))
NOT_SQUARED = Mistake("the loss squares the error: (x·w − y)², not x·w − y.", lambda x, y, w: x * w - y)
ABSOLUTE = Mistake("the loss squares the error; |x·w − y| is the absolute error.", lambda x, y, w: abs(x * w - y))
CURVE_OF_SUMS = Mistake("the curve holds the cost (the mean of the losses), not their sum.",
                        lambda xs, ys, ws: [len(xs) * cost(xs, ys, w) for w in ws])
HALF_SQUARE = Mistake("the lecture's loss has no factor ½.", lambda x, y, w: 0.5 * (x * w - y) ** 2)
ADDED = Mistake("the model multiplies x by w; this added them.", lambda x, w: x + w)
ROOT_OF_MEAN = Mistake("the cost is the mean squared error itself, without a square root (that would be the RMSE).",
                       lambda xs, ys, w: cost(xs, ys, w) ** 0.5)
BY_N_MINUS_ONE = "the mean divides by N, the number of samples, not by N − 1."


def over_n_minus_one(total: float, n: int) -> float:
    """A mean taken over N − 1, a known mistake; with two samples it equals the sum, a mistake of its own."""
    if n <= 2:
        raise ValueError("N − 1 cannot be told from the sum or the first sample here")
    return total / (n - 1)


BESSEL = Mistake(BY_N_MINUS_ONE, lambda xs, ys, w: over_n_minus_one(sum(loss(x, y, w) for x, y in zip(xs, ys)), len(xs)))
LAST_SAMPLE = Mistake("the cost averages the losses of every sample; this is the loss of the last sample alone "
                      "(is the `return` inside the loop, or is the total overwritten instead of added to?).",
                      lambda xs, ys, w: loss(xs[-1], ys[-1], w))
FIRST_SAMPLE = Mistake("the cost averages the losses of every sample; this is the loss of the first sample alone "
                       "(is the `return` inside the loop?).", lambda xs, ys, w: loss(xs[0], ys[0], w))
WRONG_LOSS_IN_COST = ("`cost` averages `loss`, and this is the mean of a wrong loss ({}): `cost` is right once `loss` is; "
                      "fix `loss` first (its own check fails too).")
COST_OF_WRONG_LOSS = [
    Mistake(WRONG_LOSS_IN_COST.format("the error not squared"), lambda xs, ys, w: sum(x * w - y for x, y in zip(xs, ys)) / len(xs)),
    Mistake(WRONG_LOSS_IN_COST.format("the absolute error"), lambda xs, ys, w: sum(abs(x * w - y) for x, y in zip(xs, ys)) / len(xs)),
    Mistake(WRONG_LOSS_IN_COST.format("with a factor ½"), lambda xs, ys, w: cost(xs, ys, w) / 2),
]
CURVE_OF_WRONG_COST = [
    Mistake("the curve holds `cost` at each w, and this is the curve of a wrong cost (" + label + "): fix `cost` (or the `loss` it "
            "averages) first, its own check fails too.", lambda xs, ys, ws, wrong=wrong: [wrong(xs, ys, w) for w in ws])
    for label, wrong in [("a root of the mean", lambda xs, ys, w: cost(xs, ys, w) ** 0.5),
                         ("the mean of unsquared errors", lambda xs, ys, w: sum(x * w - y for x, y in zip(xs, ys)) / len(xs)),
                         ("the mean of absolute errors", lambda xs, ys, w: sum(abs(x * w - y) for x, y in zip(xs, ys)) / len(xs)),
                         ("divided by N − 1", lambda xs, ys, w: over_n_minus_one(len(xs) * cost(xs, ys, w), len(xs))),
                         ("the loss of the last sample", lambda xs, ys, w: loss(xs[-1], ys[-1], w))]
]
LECTURE_TABLE = Mistake("this is the lecture's table, whatever the inputs: compute `cost` at each w of ws on the xs and ys given.",
                        lambda xs, ys, ws: only_if((list(xs), list(ys), list(ws)) != (XS, YS, [0.0, 1.0, 2.0, 3.0, 4.0]),
                                                          lambda: [cost(XS, YS, w) for w in (0.0, 1.0, 2.0, 3.0, 4.0)]))
CURVE_MISTAKES = [CURVE_OF_SUMS, *CURVE_OF_WRONG_COST, LECTURE_TABLE]
FLOOR_DIVISION = Mistake("the mean uses true division: `/`, not `//` (floor division drops the fraction).",
                         lambda xs, ys, w: sum(loss(x, y, w) for x, y in zip(xs, ys)) // len(xs))
COST_MISTAKES = [ROOT_OF_MEAN, BESSEL, LAST_SAMPLE, FIRST_SAMPLE, FLOOR_DIVISION, *COST_OF_WRONG_LOSS]
MEAN_OF_ERRORS = Mistake("square each error before averaging: mean((x·w − y)²), not (mean(x·w − y))².",
                         lambda xs, ys, w: (sum(x * w - y for x, y in zip(xs, ys)) / len(xs)) ** 2)


# ------------------------------------------------------------------------------------------------- search judges


def grid_reference(cost_ref: FunctionRef, bounds, n: int) -> tuple[float, ...]:
    """The first grid point of smallest cost."""
    return argmin_first(grid(bounds, n), build(cost_ref))[0]


def _last_minimum(points: Sequence[tuple[float, ...]], cost_fn: Callable) -> tuple[float, ...]:
    costs = [cost_fn(p) for p in points]
    return points[len(costs) - 1 - int(np.argmin(costs[::-1]))]


def refine_reference(cost_ref: FunctionRef, bounds, n: int = 4, rounds: int = 2, **variant) -> tuple[float, ...]:
    return refine(build(cost_ref), bounds, n, rounds, **variant)[0]


GRID_MISTAKES = [
    Mistake(FIRST_WINS, lambda cost_ref, bounds, n: _last_minimum(grid(bounds, n), build(cost_ref))),
    Mistake("this is the point of the largest cost: keep the smallest one (the comparison is reversed).",
            lambda cost_ref, bounds, n: argmin_first(grid(bounds, n), lambda p: -build(cost_ref)(p))[0]),
]
REFINE_MISTAKES = [
    Mistake("each axis shrinks to (max(lo, best − step), min(hi, best + step)): the new bounds must stay inside the old ones.",
            lambda *a, **k: refine_reference(*a, **k, clamp=False)),
    Mistake("return the best point over all rounds, not the last round's best.", lambda *a, **k: refine_reference(*a, **k, overall=False)),
    Mistake("the grid step is the distance between neighbouring grid points, and n points make n − 1 gaps; this shrank by "
            "(hi − lo) / n.", lambda *a, **k: refine_reference(*a, **k, intervals=k.get("n", 4))),
]
judge_grid_search = DataJudge(
    "grader.public.ex01_linear_model:judge_grid_search",
    {"source": "the first point of smallest cost on the grid", "hints": [m.hint for m in GRID_MISTAKES]},
    {"grid": of_call(lambda cost_ref, bounds, n: grid(bounds, n)), "expected": of_call(grid_reference), **mistake_sources(GRID_MISTAKES)},
    "argmin over itertools.product of numpy.linspace(lo, hi, n) per axis, ties to the first")
judge_refine_search = DataJudge(
    "grader.public.ex01_linear_model:judge_refine_search",
    {"source": "the grader's own run of divide and conquer on these bounds", "hints": [m.hint for m in REFINE_MISTAKES]},
    {"expected": of_call(refine_reference), **mistake_sources(REFINE_MISTAKES)},
    "rounds of an n-point grid per axis, each shrinking to (max(lo, best − step), min(hi, best + step))")


def search_probe(function: str, cost_ref: FunctionRef, bounds: list, **kwargs) -> Probe:
    from grader.model import Probe as _Probe

    args = [cost_ref, bounds] + ([kwargs.pop("n")] if function == "grid_search" else [])
    return _Probe("functions.call_recording", {"function": function, "args": args, "kwargs": kwargs, "names": ["cost_fn", "bounds", "n"]})


def bowl_on_first_grid(rng: random.Random, d: int, n: int) -> tuple[FunctionRef, list]:
    """A bowl whose minimum is a point of the first round's grid, with n even: no later round's grid holds that point
    again, so every later round's best is worse, and a search that returns its last round's best is caught."""
    bounds = []
    for _ in range(d):
        lo = round(rng.uniform(-5, 0), 2)
        bounds.append([lo, round(lo + rng.uniform(2, 8), 2)])
    center = [float(np.linspace(lo, hi, n)[rng.randrange(1, n - 1)]) for lo, hi in bounds]
    return FunctionRef("quadratic_bowl", {"center": center, "scale": [rng.uniform(0.5, 3) for _ in range(d)]}), bounds


def random_bowl(rng: random.Random, d: int) -> tuple[FunctionRef, list]:
    """A quadratic bowl with a random centre inside random bounds."""
    bounds = []
    for _ in range(d):
        lo = round(rng.uniform(-5, 0), 2)
        bounds.append([lo, round(lo + rng.uniform(2, 8), 2)])
    center = [rng.uniform(lo, hi) for lo, hi in bounds]
    scale = [rng.uniform(0.5, 3) for _ in range(d)]
    return FunctionRef("quadratic_bowl", {"center": center, "scale": scale, "offset": rng.uniform(0, 2)}), bounds


# ------------------------------------------------------------------------------------------------- the checks


def rand(rng: random.Random, lo: float = -5.0, hi: float = 5.0) -> float:
    """A random input rounded to 3 decimals, so that messages stay readable."""
    return round(rng.uniform(lo, hi), 3)


def random_datasets(rng: random.Random) -> list[tuple[list[float], list[float]]]:
    return [([rand(rng) for _ in range(k)], [rand(rng) for _ in range(k)]) for k in (2, 5, 7)]


def checks(rng: random.Random) -> list[Check]:
    samples = [(x, y, w) for x, y in zip(XS, YS) for w in (0.0, 1.0, 2.5)] + [(rand(rng), rand(rng), rand(rng)) for _ in range(4)]
    datasets = [(XS, YS)] + random_datasets(rng)
    lecture_line = FunctionRef("mse_of_line", {"xs": XS, "ys": YS})

    return [
        Check(name="forward", points=1,
              probes=tuple(call("forward", x, w, names=["x", "w"]) for x, _, w in samples),
              judge=expect(forward, "x*w", [ADDED], source="the model ŷ = x·w")),
        Check(name="loss", points=1,
              probes=tuple(call("loss", x, y, w, names=["x", "y", "w"]) for x, y, w in samples),
              judge=expect(loss, "(x*w - y)**2", [NOT_SQUARED, ABSOLUTE, HALF_SQUARE], source="the loss (ŷ − y)² with ŷ = x·w")),
        Check(name="cost", points=2,
              probes=tuple(call("cost", xs, ys, w, names=["xs", "ys", "w"]) for xs, ys in datasets for w in (0.0, 1.5, rand(rng))),
              judge=expect(cost, "(1/N) * sum((x*w - y)**2)", [SUM_NOT_MEAN, MEAN_OF_ERRORS, *COST_MISTAKES], source="the mean of the loss over the data")),
        Check(name="loss_curve_lecture", points=1,
              probes=(call("loss_curve", XS, YS, [0.0, 1.0, 2.0, 3.0, 4.0], names=["xs", "ys", "ws"]),),
              judge=expect(lambda xs, ys, ws: [cost(xs, ys, w) for w in ws], "cost(xs, ys, w) for each w (56/3, 14/3, 0, 14/3, 56/3)",
                     CURVE_MISTAKES, source="the cost at each w of ws", shaped=True)),
        Check(name="grid_search_lecture", points=2,
              probes=(search_probe("grid_search", lecture_line, [[0.0, 4.0]], n=41),),
              judge=judge_grid_search),
        Check(name="grid_search_ties", points=1,
              probes=(search_probe("grid_search", FunctionRef("quadratic_bowl", {"center": [1.0, 0.0], "scale": [1.0, 0.0]}), [[0.0, 2.0], [-1.0, 1.0]], n=5),),
              judge=judge_grid_search, description="the cost ignores the second weight: of the tied points, the first one wins"),
        Check(name="refine_search_lecture", points=2,
              probes=(search_probe("refine_search", FunctionRef("mse_of_line", {"xs": XS, "ys": YS}), [[0.0, 4.0], [-2.0, 2.0]], n=4, rounds=2),),
              judge=judge_refine_search),
        Check(name="refine_search_boundary", points=1,
              probes=(search_probe("refine_search", FunctionRef("quadratic_bowl", {"center": [5.0, -3.0], "scale": [1.0, 2.0]}), [[0.0, 4.0], [-2.0, 2.0]], n=4, rounds=3),),
              judge=judge_refine_search, description="the minimum lies outside the bounds: the search must stay inside them"),
        Check(name="refine_search_best_seen", points=1,
              probes=(search_probe("refine_search", FunctionRef("quadratic_bowl", {"center": [2.0, 1.0], "scale": [1.0, 1.0]}), [[0.0, 3.0], [-3.0, 3.0]], n=4, rounds=3),),
              judge=judge_refine_search, description="the minimum is a point of the first grid, which no later grid holds: the best seen wins"),
    ]
