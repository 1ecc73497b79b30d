"""Hidden checks of ex01_linear_model: random data and random cost functions in 1 to 3 dimensions."""

from __future__ import annotations

import random

from grader.instructor.checks.ex01_linear_model import (
    CURVE_MISTAKES, bowl_on_first_grid, cost, judge_grid_search, judge_refine_search, rand, random_bowl, random_datasets,
    search_probe,
)
from grader.judges import expect
from grader.model import Check, call


def checks(rng: random.Random) -> list[Check]:
    bowl_1d, bounds_1d = random_bowl(rng, 1)
    bowl_2d, bounds_2d = random_bowl(rng, 2)
    bowl_3d, bounds_3d = random_bowl(rng, 3)
    even_n = 2 * rng.randint(2, 3)
    return [
        Check(name="loss_curve_random", points=1,
              probes=tuple(call("loss_curve", xs, ys, [rand(rng) for _ in range(6)], names=["xs", "ys", "ws"]) for xs, ys in random_datasets(rng)),
              judge=expect(lambda xs, ys, ws: [cost(xs, ys, w) for w in ws], "cost(xs, ys, w) for each w", CURVE_MISTAKES, source="the cost at each w of ws",
                     shaped=True)),
        Check(name="grid_search_random", points=2,
              probes=(search_probe("grid_search", bowl_1d, bounds_1d, n=rng.randint(5, 30)),
               search_probe("grid_search", bowl_2d, bounds_2d, n=rng.randint(4, 9)),
               search_probe("grid_search", bowl_3d, bounds_3d, n=rng.randint(3, 5))),
              judge=judge_grid_search),
        Check(name="refine_search_random", points=2,
              probes=(search_probe("refine_search", bowl_2d, bounds_2d, n=rng.randint(3, 6), rounds=rng.randint(2, 4)),
               search_probe("refine_search", bowl_3d, bounds_3d, n=3, rounds=3),
               search_probe("refine_search", *bowl_on_first_grid(rng, 2, even_n), n=even_n, rounds=rng.randint(2, 4))),
              judge=judge_refine_search),
    ]
