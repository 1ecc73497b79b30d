"""Checks of ex04_cost_loss_sgd: loss and cost with their gradients, batch GD, SGD, mini-batch GD, and the EMA."""

from __future__ import annotations

import random
from typing import Sequence

from grader.compare import tolerance_for
from grader.instructor.checks.ex01_linear_model import (
    ABSOLUTE, BY_N_MINUS_ONE, COST_MISTAKES as EX01_COST_MISTAKES, HALF_SQUARE, over_n_minus_one,
)
from grader.judges import Curve, DataJudge, Mistake, column, expect, only_if
from grader.public.trajectories import with_row_hints
from grader.model import Check, Probe, call
from grader.references import compiled, derivative

EXERCISE = "ex04_cost_loss_sgd"
LOSS = "(x*w - y)**2"
XS, YS = [1.0, 2.0, 3.0], [2.0, 4.0, 6.0]
TRAJECTORY = tolerance_for("float64", 100, why="up to a hundred epochs of updates accumulate rounding")


# ------------------------------------------------------------------------------------------------- references


def loss(x: float, y: float, w: float) -> float:
    return (x * w - y) ** 2


def loss_gradient(x: float, y: float, w: float) -> float:
    """The grader's own d/dw (x·w − y)², derived and compiled by sympy."""
    return compiled(LOSS, "w", ("x", "y", "w"))(x, y, w)


def cost(xs: Sequence[float], ys: Sequence[float], w: float) -> float:
    return sum(loss(x, y, w) for x, y in zip(xs, ys)) / len(xs)


def cost_gradient(xs: Sequence[float], ys: Sequence[float], w: float, *, factor: float = 1.0, divisor: int | None = None) -> float:
    """The mean of the loss gradients; `factor` and `divisor` (instead of len(xs)) model known mistakes."""
    return factor * sum(loss_gradient(x, y, w) for x, y in zip(xs, ys)) / (divisor or len(xs))


def batch_gd(xs, ys, w=1.0, lr=0.01, epochs=100, *, record="before", factor=1.0, divisor=None, old_w=False, per_sample=False,
             rate=True):
    """Batch GD as SPEC.md defines it; the keywords model known mistakes (`per_sample`: SGD's updates, `rate=False`:
    a step without the learning rate)."""
    history = []
    for _ in range(epochs):
        before = cost(xs, ys, w)
        if per_sample:
            new_w = sgd(xs, ys, w, lr, 1)[-1][0]
        else:
            new_w = w - (lr if rate else 1.0) * cost_gradient(xs, ys, w, factor=factor, divisor=divisor)
        history.append((w if old_w else new_w, before if record == "before" else cost(xs, ys, new_w)))
        w = new_w
    return history


def sgd(xs, ys, w=1.0, lr=0.01, epochs=100, *, record="after", factor=1.0, batch=False):
    """SGD as SPEC.md defines it; `record` ("before", "cost", "first"), `factor` and `batch` (one step per epoch with
    the mean gradient) model known mistakes."""
    history = []
    for _ in range(epochs):
        if batch:
            before = loss(xs[-1], ys[-1], w)
            w = w - lr * factor * cost_gradient(xs, ys, w)
        for x, y in zip(xs, ys) if not batch else ():
            before = loss(x, y, w)
            w = w - lr * factor * loss_gradient(x, y, w)
        history.append((w, {"after": loss(xs[-1], ys[-1], w), "before": before, "cost": cost(xs, ys, w),
                            "first": loss(xs[0], ys[0], w)}[record]))
    return history


def minibatch_gd(xs, ys, batch_size, w=1.0, lr=0.01, epochs=100, *, reduce="mean", drop_last=False, record="after"):
    """Mini-batch GD as SPEC.md defines it; `reduce` ("sum", "batch_size"), `drop_last`, `record` model known mistakes."""
    history = []
    for _ in range(epochs):
        start_w = w
        for start in range(0, len(xs), batch_size):
            bx, by = xs[start:start + batch_size], ys[start:start + batch_size]
            if drop_last and len(bx) < batch_size:
                continue
            if reduce == "per_sample":
                w = sgd(bx, by, w, lr, 1)[-1][0]
                continue
            divisor = {"mean": len(bx), "sum": 1, "batch_size": batch_size}[reduce]
            w = w - lr * cost_gradient(bx, by, w, divisor=divisor)
        recorded = {"before": lambda: cost(xs, ys, start_w), "after": lambda: cost(xs, ys, w), "last_batch": lambda: cost(bx, by, w)}
        history.append((w, recorded[record]()))
    return history


