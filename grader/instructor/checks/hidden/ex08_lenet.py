"""Hidden checks of ex08_lenet: other weights, batch sizes and image sizes; SeedCNN's gradients; more random shapes
for the numpy layers."""

from __future__ import annotations

import random

import numpy as np

from grader.instructor.checks.ex08_lenet import (
    CONV_FORMULA, CONV_MISTAKES, POOL_MISTAKES, conv2d_reference, conv_probe, images, judge_forward,
    judge_gradients, judge_lenet_numpy, lenet_arrays, maxpool2d_reference, model_probe, numpy_rng, pool_probe,
    tensor, weight_seed,
)
from grader.judges import expect
from grader.model import Check, call


def checks(rng: random.Random) -> list[Check]:
    generator = numpy_rng(rng)
    lenet = weight_seed(generator)
    size = (rng.randint(20, 40), rng.randint(20, 40))
    seed32, seed_other, seed28 = weight_seed(generator), weight_seed(generator), weight_seed(generator)
    return [
        Check(name="lenet_forward_random", points=2,
              probes=(model_probe("models.forward", "LeNet5", images(generator, rng.randint(9, 16)), lenet),),
              judge=judge_forward(), expects_errors=True),
        Check(name="seedcnn_forward_sizes", points=2,
              probes=(model_probe("models.forward", "SeedCNN", images(generator, 3, 32, 32), seed32, init={"height": 32, "width": 32}),
               model_probe("models.forward", "SeedCNN", images(generator, 2, *size), seed_other, init={"height": size[0], "width": size[1]})),
              judge=judge_forward(), expects_errors=True, description="SeedCNN(height, width) for 32×32 and another image size"),
        Check(name="seedcnn_gradients", points=1,
              probes=(model_probe("models.gradients", "SeedCNN", images(generator, 2, 28, 28), seed28, cotangent=tensor(generator.normal(size=(2, 10)))),),
              judge=judge_gradients, expects_errors=True),
        Check(name="conv2d_forward_random", points=2,
              probes=tuple(conv_probe(generator, rng, stride=rng.randint(1, 3), padding=rng.randint(0, 2)) for _ in range(4)),
              judge=expect(conv2d_reference, CONV_FORMULA, CONV_MISTAKES, source="torch.nn.functional.conv2d on these inputs", shaped=True)),
        Check(name="maxpool2d_forward_random", points=1,
              probes=tuple(pool_probe(generator, rng, rng.randint(2, 4)) for _ in range(3)),
              judge=expect(maxpool2d_reference, "torch.nn.functional.max_pool2d(x, k)", POOL_MISTAKES, source="torch.nn.functional.max_pool2d(x, k) on these inputs",
                     shaped=True)),
        Check(name="lenet_forward_numpy_random", points=1,
              probes=(call("lenet_forward_numpy", lenet_arrays(generator, np.float64), generator.normal(size=(3, 1, 32, 32)), names=["params", "x"]),),
              judge=judge_lenet_numpy, expects_errors=True),
    ]
