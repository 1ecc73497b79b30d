"""Hidden checks of ex03_quadratic: more random points, and training on other data, starts, rates and lengths."""

from __future__ import annotations

import random

from grader.instructor.checks.ex03_quadratic import (
    ARGS, GRADIENT_MISTAKES, gradient_formula, gradients, random_point, random_training, train_judge, train_probe,
)
from grader.judges import expect
from grader.model import Check, call


def checks(rng: random.Random) -> list[Check]:
    runs = [random_training(rng, n, epochs) for n, epochs in ((1, 15), (4, 40), (7, 25))]
    return [
        Check(name="gradients_random", points=1,
              probes=tuple(call("gradients", *random_point(rng), names=list(ARGS)) for _ in range(6)),
              judge=expect(gradients, gradient_formula(), GRADIENT_MISTAKES, source="sympy: ∂/∂w1, ∂/∂w2, ∂/∂b of (ŷ − y)² at these inputs")),
        Check(name="train_random_hidden", points=2,
              probes=tuple(train_probe(args, kwargs) for args, kwargs in runs),
              judge=train_judge(curve=False)),
    ]
