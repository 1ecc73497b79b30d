"""Choose the (initialisation seed, data seed) pairs of ex07's `train_fits_parabola` check.

With the lecture's defaults (Adam, lr 0.01, 1000 full-batch epochs) about 2 % of PyTorch's default initialisations
of the 1-10-30-10-1 ReLU network collapse: in training all ten units of the last hidden layer stop firing
on x ∈ [0, 6], the gradient of everything below them is zero, and the network predicts one constant (≈ 6, the mean
of y) for ever. A correct solution would fail the check at such a draw, so the check draws from pairs at which the
reference solution fits with a margin (every prediction within half the check's tolerance):

    python tools/vet_fit_seeds.py 10      # print 10 vetted pairs for grader/instructor/checks/ex07_mlp_regression.FIT_SEEDS

tests/checks/test_solutions_every_seed.py trains the solution at every pair of the pool, so a pool that stops
fitting (another torch, another solution) fails the tests instead of a student.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.instructor.checks.ex07_mlp_regression import FIT_SAMPLES, parabola_data  # noqa: E402
from grader.public.ex07_mlp_regression import FIT_TOLERANCE, POINTS, TARGETS  # noqa: E402
from grader.probes import load_module  # noqa: E402


def fitted_predictions(module, init_seed: int, data_seed: int) -> list[float]:
    """The solution's predictions at POINTS after build_mlp() from `init_seed` and train() on the pair's data."""
    x, y = parabola_data(np.random.default_rng(data_seed), FIT_SAMPLES)
    torch.manual_seed(init_seed)
    model = module.build_mlp()
    module.train(model, torch.from_numpy(x.array), torch.from_numpy(y.array))
    with torch.no_grad():
        return model(torch.tensor(POINTS).reshape(-1, 1)).flatten().tolist()


def fits(predictions: list[float], margin: float = 0.5) -> bool:
    return all(abs(p - t) <= margin * FIT_TOLERANCE for p, t in zip(predictions, TARGETS))


def main(count: int) -> None:
    torch.set_num_threads(1)
    module = load_module(str(ROOT / "solutions" / "ex07_mlp_regression.py"), "solution_ex07")
    draw = random.Random(20261130)
    pool, rejected = [], []
    while len(pool) < count:
        pair = (draw.randrange(10**6), draw.randrange(10**6))
        (pool if fits(fitted_predictions(module, *pair)) else rejected).append(pair)
    print("FIT_SEEDS =", tuple(pool))
    print("rejected:", rejected, file=sys.stderr)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
