"""Hidden checks of ex04_cost_loss_sgd: other data, starts, rates, batch sizes and curves."""

from __future__ import annotations

import random

from grader.instructor.checks.ex04_cost_loss_sgd import (
    COST_GRADIENT_MISTAKES, EMA_FORMULA, EMA_MISTAKES, MINIBATCH_FORMULA, MINIBATCH_MISTAKES, TRAJECTORY,
    cost_gradient, ema, minibatch_gd, minibatch_probe, rand, random_data, random_run, run_judge, trajectory_probe,
)
from grader.judges import expect
from grader.model import Check, call


def checks(rng: random.Random) -> list[Check]:
    sums = [(*random_data(rng, n), rand(rng)) for n in (1, 3, 9)]
    curves = [([rand(rng, -5, 5) for _ in range(n)], round(rng.uniform(0.05, 0.95), 3)) for n in (1, 2, 20)]
    return [
        Check(name="cost_gradient_random", points=1, probes=tuple(call("cost_gradient", *s, names=["xs", "ys", "w"]) for s in sums),
              judge=expect(cost_gradient, "(1/N) * sum(2*x*(w*x - y))", COST_GRADIENT_MISTAKES, source="the mean over the data of sympy's d/dw of (x·w − y)²")),
        Check(name="batch_gd_random_hidden", points=1,
              probes=tuple(trajectory_probe("batch_gd", *random_run(rng, n, epochs)) for n, epochs in ((1, 10), (6, 60))),
              judge=run_judge("batch_gd", curve=False)),
        Check(name="sgd_random_hidden", points=1,
              probes=tuple(trajectory_probe("sgd", *random_run(rng, n, epochs)) for n, epochs in ((1, 10), (6, 60))),
              judge=run_judge("sgd", curve=False)),
        Check(name="minibatch_gd_random", points=2,
              probes=(minibatch_probe(rng, 11, 4, 15), minibatch_probe(rng, 9, 2, 15), minibatch_probe(rng, 3, 5, 10)),
              judge=expect(minibatch_gd, MINIBATCH_FORMULA, MINIBATCH_MISTAKES, TRAJECTORY, source=MINIBATCH_FORMULA),
              description="uneven last batches, and a batch_size larger than the data"),
        Check(name="ema_random", points=1, probes=tuple(call("ema", v, b, names=["values", "beta"]) for v, b in curves),
              judge=expect(ema, EMA_FORMULA, EMA_MISTAKES, source=EMA_FORMULA)),
    ]
