"""Hidden checks of ex02_derivative: more random points, random functions and step sizes."""

from __future__ import annotations

import random

from grader.instructor.checks.ex02_derivative import (
    DIFFERENCE_MISTAKES, GRADIENT_MISTAKES, central_reference, curved_polynomial, curved_sine, difference_probe,
    difference_tolerance, gradient, rand,
)
from grader.judges import expect
from grader.model import Check, call
from grader.wire import FunctionRef


def checks(rng: random.Random) -> list[Check]:
    points = [(rand(rng, -10, 10), rand(rng, -10, 10), rand(rng, -10, 10)) for _ in range(6)]
    steps = [round(rng.uniform(0.05, 0.8), 3) for _ in range(3)]
    ws = [rand(rng, -3, 3) for _ in steps]
    x, y = rand(rng, 0.5, 4), rand(rng, -4, 4)
    loss_as_polynomial = FunctionRef("polynomial", {"coefficients": [y * y, -2 * x * y, x * x]})  # (x·w − y)² in powers of w
    sine, w_sine = curved_sine(rng)
    return [
        Check(name="gradient_random", points=1,
              probes=tuple(call("gradient", x, y, w, names=["x", "y", "w"]) for x, y, w in points),
              judge=expect(gradient, "2*x*(w*x - y)", GRADIENT_MISTAKES, source="sympy: d/dw of (x·w − y)² at these inputs")),
        Check(name="numerical_gradient_random", points=2,
              probes=tuple(difference_probe(curved_polynomial(rng, w, h), w, h) for w, h in zip(ws, steps))
              + (difference_probe(sine, w_sine, 1e-3), difference_probe(loss_as_polynomial, rand(rng, -3, 3), 1e-4)),
              judge=expect(central_reference, "the central difference (f(w + h) - f(w - h)) / (2h)", DIFFERENCE_MISTAKES, difference_tolerance,
                     source="the central difference of f at w with this h")),
    ]
