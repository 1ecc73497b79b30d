"""Hidden checks of ex07_mlp_regression: other data settings and another training run replayed.

Only the public check trains with the defaults: 1000 Adam steps cost as much as the rest of the exercise together
(they are bound by per-step overhead, not data), and that check already draws its initialisation from the batch's
seed, so a second default run would add time, not coverage.
"""

from __future__ import annotations

import random

from grader.instructor.checks.ex07_mlp_regression import (
    TRAJECTORY_TOLERANCE, data_probe, judge_data_distribution, judge_trajectory, numpy_rng, random_data_kwargs, train_probe,
)
from grader.model import Check


def checks(rng: random.Random) -> list[Check]:
    generator = numpy_rng(rng)
    data = tuple(data_probe(random_data_kwargs(rng), rng) for _ in range(2))
    return [
        Check(name="make_data_random", points=1, probes=data, judge=judge_data_distribution),
        Check(name="train_trajectory_random", points=2,
              probes=(train_probe(generator, rng.randrange(100, 300), round(rng.uniform(0.003, 0.05), 4), rng.randrange(40, 70)),),
              judge=judge_trajectory(TRAJECTORY_TOLERANCE)),
    ]
