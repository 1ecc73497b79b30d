"""Checks of ex01_linear_model: the model, its loss and cost, the loss curve, grid search and divide and conquer."""

from __future__ import annotations

import itertools
import random
from typing import Callable, Sequence

import numpy as np

from grader.compare import fmt
from grader.judges import FLOAT64, Mistake, compare_case, expect, returned_values, where
from grader.model import Check, Outcome, Probe, Verdict, call
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
HALF_SQUARE = Mistake("the lecture's loss is (x·w − y)², without a factor ½.", lambda x, y, w: 0.5 * (x * w - y) ** 2)
ADDED = Mistake("the model multiplies: ŷ = x·w, not x + w.", lambda x, w: x + w)
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
CURVE_MISTAKES = [CURVE_OF_SUMS, *CURVE_OF_WRONG_COST]
COST_MISTAKES = [ROOT_OF_MEAN, BESSEL, LAST_SAMPLE, FIRST_SAMPLE, *COST_OF_WRONG_LOSS]
MEAN_OF_ERRORS = Mistake("square each error before averaging: mean((x·w − y)²), not (mean(x·w − y))².",
                         lambda xs, ys, w: (sum(x * w - y for x, y in zip(xs, ys)) / len(xs)) ** 2)


# ------------------------------------------------------------------------------------------------- search judges


def _search_result(check: Check, probe: Probe, value) -> tuple[tuple[float, ...], int] | Verdict:
    result = value["value"]
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return Verdict.fail(f"{where(check, probe)}: returned {fmt(result)}; expected a pair (best_point, evaluations)")
    return result[0], result[1]


def judge_grid_search(check: Check, cases: Sequence[tuple[Probe, Outcome]]) -> Verdict:
    """The calls must be the whole grid in product order; the best point the first minimum; evaluations n**d."""
    failed = returned_values(check, cases)
    if failed:
        return failed
    for probe, outcome in cases:
        cost_ref, bounds, n = probe.params["args"]
        parsed = _search_result(check, probe, outcome.value)
        if isinstance(parsed, Verdict):
            return parsed
        point, evaluations = parsed
        expected_calls = grid(bounds, n)
        calls, count = outcome.value["calls"][0], outcome.value["counts"][0]
        place = where(check, probe)
        if count != len(expected_calls) or not np.allclose(np.array(calls, dtype=float).reshape(len(calls), -1), expected_calls, rtol=1e-12, atol=1e-12):
            hint = _grid_hint(calls, count, bounds, n)
            return Verdict.fail(
                f"{place}: cost_fn should be called once per grid point, {n}**{len(bounds)} = {len(expected_calls)} times, "
                f"on numpy.linspace(lo, hi, {n}) per axis in itertools.product order; it was called {count} times, "
                f"first with {fmt(calls[:3])}, expected first {fmt(expected_calls[:3])}", hint)
        expected_point, _ = argmin_first(expected_calls, build(cost_ref))
        first_wins = Mistake("of points with equal cost, keep the first one (compare with <, not <=).",
                             lambda *a, **k: _last_minimum(expected_calls, build(cost_ref)))
        largest = Mistake("this is the point of the largest cost: keep the smallest one (the comparison is reversed).",
                          lambda *a, **k: argmin_first(expected_calls, lambda p: -build(cost_ref)(p))[0])
        verdict = compare_case(check, probe, point, expected_point, "the first grid point of smallest cost", FLOAT64,
                               [first_wins, largest], label=f"{place}: best_point")
        if not verdict.passed:
            return verdict
        if evaluations != len(expected_calls):
            return Verdict.fail(f"{place}: evaluations should be the number of calls of cost_fn, {len(expected_calls)}; got {fmt(evaluations)}",
                                "count every call of cost_fn: n**d for d weights." if evaluations in (n, n * len(bounds)) else None)
    return Verdict.ok()


def _last_minimum(points: Sequence[tuple[float, ...]], cost_fn: Callable) -> tuple[float, ...]:
    costs = [cost_fn(p) for p in points]
    return points[len(costs) - 1 - int(np.argmin(costs[::-1]))]


def _grid_hint(calls: list, count: int, bounds: Sequence[Sequence[float]], n: int) -> str | None:
    d = len(bounds)
    if count in ((n + 1) ** d, (n - 1) ** d):
        return "the grid has n points per axis, both bounds included: numpy.linspace(lo, hi, n)."
    if count == n ** d and calls:
        seen_hi = {round(float(np.reshape(c, -1)[0]), 9) for c in calls}
        if round(float(bounds[0][1]), 9) not in seen_hi:
            return "the grid must include the upper bound: numpy.linspace(lo, hi, n), not numpy.arange(lo, hi, step)."
        return "visit the points in itertools.product order over the axes, first axis slowest."
    if count == n * d:
        return "the grid is every combination of the axes (n**d points), not each axis on its own."
    return call_budget_hint(count, n ** d, "grid_search")


def call_budget_hint(count: int, budget: int, function: str, rule: str = "n**d") -> str | None:
    """Name a search that calls cost_fn more often than its budget (the contract allows one call per grid point)."""
    if count <= budget:
        return None
    allowed = f"{function} may call cost_fn only {rule} times, once per grid point ({budget} here)"
    if count >= 2 * budget - 1:
        return (f"{allowed}; it called it {count} times, about {round(count / budget)} times per point: call cost_fn once "
                "per point, keep that value and compare it, instead of calling cost_fn again.")
    return (f"{allowed}; it made {count - budget} calls more: keep the cost of each point as you go instead of calling "
            "cost_fn again (for example on the best point a grid search returned).")


