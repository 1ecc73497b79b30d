"""Checks of ex02_derivative: the symbolic derivative of (x·w − y)², its value, and the central difference."""

from __future__ import annotations

import math
import random
import sys
from typing import Callable

from grader.judges import Mistake, expect, only_if
from grader.model import Check, Probe, call
from grader.probes.functions import CATALOGUE
from grader.references import compiled, derivative
from grader.symbolic import Derivation, WrongForm, expect_expression
from grader.wire import FunctionRef

EXERCISE = "ex02_derivative"
LOSS = "(x*w - y)**2"
XS, YS = [1.0, 2.0, 3.0], [2.0, 4.0, 6.0]
DERIVATION = Derivation(LOSS, "w", ("x", "w", "y"))


# ------------------------------------------------------------------------------------------------- references


def gradient(x: float, y: float, w: float) -> float:
    """The grader's own d/dw (x·w − y)², derived and compiled by sympy."""
    return compiled(LOSS, "w", ("x", "y", "w"))(x, y, w)


def build(ref: FunctionRef) -> Callable[[float], float]:
    """The grader's own copy of a catalogue function."""
    return CATALOGUE[ref.name](**ref.params)


def central(f: FunctionRef, w: float, h: float = 1e-6) -> float:
    function = build(f)
    return (function(w + h) - function(w - h)) / (2 * h)


def forward_difference(f: FunctionRef, w: float, h: float = 1e-6) -> float:
    function = build(f)
    return (function(w + h) - function(w)) / h


def difference_tolerance(probe: Probe) -> tuple[float, float]:
    """float64 tolerance plus the rounding a difference quotient amplifies: a few ulps of f, divided by h."""
    f, w, *rest = probe.args
    h = rest[0] if rest else probe.kwargs.get("h", 1e-6)
    function = build(f)
    scale = max(abs(function(w + h)), abs(function(w)), abs(function(w - h)), 1.0)
    return 1e-9, 1e-9 + 8 * sys.float_info.epsilon * scale / h


# ------------------------------------------------------------------------------------------------- mistakes

MISSING_TWO = "the factor 2 from differentiating the square is missing (d/du u² = 2u, then the chain rule)."
SIGN_FLIP = "the sign is flipped: differentiate (x·w − y)² as written, prediction minus target, without turning it around."
MISSING_X = "the inner derivative is missing: the chain rule multiplies by the derivative of x·w − y with respect to w."
WRONG_VARIABLE = "this is the derivative with respect to x; differentiate with respect to w."

WRONG_FORMS = [
    WrongForm(MISSING_TWO, "x*(x*w - y)"),
    WrongForm(SIGN_FLIP, "-2*x*(x*w - y)"),
    WrongForm(MISSING_X, "2*(x*w - y)"),
    WrongForm(WRONG_VARIABLE, "2*w*(x*w - y)"),
    WrongForm("this is the loss itself, not its derivative with respect to w.", "(x*w - y)**2"),
]
GRADIENT_MISTAKES = [
    Mistake(MISSING_TWO, lambda x, y, w: x * (x * w - y)),
    Mistake(SIGN_FLIP, lambda x, y, w: -2 * x * (x * w - y)),
    Mistake(MISSING_X, lambda x, y, w: 2 * (x * w - y)),
    Mistake(WRONG_VARIABLE, lambda x, y, w: 2 * w * (x * w - y)),
    Mistake("this is the loss itself, not its derivative with respect to w.", lambda x, y, w: (x * w - y) ** 2),
]
FORWARD = "this is the forward difference (f(w + h) − f(w)) / h; use the central difference (f(w + h) − f(w − h)) / (2h)."
DIFFERENCE_MISTAKES = [
    Mistake(FORWARD, forward_difference),
    Mistake("this is the backward difference (f(w) − f(w − h)) / h; use the central difference (f(w + h) − f(w − h)) / (2h).",
            lambda f, w, h=1e-6: (build(f)(w) - build(f)(w - h)) / h),
    Mistake("the two points w − h and w + h are 2h apart: divide by 2h, not h.", lambda f, w, h=1e-6: 2 * central(f, w, h)),
    Mistake("divide by 2h: (f(w + h) − f(w − h)) / 2 * h multiplies by h instead.",
            lambda f, w, h=1e-6: (build(f)(w + h) - build(f)(w - h)) / 2 * h),
    *[Mistake("the default step is the signature's h = 1e-6; this result matches a larger step.",
              lambda f, w, h=None, _step=step: only_if(h is None, lambda: central(f, w, _step))) for step in (1e-2, 1e-3, 1e-4, 1e-5, 1e-1)],
]