def ema(values: Sequence[float], beta: float, *, variant: str = "smoothed") -> list[float]:
    """s₀ = v₀, sᵢ = β·vᵢ + (1 − β)·sᵢ₋₁; `variant` ("raw", "swapped", "zero_start", "corrected") models known mistakes."""
    smoothed: list[float] = []
    if variant == "corrected":  # Adam's bias correction of a zero start
        return [s / (1 - (1 - beta) ** (i + 1)) for i, s in enumerate(ema(values, beta, variant="zero_start"))]
    for i, value in enumerate(values):
        if variant == "zero_start":
            smoothed.append(beta * value + (1 - beta) * (smoothed[-1] if smoothed else 0.0))
        elif not smoothed:
            smoothed.append(value)
        elif variant == "raw":
            smoothed.append(beta * value + (1 - beta) * values[i - 1])
        elif variant == "swapped":
            smoothed.append((1 - beta) * value + beta * smoothed[-1])
        else:
            smoothed.append(beta * value + (1 - beta) * smoothed[-1])
    return smoothed


# ------------------------------------------------------------------------------------------------- mistakes

LECTURE_DATA = "xs and ys are the lecture's data here, whatever the inputs: compute with the xs and ys the function is given."


def lecture_data(function) -> Mistake:
    """`function` on the lecture's xs and ys, with the other arguments it was given (data hard-coded in the body)."""
    return Mistake(LECTURE_DATA, lambda xs, ys, *a, **k: only_if((list(xs), list(ys)) != (XS, YS), lambda: function(XS, YS, *a, **k)))


def trajectory_form_mistakes(run) -> list[Mistake]:
    """A run that ignores its inputs (the lecture's run, or the lecture's data), and one entry too few or too many."""
    return [
        Mistake("this is the lecture's run, whatever the inputs: use the xs, ys, w, lr and epochs the function is given.",
                lambda xs, ys, **k: only_if((list(xs), list(ys)) != (XS, YS), lambda: run(XS, YS))),
        lecture_data(run),
        Mistake("one entry per epoch: this has one too few (check the range of the loop).", lambda *a, **k: run(*a, **k)[:-1]),
        Mistake("one entry per epoch: this has one too many (the starting w is not an entry; check the range of the loop).",
                lambda xs, ys, w=1.0, lr=0.01, epochs=100: run(xs, ys, w, lr, epochs + 1)),
    ]


SUM_NOT_MEAN = "the cost is the mean of the losses; this looks like their sum (divide by N)."
GRADIENT_SUM = "the cost gradient is the mean of the sample gradients; this used their sum (divide by N)."
MISSING_TWO = "the factor 2 from differentiating the square is missing (d/du u² = 2u, then the chain rule)."
SIGN_FLIP = "the sign is flipped: differentiate (x·w − y)² as written (prediction minus target), and step against the gradient, w − lr·gradient."
MISSING_X = "the inner derivative is missing: the chain rule multiplies by the derivative of x·w − y with respect to w."
WRONG_VARIABLE = "differentiate with respect to w: the inner derivative is that of x·w − y with respect to w, not with respect to x."
NOT_DERIVED = "this is the {} itself, not its derivative with respect to w."
PER_SAMPLE_IN_BATCH = ("batch gradient descent makes one update per epoch, with the gradient of the cost over all the data; "
                       "this updated after every sample (that is SGD).")
NO_RATE = "the step is scaled by the learning rate: w moves by lr times the gradient, not by the gradient itself."

