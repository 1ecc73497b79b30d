"""Checks of ex03_quadratic: ŷ = x²·w2 + x·w1 + b, its loss, its three derivatives (sympy and numbers), SGD training."""

from __future__ import annotations

import random
from typing import Callable, Sequence

from grader.compare import tolerance_for
from grader.judges import Curve, DataJudge, Mistake, expect, only_if
from grader.public.trajectories import with_row_hints
from grader.model import Check, call
from grader.references import compiled, numeric
from grader.symbolic import Derivation, WrongForm, expect_expression_dict

EXERCISE = "ex03_quadratic"
PREDICTION = "x**2*w2 + x*w1 + b"
LOSS = f"({PREDICTION} - y)**2"
SWAPPED_PREDICTION = "x**2*w1 + x*w2 + b"  # the other lecture's convention, a known mistake here
SWAPPED_LOSS = f"({SWAPPED_PREDICTION} - y)**2"
ARGS = ("x", "y", "w1", "w2", "b")
PARAMETERS = ("w1", "w2", "b")
XS, YS = [1.0, 2.0, 3.0], [2.0, 4.0, 6.0]
TRAJECTORY = tolerance_for("float64", 1000, why="a hundred epochs of updates accumulate rounding")


# ------------------------------------------------------------------------------------------------- references


def forward(x: float, w1: float, w2: float, b: float) -> float:
    return numeric(PREDICTION, ("x", "w1", "w2", "b"))(x, w1, w2, b)


def loss(x: float, y: float, w1: float, w2: float, b: float) -> float:
    return numeric(LOSS, ARGS)(x, y, w1, w2, b)


def gradients(x: float, y: float, w1: float, w2: float, b: float, *, loss_text: str = LOSS) -> tuple[float, float, float]:
    """The grader's own (∂loss/∂w1, ∂loss/∂w2, ∂loss/∂b), derived and compiled by sympy (`loss_text`: a mistake's loss)."""
    return tuple(compiled(loss_text, p, ARGS)(x, y, w1, w2, b) for p in PARAMETERS)


def cost(xs: Sequence[float], ys: Sequence[float], w1: float, w2: float, b: float) -> float:
    return sum(loss(x, y, w1, w2, b) for x, y in zip(xs, ys)) / len(xs)


def train(xs: Sequence[float], ys: Sequence[float], w1: float = 0.0, w2: float = 0.0, b: float = 0.0, lr: float = 0.01,
          epochs: int = 100, *, sequential: bool | str = False, record: str = "after", loss_text: str = LOSS, direction: float = 1.0,
          batch: bool = False, frozen: str = "") -> list[tuple[float, float, float, float]]:
    """SGD as SPEC.md defines it. The keywords model known mistakes: `sequential` updates, what `record` keeps ("before",
    "last", "sum"), another model's `loss_text`, an update `direction` of −1 (ascent), one `batch` step per epoch with the
    mean gradient, a `frozen` parameter never updated."""
    if loss_text != LOSS or direction != 1.0 or batch or frozen:
        return _train_variant(xs, ys, w1, w2, b, lr, epochs, loss_text, direction, batch, frozen)
    history = []
    for _ in range(epochs):
        start = (w1, w2, b)
        for x, y in zip(xs, ys):
            if sequential == "w1 first":  # w1 moves before the derivatives of w2 and b are taken
                w1 -= lr * gradients(x, y, w1, w2, b)[0]
                _, d_w2, d_b = gradients(x, y, w1, w2, b)
                w2, b = w2 - lr * d_w2, b - lr * d_b
            elif sequential:  # each parameter moves before the next one's derivative is taken
                w1 -= lr * gradients(x, y, w1, w2, b)[0]
                w2 -= lr * gradients(x, y, w1, w2, b)[1]
                b -= lr * gradients(x, y, w1, w2, b)[2]
            else:
                d_w1, d_w2, d_b = gradients(x, y, w1, w2, b)
                w1, w2, b = w1 - lr * d_w1, w2 - lr * d_w2, b - lr * d_b
        recorded = {
            "after": lambda: cost(xs, ys, w1, w2, b),
            "before": lambda: cost(xs, ys, *start),
            "last": lambda: loss(xs[-1], ys[-1], w1, w2, b),
            "sum": lambda: len(xs) * cost(xs, ys, w1, w2, b),
        }[record]()
        history.append((w1, w2, b, recorded))
    return history