# ------------------------------------------------------------------------------------------------- inputs


def rand(rng: random.Random, lo: float = -5.0, hi: float = 5.0) -> float:
    """A random input rounded to 3 decimals, so that messages stay readable."""
    return round(rng.uniform(lo, hi), 3)


def curved_polynomial(rng: random.Random, w: float, h: float) -> FunctionRef:
    """A random cubic whose forward and central differences at w differ clearly (f''(w)·h/2 well above tolerance)."""
    while True:
        coefficients = [rand(rng, -3, 3) for _ in range(4)]
        ref = FunctionRef("polynomial", {"coefficients": coefficients})
        if abs(forward_difference(ref, w, h) - central(ref, w, h)) > 1e-3 * max(1.0, abs(central(ref, w, h))):
            return ref


def curved_sine(rng: random.Random) -> tuple[FunctionRef, float]:
    """A random sine and a point where it bends clearly (|sin| > 1/2), so that h = 1e-6 still tells forward from central."""
    amplitude, frequency = round(rng.uniform(1, 3), 3), round(rng.uniform(1.5, 3), 3)
    while True:
        w = rand(rng, -2, 2)
        if abs(math.sin(frequency * w)) > 0.5:
            return FunctionRef("sine", {"amplitude": amplitude, "frequency": frequency}), w


def difference_probe(f: FunctionRef, w: float, h: float | None = None) -> Probe:
    if h is None:
        return call("numerical_gradient", f, w, names=["f", "w"])
    return call("numerical_gradient", f, w, h, names=["f", "w", "h"])


def central_reference(f: FunctionRef, w: float, h: float = 1e-6) -> float:
    return central(f, w, h)


# ------------------------------------------------------------------------------------------------- the checks


def checks(rng: random.Random) -> list[Check]:
    # random points first: at the lecture's x = 1 and x = 2 some mistakes coincide with others or with the answer
    samples = [(rand(rng), rand(rng), rand(rng)) for _ in range(4)] + [(x, y, w) for x, y in zip(XS, YS) for w in (0.0, 1.0)]
    w1, w2 = rand(rng, -2, 2), rand(rng, -2, 2)
    sine, w3 = curved_sine(rng)
    return [
        Check(name="dloss_dw", points=2, probes=(call("dloss_dw"),), judge=expect_expression(DERIVATION, WRONG_FORMS),
              description="compared with the grader's sympy derivation, symbols matched by name"),
        Check(name="gradient", points=2,
              probes=tuple(call("gradient", x, y, w, names=["x", "y", "w"]) for x, y, w in samples),
              judge=expect(gradient, str(derivative(LOSS, "w")), GRADIENT_MISTAKES, source=f"{DERIVATION.source} at these inputs")),
        Check(name="numerical_gradient_central", points=2,
              probes=(difference_probe(curved_polynomial(rng, w1, 0.5), w1, 0.5),
               difference_probe(curved_polynomial(rng, w2, 0.25), w2, 0.25)),
              judge=expect(central_reference, "(f(w + h) - f(w - h)) / (2h)", DIFFERENCE_MISTAKES, difference_tolerance,
                     source="the central difference of f at w with this h"),
              description="a large h, so that one-sided differences miss clearly"),
        Check(name="numerical_gradient_default_h", points=1,
              probes=(difference_probe(sine, w3),),
              judge=expect(central_reference, "(f(w + h) - f(w - h)) / (2h)", DIFFERENCE_MISTAKES, difference_tolerance,
                     source="the central difference of f at w with the default h = 1e-6")),
    ]