LOSS_GRADIENT_MISTAKES = [
    Mistake(MISSING_TWO, lambda x, y, w: x * (x * w - y)),
    Mistake(SIGN_FLIP, lambda x, y, w: -2 * x * (x * w - y)),
    Mistake(MISSING_X, lambda x, y, w: 2 * (x * w - y)),
    Mistake(WRONG_VARIABLE, lambda x, y, w: 2 * w * (x * w - y)),
    Mistake(NOT_DERIVED.format("loss"), loss),
]
COST_GRADIENT_MISTAKES = [
    Mistake(GRADIENT_SUM, lambda xs, ys, w: cost_gradient(xs, ys, w, divisor=1)),
    Mistake(MISSING_TWO, lambda xs, ys, w: cost_gradient(xs, ys, w, factor=0.5)),
    Mistake(SIGN_FLIP, lambda xs, ys, w: cost_gradient(xs, ys, w, factor=-1)),
    Mistake(MISSING_X, lambda xs, ys, w: sum(2 * (x * w - y) for x, y in zip(xs, ys)) / len(xs)),
    Mistake(WRONG_VARIABLE, lambda xs, ys, w: sum(2 * w * (x * w - y) for x, y in zip(xs, ys)) / len(xs)),
    Mistake(NOT_DERIVED.format("cost"), cost),
    Mistake(BY_N_MINUS_ONE, lambda xs, ys, w: over_n_minus_one(len(xs) * cost_gradient(xs, ys, w), len(xs))),
    Mistake("the cost gradient averages the gradients of every sample; this is the gradient of the last sample alone.",
            lambda xs, ys, w: loss_gradient(xs[-1], ys[-1], w)),
    lecture_data(cost_gradient),
]
BATCH_MISTAKES = [
    Mistake("append the cost computed before the step (at the old w) with the new w; this is the cost after the step.",
            lambda *a, **k: batch_gd(*a, **k, record="after")),
    Mistake("append the new w, after the update, with the cost computed before it.", lambda *a, **k: batch_gd(*a, **k, old_w=True)),
    Mistake(GRADIENT_SUM, lambda *a, **k: batch_gd(*a, **k, divisor=1)),
    Mistake(MISSING_TWO, lambda *a, **k: batch_gd(*a, **k, factor=0.5)),
    Mistake(SIGN_FLIP, lambda *a, **k: batch_gd(*a, **k, factor=-1)),
    Mistake(PER_SAMPLE_IN_BATCH, lambda *a, **k: batch_gd(*a, **k, per_sample=True)),
    Mistake(NO_RATE, lambda *a, **k: batch_gd(*a, **k, rate=False)),
    *trajectory_form_mistakes(batch_gd),
]
SGD_MISTAKES = [
    Mistake("record the loss of the last sample computed after its update; this is its loss before the update.",
            lambda *a, **k: sgd(*a, **k, record="before")),
    Mistake("SGD records the loss of the last sample, not the cost over all the data.", lambda *a, **k: sgd(*a, **k, record="cost")),
    Mistake(MISSING_TWO, lambda *a, **k: sgd(*a, **k, factor=0.5)),
    Mistake(SIGN_FLIP, lambda *a, **k: sgd(*a, **k, factor=-1)),
    Mistake("SGD records the loss of the last sample of the epoch; this is the first sample's.", lambda *a, **k: sgd(*a, **k, record="first")),
    Mistake("SGD updates w after every sample, with that sample's loss gradient; this made one update per epoch with the mean "
            "gradient (batch gradient descent).", lambda *a, **k: sgd(*a, **k, batch=True)),
    *trajectory_form_mistakes(sgd),
]
MINIBATCH_MISTAKES = [
    Mistake("each batch steps along the mean of its sample gradients; this used their sum.", lambda *a, **k: minibatch_gd(*a, **k, reduce="sum")),
    Mistake("the last batch may be smaller: divide its gradient by its own length, not by batch_size.",
            lambda *a, **k: minibatch_gd(*a, **k, reduce="batch_size")),
    Mistake("the last, shorter batch was skipped: every sample belongs to a batch, the last one may be smaller.",
            lambda *a, **k: minibatch_gd(*a, **k, drop_last=True)),
    Mistake("record the cost over all the data after the epoch's updates, at the w you append; this is the cost before them.",
            lambda *a, **k: minibatch_gd(*a, **k, record="before")),
    Mistake("record the cost over all the data, not the cost of the last batch.", lambda *a, **k: minibatch_gd(*a, **k, record="last_batch")),
    Mistake("one update per batch, with the batch's mean gradient; this updated after every sample of the batch.",
            lambda *a, **k: minibatch_gd(*a, **k, reduce="per_sample")),
    Mistake("batch_size is ignored: this made one update per epoch over all the data; split the data into consecutive batches.",
            lambda xs, ys, batch_size, **k: only_if(batch_size != len(xs), lambda: minibatch_gd(xs, ys, len(xs), **k))),
    lecture_data(minibatch_gd),
]
EMA_MISTAKES = [
    Mistake("smooth with the previous smoothed value, s[i] = beta·v[i] + (1 − beta)·s[i−1]; this used the raw previous value v[i−1] "
            "(a slip on one lecture slide).", lambda values, beta: ema(values, beta, variant="raw")),
    Mistake("beta weights the new value: s[i] = beta·v[i] + (1 − beta)·s[i−1]; the two weights are swapped.",
            lambda values, beta: ema(values, beta, variant="swapped")),
    Mistake("start from the first value, s[0] = v[0], not from 0.", lambda values, beta: ema(values, beta, variant="zero_start")),
    Mistake("no bias correction here: start from s[0] = v[0] and leave each s[i] as it is (no division by 1 − (1 − beta)^(i+1)).",
            lambda values, beta: ema(values, beta, variant="corrected")),
]
COST_MISTAKES = [Mistake(SUM_NOT_MEAN, lambda xs, ys, w: len(xs) * cost(xs, ys, w)), *EX01_COST_MISTAKES, lecture_data(cost)]  # ex01's cost, its mistakes


