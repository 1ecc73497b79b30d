"""Judging logic of ex01's searches: the calls a grid search makes, the point it keeps, and how many it counts."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from grader.compare import fmt
from grader.judges import FLOAT64, Lookup, compare_case, looked_up, returned_values, where
from grader.model import Check, Outcome, Probe, Verdict

FIRST_WINS = "of points with equal cost, keep the first one (compare with <, not <=)."


def search_result(check: Check, probe: Probe, value: Any) -> tuple[Any, Any] | Verdict:
    """(best_point, evaluations) from a search's return value, or the verdict saying why it is not such a pair."""
    result = value["value"]
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return Verdict.fail(f"{where(check, probe)}: returned {fmt(result)}; expected a pair (best_point, evaluations)")
    return result[0], result[1]


def judge_grid_search(check: Check, cases: Sequence[tuple[Probe, Outcome]], spec: Mapping[str, Any], lookup: Lookup) -> Verdict:
    """The calls must be the whole grid (`grid`) in product order; the best point the first minimum; evaluations n**d."""
    failed = returned_values(check, cases)
    if failed:
        return failed
    for probe, outcome in cases:
        _, bounds, n = probe.args
        parsed = search_result(check, probe, outcome.value)
        if isinstance(parsed, Verdict):
            return parsed
        point, evaluations = parsed
        expected_calls = [tuple(p) for p in lookup(probe, "grid")]
        calls, count = outcome.value["calls"][0], outcome.value["counts"][0]
        place = where(check, probe)
        if count != len(expected_calls) or not np.allclose(np.array(calls, dtype=float).reshape(len(calls), -1), expected_calls, rtol=1e-12, atol=1e-12):
            return Verdict.fail(
                f"{place}: cost_fn should be called once per grid point, {n}**{len(bounds)} = {len(expected_calls)} times, "
                f"on numpy.linspace(lo, hi, {n}) per axis in itertools.product order; it was called {count} times, "
                f"first with {fmt(calls[:3])}, expected first {fmt(expected_calls[:3])}", grid_hint(calls, count, bounds, n))
        verdict = compare_case(check, probe, point, lookup(probe, "expected"), spec["source"], FLOAT64,
                               looked_up(spec, lookup, probe), label=f"{place}: best_point", formula=spec.get("formula", ""))
        if not verdict.passed:
            return verdict
        if evaluations != len(expected_calls):
            return Verdict.fail(f"{place}: evaluations should be the number of calls of cost_fn, {len(expected_calls)}; got {fmt(evaluations)}",
                                "count every call of cost_fn: n**d for d weights." if evaluations in (n, n * len(bounds)) else None)
    return Verdict.ok()


def grid_hint(calls: list, count: int, bounds: Sequence[Sequence[float]], n: int) -> str | None:
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


def judge_refine_search(check: Check, cases: Sequence[tuple[Probe, Outcome]], spec: Mapping[str, Any], lookup: Lookup) -> Verdict:
    """Best point and evaluation count of divide and conquer against the instructor's run (`expected`)."""
    failed = returned_values(check, cases)
    if failed:
        return failed
    for probe, outcome in cases:
        _, bounds = probe.args
        n, rounds = probe.kwargs["n"], probe.kwargs["rounds"]
        parsed = search_result(check, probe, outcome.value)
        if isinstance(parsed, Verdict):
            return parsed
        point, evaluations = parsed
        verdict = compare_case(check, probe, point, lookup(probe, "expected"), spec["source"], FLOAT64, looked_up(spec, lookup, probe),
                               label=f"{where(check, probe)}: best_point", formula=spec.get("formula", ""))
        if not verdict.passed:
            return verdict
        expected_evaluations, calls = rounds * n ** len(bounds), outcome.value["counts"][0]
        if evaluations != expected_evaluations or calls != expected_evaluations:
            hint = call_budget_hint(calls, expected_evaluations, "refine_search", "rounds·n**d")
            if hint is None and calls == expected_evaluations:
                hint = "return the number of calls of cost_fn over all rounds, rounds·n**d, as evaluations."
            return Verdict.fail(
                f"{where(check, probe)}: expected {expected_evaluations} evaluations, rounds * n**d = {rounds} * {n}**{len(bounds)}; "
                f"returned {fmt(evaluations)}, and cost_fn was called {calls} times", hint)
    return Verdict.ok()