def _train_variant(xs, ys, w1, w2, b, lr, epochs, loss_text, direction, batch, frozen) -> list[tuple[float, float, float, float]]:
    params, history = [w1, w2, b], []
    move = [0.0 if name == frozen else direction * lr for name in PARAMETERS]
    for _ in range(epochs):
        if batch:
            steps = [sum(g) / len(xs) for g in zip(*(gradients(x, y, *params, loss_text=loss_text) for x, y in zip(xs, ys)))]
            params = [p - m * g for p, m, g in zip(params, move, steps)]
        else:
            for x, y in zip(xs, ys):
                params = [p - m * g for p, m, g in zip(params, move, gradients(x, y, *params, loss_text=loss_text))]
        history.append((*params, sum(numeric(loss_text, ARGS)(x, y, *params) for x, y in zip(xs, ys)) / len(xs)))
    return history


# ------------------------------------------------------------------------------------------------- mistakes

ERROR = f"({PREDICTION} - y)"
MISSING_TWO = "the factor 2 from differentiating the square is missing (d/du u² = 2u, then the chain rule)."
SIGN_FLIP = "the sign is flipped: differentiate (ŷ − y)² as written, prediction minus target, without turning it around."
MISSING_X = "the inner derivative ∂ŷ/∂w1 is missing: the chain rule multiplies by the derivative of ŷ with respect to w1."
W2_INNER = "the inner derivative ∂ŷ/∂w2 is wrong: differentiate ŷ = x²·w2 + x·w1 + b with respect to w2 (w2 multiplies x²)."
B_INNER = "the inner derivative ∂ŷ/∂b is wrong: differentiate ŷ = x²·w2 + x·w1 + b with respect to b."
SWAPPED = ("w2 multiplies x² and w1 multiplies x in this exercise (ŷ = x²·w2 + x·w1 + b); this follows the other "
           "lecture's convention ŷ = w1·x² + w2·x + b.")
SWAPPED_KEYS = "the entries for w1 and w2 are swapped: the key \"w1\" holds the derivative with respect to w1, \"w2\" the one with respect to w2."


def wrong_forms(inner: str, inner_mistakes: Sequence[tuple[str, str]]) -> list[WrongForm]:
    return [WrongForm(MISSING_TWO, f"{ERROR}*{inner}"), WrongForm(SIGN_FLIP, f"-2*{ERROR}*{inner}")] + [
        WrongForm(hint, f"2*{ERROR}*{wrong}") for hint, wrong in inner_mistakes]


WRONG_FORMS = {key: forms + [WrongForm(f"this is the loss itself, not its derivative with respect to {key}.", f"{ERROR}**2")]
               for key, forms in {
    "w1": [WrongForm(SWAPPED, f"2*({SWAPPED_PREDICTION} - y)*x**2"), WrongForm(SWAPPED_KEYS, f"2*{ERROR}*x**2")]
          + wrong_forms("x", [(MISSING_X, "1")]),
    "w2": [WrongForm(SWAPPED, f"2*({SWAPPED_PREDICTION} - y)*x")] + wrong_forms("x**2", [(W2_INNER, "x"), (W2_INNER, "1")]),
    "b": wrong_forms("1", [(B_INNER, "x"), (B_INNER, "x**2")]),
}.items()}