# ------------------------------------------------------------------------------------------------- inputs and checks


def rand(rng: random.Random, lo: float = -3.0, hi: float = 3.0) -> float:
    """A random input rounded to 3 decimals, so that messages stay readable."""
    return round(rng.uniform(lo, hi), 3)


def random_data(rng: random.Random, n: int) -> tuple[list[float], list[float]]:
    """Data near a random line through the origin, 0.3 <= |x| <= 2: the rates drawn below converge, and every sample's
    step is large enough to tell the order of steps and records apart."""
    slope = rand(rng, -3, 3)
    xs = [rng.choice((-1, 1)) * rand(rng, 0.3, 2) for _ in range(n)]
    return xs, [round(slope * x + rng.gauss(0, 0.5), 3) for x in xs]


def random_run(rng: random.Random, n: int, epochs: int) -> tuple[list, dict]:
    xs, ys = random_data(rng, n)
    return [xs, ys], {"w": rand(rng, -2, 2), "lr": round(rng.uniform(0.005, 0.05), 4), "epochs": epochs}


def trajectory_probe(function: str, args: list, kwargs: dict, names: Sequence[str] = ("xs", "ys")) -> Probe:
    return call(function, *args, names=list(names), **kwargs)


def minibatch_probe(rng: random.Random, n: int, batch_size: int, epochs: int) -> Probe:
    args, kwargs = random_run(rng, n, epochs)
    return trajectory_probe("minibatch_gd", [*args, batch_size], kwargs, ("xs", "ys", "batch_size"))


BATCH_FORMULA = "w ← w − lr·(1/N) Σ 2x(x·w − y) once per epoch; (new w, cost before the step)"
SGD_FORMULA = "w ← w − lr·2x(x·w − y) for each sample in order; (w, loss of the last sample after its step)"
BATCH_SOURCE = "the grader's own batch gradient descent on these data: (new w, cost before the step) per epoch"
SGD_SOURCE = "the grader's own SGD on these data: (w, loss of the last sample after its step) per epoch"
MINIBATCH_FORMULA = "one step per consecutive batch along its mean gradient; (w, cost over all the data at that w)"
EMA_FORMULA = "s[0] = v[0], s[i] = beta*v[i] + (1 - beta)*s[i-1]"


def full_batch_ws(xs, ys, batch_size, **kwargs):
    return column(0)(batch_gd(xs, ys, **kwargs))


def single_sample_ws(xs, ys, batch_size, **kwargs):
    return column(0)(sgd(xs, ys, **kwargs))


def SECOND_COLUMN(trajectory):
    """The recorded cost or loss of a (w, value) trajectory."""
    return trajectory[:, 1]


RUNS = {  # function: (reference, formula, mistakes, source, curve)
    "batch_gd": (batch_gd, BATCH_FORMULA, BATCH_MISTAKES, BATCH_SOURCE, Curve("batch_gd: cost per epoch", "cost", SECOND_COLUMN)),
    "sgd": (sgd, SGD_FORMULA, SGD_MISTAKES, SGD_SOURCE, Curve("sgd: loss of the last sample per epoch", "loss", SECOND_COLUMN)),
}


def run_judge(function: str, curve: bool = True) -> DataJudge:
    """batch_gd's or sgd's trajectory against the grader's run, naming a row too few or too many."""
    reference, formula, mistakes, source, drawn = RUNS[function]
    judge = expect(reference, formula, mistakes, TRAJECTORY, source=source, shaped=True, curve=drawn if curve else None)
    return with_row_hints(judge, row_rule="one row per epoch, w after that epoch's updates (the starting w is not a row)")


