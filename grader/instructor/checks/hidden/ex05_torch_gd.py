"""Hidden checks of ex05_torch_gd: random data in both dtypes and both layouts ((m, 1) columns and (m,) vectors)."""

from __future__ import annotations

import random

from grader.instructor.checks.ex05_torch_gd import (
    judge_fit, judge_lr, judge_manual, judge_mse, judge_optim, judge_scalar, random_line_problem,
    random_mse_pair, random_weight_problem, trajectory_probe,
)
from grader.model import Check, call


def checks(rng: random.Random) -> list[Check]:
    vector32 = random_weight_problem(rng, "float32", column=False)
    vector64 = random_weight_problem(rng, "float64", column=False)
    column32 = random_weight_problem(rng, "float32")
    lines = [random_line_problem(rng, dtype) for dtype in ("float32", "float64")]
    scalar_cases = [(round(rng.uniform(-5.0, 10.0), 2), round(rng.uniform(0.05, 0.95), 2), rng.randint(5, 15)) for _ in range(2)]
    return [
        Check(name="manual_gd_vectors", points=2,
              probes=tuple(trajectory_probe("manual_gd", *case) for case in (vector32, vector64)), judge=judge_manual, expects_errors=True),
        Check(name="optim_gd_vectors", points=2,
              probes=tuple(trajectory_probe("optim_gd", *case) for case in (vector64, column32)), judge=judge_optim, expects_errors=True),
        Check(name="fit_linear_random", points=2,
              probes=tuple(trajectory_probe("fit_linear", *case) for case in lines), judge=judge_fit, expects_errors=True),
        Check(name="mse_random", points=1,
              probes=tuple(call("mse", *random_mse_pair(rng, dtype), names=["y_true", "y_pred"]) for dtype in ("float32", "float64")),
              judge=judge_mse),
        Check(name="descend_scalar_random", points=2,
              probes=tuple(call("descend_scalar", x0, lr, steps, names=["x0", "lr", "steps"]) for x0, lr, steps in scalar_cases),
              judge=judge_scalar, expects_errors=True),
        Check(name="equivalent_lr_random", points=1,
              probes=tuple(call("equivalent_lr", round(rng.uniform(0.001, 0.5), 4), rng.randint(1, 100), names=["lr_sum", "m"]) for _ in range(3)),
              judge=judge_lr),
    ]
