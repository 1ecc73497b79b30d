"""Hidden checks of ex07_mlp_regression: other data settings and another training run replayed.

A replayed run is short (tens of epochs on tens of samples): every known mistake of `train` shows in its first
steps, and Adam's steps cost per step, not per sample.
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
              probes=(train_probe(generator, rng.randrange(16, 64), round(rng.uniform(0.003, 0.05), 4), rng.randrange(20, 40)),),
              judge=judge_trajectory(TRAJECTORY_TOLERANCE)),
    ]