def _scaled(factors: Callable[[float], tuple[float, float, float]]) -> Callable:
    """A mistake model: 2·(ŷ − y) times `factors(x)` instead of (x, x², 1)."""
    return lambda x, y, w1, w2, b: tuple(2 * (forward(x, w1, w2, b) - y) * f for f in factors(x))


GRADIENT_MISTAKES = [
    Mistake(MISSING_TWO, lambda *a: tuple(g / 2 for g in gradients(*a))),
    Mistake(SIGN_FLIP, lambda *a: tuple(-g for g in gradients(*a))),
    Mistake(MISSING_X, _scaled(lambda x: (1.0, x * x, 1.0))),
    Mistake(W2_INNER, _scaled(lambda x: (x, x, 1.0))),
    Mistake(B_INNER, _scaled(lambda x: (x, x * x, x))),
    Mistake("return the derivatives in the order (d_w1, d_w2, d_b).", lambda *a: (gradients(*a)[1], gradients(*a)[0], gradients(*a)[2])),
    Mistake(SWAPPED, lambda *a: gradients(*a, loss_text=SWAPPED_LOSS)),
]
SEQUENTIAL = ("take all three derivatives at the current parameters before updating any of them: "
              "updating w1 before computing the w2 gradient is a sequential, not a simultaneous, update.")
TRAIN_MISTAKES = [
    Mistake(SEQUENTIAL, lambda *a, **k: train(*a, **k, sequential=True)),
    Mistake(SEQUENTIAL, lambda *a, **k: train(*a, **k, sequential="w1 first")),
    Mistake("record the cost after the epoch's updates, at the parameters you append; this is the cost before the update.",
            lambda *a, **k: train(*a, **k, record="before")),
    Mistake("record the cost, the mean loss over the whole data, not the loss of the last sample.",
            lambda *a, **k: train(*a, **k, record="last")),
    Mistake("the cost is the mean of the losses; this looks like their sum (divide by N).", lambda *a, **k: train(*a, **k, record="sum")),
    Mistake(SWAPPED, lambda *a, **k: train(*a, **k, loss_text=SWAPPED_LOSS)),
    Mistake("gradient descent steps against the gradient; these updates added it.", lambda *a, **k: train(*a, **k, direction=-1.0)),
    Mistake("stochastic gradient descent updates after every sample; this made one update per epoch with the mean gradient "
            "(batch gradient descent).", lambda *a, **k: train(*a, **k, batch=True)),
    *[Mistake(f"{name} never changes: every parameter, {name} included, is updated with its own derivative.",
              lambda *a, _name=name, **k: train(*a, **k, frozen=_name)) for name in PARAMETERS],
    Mistake("this is the run on the lecture's data, whatever the inputs: train on the xs and ys it is given.",
            lambda xs, ys, **k: only_if((list(xs), list(ys)) != (XS, YS), lambda: train(XS, YS))),
    Mistake("one entry per epoch: the starting parameters are not recorded, only the parameters after each epoch.",
            lambda *a, **k: [(k.get("w1", 0.0), k.get("w2", 0.0), k.get("b", 0.0), cost(a[0], a[1], k.get("w1", 0.0), k.get("w2", 0.0), k.get("b", 0.0)))]
            + train(*a, **k)),
    Mistake("one entry per epoch: this has one too few.", lambda *a, **k: train(*a, **k)[:-1]),
]
LOSS_MISTAKES = [
    Mistake("the loss squares the error: (ŷ − y)², not ŷ − y.", lambda x, y, w1, w2, b: forward(x, w1, w2, b) - y),
    Mistake(SWAPPED, lambda x, y, w1, w2, b: numeric(SWAPPED_LOSS, ARGS)(x, y, w1, w2, b)),
    Mistake("the lecture's loss has no factor ½.", lambda *a: loss(*a) / 2),
]


# ------------------------------------------------------------------------------------------------- inputs and checks