def judge_refine_search(check: Check, cases: Sequence[tuple[Probe, Outcome]]) -> Verdict:
    """Best point and evaluation count of divide and conquer against the grader's own run."""
    failed = returned_values(check, cases)
    if failed:
        return failed
    for probe, outcome in cases:
        cost_ref, bounds = probe.params["args"]
        n, rounds = probe.params["kwargs"]["n"], probe.params["kwargs"]["rounds"]
        parsed = _search_result(check, probe, outcome.value)
        if isinstance(parsed, Verdict):
            return parsed
        point, evaluations = parsed
        cost_fn = build(cost_ref)
        expected_point, expected_evaluations = refine(cost_fn, bounds, n, rounds)
        mistakes = [
            Mistake("each axis shrinks to (max(lo, best − step), min(hi, best + step)): the new bounds must stay inside the old ones.",
                    lambda *a, **k: refine(cost_fn, bounds, n, rounds, clamp=False)[0]),
            Mistake("return the best point over all rounds, not the last round's best.",
                    lambda *a, **k: refine(cost_fn, bounds, n, rounds, overall=False)[0]),
            Mistake("the grid step is the distance between neighbouring grid points, (hi − lo) / (n − 1) for n points; "
                    "this shrank by (hi − lo) / n.", lambda *a, **k: refine(cost_fn, bounds, n, rounds, intervals=n)[0]),
        ]
        verdict = compare_case(check, probe, point, expected_point, f"{rounds} rounds of a {n}-point grid per axis", FLOAT64, mistakes,
                               label=f"{where(check, probe)}: best_point")
        if not verdict.passed:
            return verdict
        calls = outcome.value["counts"][0]
        if evaluations != expected_evaluations or calls != expected_evaluations:
            hint = call_budget_hint(calls, expected_evaluations, "refine_search", "rounds·n**d")
            if hint is None and calls == expected_evaluations:
                hint = "return the number of calls of cost_fn over all rounds, rounds·n**d, as evaluations."
            return Verdict.fail(
                f"{where(check, probe)}: expected {expected_evaluations} evaluations from rounds * n**d = {rounds} * {n}**{len(bounds)}; "
                f"returned {fmt(evaluations)}, and cost_fn was called {calls} times", hint)
    return Verdict.ok()


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
        Check(EXERCISE, "forward", 1, "public",
              tuple(call("forward", x, w, names=["x", "w"]) for x, _, w in samples),
              expect(forward, "x*w", [ADDED])),
        Check(EXERCISE, "loss", 1, "public",
              tuple(call("loss", x, y, w, names=["x", "y", "w"]) for x, y, w in samples),
              expect(loss, "(x*w - y)**2", [NOT_SQUARED, ABSOLUTE, HALF_SQUARE])),
        Check(EXERCISE, "cost", 2, "public",
              tuple(call("cost", xs, ys, w, names=["xs", "ys", "w"]) for xs, ys in datasets for w in (0.0, 1.5, rand(rng))),
              expect(cost, "(1/N) * sum((x*w - y)**2)", [SUM_NOT_MEAN, MEAN_OF_ERRORS, *COST_MISTAKES])),
        Check(EXERCISE, "loss_curve_lecture", 1, "public",
              (call("loss_curve", XS, YS, [0.0, 1.0, 2.0, 3.0, 4.0], names=["xs", "ys", "ws"]),),
              expect(lambda xs, ys, ws: [cost(xs, ys, w) for w in ws], "cost(xs, ys, w) for each w (56/3, 14/3, 0, 14/3, 56/3)",
                     CURVE_MISTAKES)),
        Check(EXERCISE, "grid_search_lecture", 2, "public",
              (search_probe("grid_search", lecture_line, [[0.0, 4.0]], n=41),),
              judge_grid_search),
        Check(EXERCISE, "grid_search_ties", 1, "public",
              (search_probe("grid_search", FunctionRef("quadratic_bowl", {"center": [1.0, 0.0], "scale": [1.0, 0.0]}), [[0.0, 2.0], [-1.0, 1.0]], n=5),),
              judge_grid_search, description="the cost ignores the second weight: of the tied points, the first one wins"),
        Check(EXERCISE, "refine_search_lecture", 2, "public",
              (search_probe("refine_search", FunctionRef("mse_of_line", {"xs": XS, "ys": YS}), [[0.0, 4.0], [-2.0, 2.0]], n=4, rounds=2),),
              judge_refine_search),
        Check(EXERCISE, "refine_search_boundary", 1, "public",
              (search_probe("refine_search", FunctionRef("quadratic_bowl", {"center": [5.0, -3.0], "scale": [1.0, 2.0]}), [[0.0, 4.0], [-2.0, 2.0]], n=4, rounds=3),),
              judge_refine_search, description="the minimum lies outside the bounds: the search must stay inside them"),
        Check(EXERCISE, "refine_search_best_seen", 1, "public",
              (search_probe("refine_search", FunctionRef("quadratic_bowl", {"center": [2.0, 1.0], "scale": [1.0, 1.0]}), [[0.0, 3.0], [-3.0, 3.0]], n=4, rounds=3),),
              judge_refine_search, description="the minimum is a point of the first grid, which no later grid holds: the best seen wins"),
    ]