def checks(rng: random.Random) -> list[Check]:
    points = [(rand(rng), rand(rng), rand(rng)) for _ in range(4)] + [(x, y, w) for x, y in zip(XS, YS) for w in (1.0, 2.5)]
    datasets = [random_data(rng, n) for n in (2, 5)] + [(XS, YS)]
    sums = [(xs, ys, w) for xs, ys in datasets for w in (rand(rng), 1.0)]
    batch_run, sgd_run = random_run(rng, 4, 30), random_run(rng, 5, 30)
    n, batch_size = rng.choice([(7, 3), (8, 3), (5, 2), (10, 4)])
    full_args, full_kwargs = random_run(rng, 6, 25)
    single_args, single_kwargs = random_run(rng, 5, 25)
    values, beta = [rand(rng, 0, 10) for _ in range(12)], round(rng.uniform(0.1, 0.9), 3)
    return [
        Check(name="loss", points=1, probes=tuple(call("loss", *p, names=["x", "y", "w"]) for p in points),
              judge=expect(loss, LOSS, [Mistake("the loss squares the error: (x·w − y)², not x·w − y.", lambda x, y, w: x * w - y), ABSOLUTE, HALF_SQUARE],
                     source="the loss (x·w − y)²")),
        Check(name="loss_gradient", points=1, probes=tuple(call("loss_gradient", *p, names=["x", "y", "w"]) for p in points),
              judge=expect(loss_gradient, str(derivative(LOSS, 'w')), LOSS_GRADIENT_MISTAKES, source="sympy: d/dw of (x·w − y)² at these inputs")),
        Check(name="cost", points=1, probes=tuple(call("cost", *s, names=["xs", "ys", "w"]) for s in sums),
              judge=expect(cost, "(1/N) * sum((x*w - y)**2)", COST_MISTAKES,
                     source="the mean of the loss (x·w − y)² over the data")),
        Check(name="cost_gradient", points=2, probes=tuple(call("cost_gradient", *s, names=["xs", "ys", "w"]) for s in sums),
              judge=expect(cost_gradient, f"(1/N) * sum({derivative(LOSS, 'w')})", COST_GRADIENT_MISTAKES,
                     source="the mean over the data of sympy's d/dw of (x·w − y)²")),
        Check(name="batch_gd_lecture", points=2, probes=(trajectory_probe("batch_gd", [XS, YS], {}),),
              judge=run_judge("batch_gd"),
              description="the lecture's run from w = 1: (1.09, 4.67), (1.18, 3.84), … recomputed by the grader"),
        Check(name="batch_gd_random", points=1, probes=(trajectory_probe("batch_gd", *batch_run),),
              judge=run_judge("batch_gd")),
        Check(name="sgd_lecture", points=2, probes=(trajectory_probe("sgd", [XS, YS], {}),),
              judge=run_judge("sgd"),
              description="the lecture's run from w = 1: (1.26, 4.92), (1.45, 2.69), … recomputed by the grader"),
        Check(name="sgd_random", points=1, probes=(trajectory_probe("sgd", *sgd_run),),
              judge=run_judge("sgd")),
        Check(name="minibatch_gd", points=2, probes=(minibatch_probe(rng, n, batch_size, 20),),
              judge=expect(minibatch_gd, MINIBATCH_FORMULA, MINIBATCH_MISTAKES, TRAJECTORY, source=MINIBATCH_FORMULA, curve=Curve("minibatch_gd: cost per epoch", "cost", SECOND_COLUMN)),
              description="N not divisible by batch_size: the last batch is smaller"),
        Check(name="minibatch_full_batch", points=1,
              probes=(trajectory_probe("minibatch_gd", [*full_args, len(full_args[0])], full_kwargs, ("xs", "ys", "batch_size")),),
              judge=expect(full_batch_ws, "batch_gd's w", [], TRAJECTORY, extract=column(0),
                     source="the w of batch_gd (batch_size = N is batch gradient descent)")),
        Check(name="minibatch_single_sample", points=1,
              probes=(trajectory_probe("minibatch_gd", [*single_args, 1], single_kwargs, ("xs", "ys", "batch_size")),),
              judge=expect(single_sample_ws, "sgd's w", [], TRAJECTORY, extract=column(0),
                     source="the w of sgd (batch_size = 1 is stochastic gradient descent)")),
        Check(name="ema", points=2, probes=(call("ema", values, beta, names=["values", "beta"]),),
              judge=expect(ema, EMA_FORMULA, EMA_MISTAKES, source=EMA_FORMULA)),
    ]