def rand(rng: random.Random, lo: float = -3.0, hi: float = 3.0) -> float:
    """A random input rounded to 3 decimals, so that messages stay readable."""
    return round(rng.uniform(lo, hi), 3)


def random_point(rng: random.Random) -> tuple[float, ...]:
    return tuple(rand(rng) for _ in ARGS)


def random_training(rng: random.Random, n: int, epochs: int) -> tuple[list, dict]:
    """Data with |x| <= 1.5 (so that SGD at these rates converges) and random start, rate and length."""
    xs, ys = [rand(rng, -1.5, 1.5) for _ in range(n)], [rand(rng, -2, 2) for _ in range(n)]
    kwargs = {"w1": rand(rng, -1, 1), "w2": rand(rng, -1, 1), "b": rand(rng, -1, 1), "lr": round(rng.uniform(0.01, 0.1), 3), "epochs": epochs}
    return [xs, ys], kwargs


def train_probe(args: list, kwargs: dict):
    return call("train", *args, names=["xs", "ys"], **kwargs)


def gradient_formula() -> str:
    return ", ".join(f"d/d{p} {LOSS}" for p in PARAMETERS) + " (sympy)"


TRAIN_SOURCE = "the grader's own SGD run on these data: samples in order, simultaneous updates, cost after each epoch"
COST_CURVE = Curve("train: cost after each epoch", "cost", lambda trajectory: trajectory[:, 3])


def train_judge(curve: bool = True) -> DataJudge:
    """train's trajectory against the grader's run, naming a row too few or too many."""
    judge = expect(train, "SGD over the samples in order, simultaneous updates; (w1, w2, b, cost after the epoch)", TRAIN_MISTAKES, TRAJECTORY,
                   curve=COST_CURVE if curve else None, source=TRAIN_SOURCE, shaped=True)
    return with_row_hints(judge, row_rule="one row per epoch, the parameters after it and the cost there (the start is not a row)")


def checks(rng: random.Random) -> list[Check]:
    points = [random_point(rng) for _ in range(4)] + [(x, y, 0.5, 0.25, -1.0) for x, y in zip(XS, YS)]
    train_args, train_kwargs = random_training(rng, 5, 20)
    return [
        Check(name="forward", points=1,
              probes=tuple(call("forward", x, w1, w2, b, names=["x", "w1", "w2", "b"]) for x, _, w1, w2, b in points),
              judge=expect(forward, PREDICTION, source="the model ŷ = x²·w2 + x·w1 + b", mistakes=[
                  Mistake(SWAPPED, lambda x, w1, w2, b: x * x * w1 + x * w2 + b),
                  Mistake("ŷ has three terms: the bias b is missing.", lambda x, w1, w2, b: forward(x, w1, w2, 0.0))])),
        Check(name="loss", points=1,
              probes=tuple(call("loss", *p, names=list(ARGS)) for p in points),
              judge=expect(loss, LOSS, LOSS_MISTAKES,
                     source="the loss (ŷ − y)² with ŷ = x²·w2 + x·w1 + b")),
        Check(name="gradient_exprs", points=3, probes=(call("gradient_exprs"),),
              judge=expect_expression_dict({p: Derivation(LOSS, p, ARGS) for p in PARAMETERS}, WRONG_FORMS),
              description="each derivative compared with the grader's sympy derivation, symbols matched by name"),
        Check(name="gradients", points=2,
              probes=tuple(call("gradients", *p, names=list(ARGS)) for p in points),
              judge=expect(gradients, gradient_formula(), GRADIENT_MISTAKES, source="sympy: ∂/∂w1, ∂/∂w2, ∂/∂b of (ŷ − y)² at these inputs")),
        Check(name="train_lecture_data", points=2,
              probes=(train_probe([XS, YS], {"epochs": 100}),),
              judge=train_judge()),
        Check(name="train_random", points=2,
              probes=(train_probe(train_args, train_kwargs),),
              judge=train_judge()),
    ]
