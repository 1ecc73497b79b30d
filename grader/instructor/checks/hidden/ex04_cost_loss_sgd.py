"""Hidden checks of ex04_cost_loss_sgd: other data, starts, rates, batch sizes and curves."""

from __future__ import annotations

import random

from grader.instructor.checks.ex04_cost_loss_sgd import (
    COST_GRADIENT_MISTAKES, EMA_FORMULA, EMA_MISTAKES, EXERCISE, MINIBATCH_FORMULA, MINIBATCH_MISTAKES, TRAJECTORY,
    cost_gradient, ema, minibatch_gd, minibatch_probe, rand, random_data, random_run, run_judge, trajectory_probe,
)
from grader.judges import expect
from grader.model import Check, call


def checks(rng: random.Random) -> list[Check]:
    sums = [(*random_data(rng, n), rand(rng)) for n in (1, 3, 9)]
    curves = [([rand(rng, -5, 5) for _ in range(n)], round(rng.uniform(0.05, 0.95), 3)) for n in (1, 2, 20)]
    return [
        Check(EXERCISE, "cost_gradient_random", 1, "hidden", tuple(call("cost_gradient", *s, names=["xs", "ys", "w"]) for s in sums),
              expect(cost_gradient, "(1/N) * sum(2*x*(w*x - y))", COST_GRADIENT_MISTAKES, source="the mean over the data of sympy's d/dw of (x·w − y)²")),
        Check(EXERCISE, "batch_gd_random_hidden", 1, "hidden",
              tuple(trajectory_probe("batch_gd", *random_run(rng, n, epochs)) for n, epochs in ((1, 10), (6, 60))),
              run_judge("batch_gd", curve=False)),
        Check(EXERCISE, "sgd_random_hidden", 1, "hidden",
              tuple(trajectory_probe("sgd", *random_run(rng, n, epochs)) for n, epochs in ((1, 10), (6, 60))),
              run_judge("sgd", curve=False)),
        Check(EXERCISE, "minibatch_gd_random", 2, "hidden",
              (minibatch_probe(rng, 11, 4, 15), minibatch_probe(rng, 9, 2, 15), minibatch_probe(rng, 3, 5, 10)),
              expect(minibatch_gd, MINIBATCH_FORMULA, MINIBATCH_MISTAKES, TRAJECTORY, source=MINIBATCH_FORMULA),
              description="uneven last batches, and a batch_size larger than the data"),
        Check(EXERCISE, "ema_random", 1, "hidden", tuple(call("ema", v, b, names=["values", "beta"]) for v, b in curves),
              expect(ema, EMA_FORMULA, EMA_MISTAKES, source=EMA_FORMULA)),
    ]
