"""Checks of ex05_torch_gd: trajectories of gradient descent in PyTorch against the grader's own autograd runs.

References are computed here with torch autograd in float64 from the exact input values; answers are judged at
the precision of the input dtype (float32 inputs, as in the lectures, get float32 tolerances). The lecture's data
is used as well as random data, so a hard-coded table fails. Device checks run the same functions on `cuda`
tensors and compare with the CPU reference; they are skipped (neither for nor against) where there is no CUDA.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch

from grader.compare import tolerance_for
from grader.judges import Curve, FLOAT64, Mistake, expect, expect_parts, item, items
from grader.public.trajectories import with_row_hints
from grader.model import Check, Probe, call
from grader.wire import TensorData

EXERCISE = "ex05_torch_gd"
LECTURE_X = [[1.0], [2.0], [3.0]]
LINE_X = [1.0, 2.0, 3.0, 4.0]
MSE_TRUE, MSE_PRED = [480.0, 520.0, 710.0, 680.0], [440.0, 530.0, 620.0, 710.0]
TRAJECTORY_WHY = ("rounding accumulates along a trajectory: over 200 seeds the solution and other styles (float64 inside, "
                  "fused mse_loss, sums divided by m) stayed within 0.4 of the plain dtype tolerance; 2 leaves room for other "
                  "orders of summation (and GPU reductions) while every named mistake still misses by orders of magnitude")
TRAJECTORY_SCALE = 2.0
SCALAR_SCALE = 2.0


# ------------------------------------------------------------------------------------------------- references


def tensor(data: TensorData | Any) -> torch.Tensor:
    """The grader's float64 copy of an input (its exact values, whatever the dtype it was sent in)."""
    array = data.array if isinstance(data, TensorData) else data
    return torch.tensor(np.asarray(array, dtype=np.float64), dtype=torch.float64)


def weight_descent(x_train, y_train, lr=0.15, epochs=10, *, loss="mean", gradient="autograd", zero=True, record="before",
                   sign=1.0, frozen=False):
    """(W, cost) per epoch 0..epochs of gradient descent on H(x) = W·x; the keywords model known mistakes.

    loss: "mean" (the MSE) or "sum"; gradient: "autograd" (d loss/dW), "sum" (Σ (W·x − y)·x) or "no2"
    (mean((W·x − y)·x)) or "nox" (2·mean(W·x − y)); zero=False lets gradients accumulate; record="after" records W
    after its update; sign=-1 climbs the gradient; frozen=True never moves W (no step).
    """
    x, y = tensor(x_train), tensor(y_train)
    W = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    accumulated = torch.zeros(1, dtype=torch.float64)
    rows = []
    for _ in range(int(epochs) + 1):
        error = x * W - y
        cost = torch.mean(error ** 2) if loss == "mean" else torch.sum(error ** 2)
        if gradient == "autograd":
            (step_gradient,) = torch.autograd.grad(cost, W)
        elif gradient == "sum":
            step_gradient = torch.sum(error * x).detach()
        elif gradient == "nox":
            step_gradient = 2 * torch.mean(error).detach()
        else:
            step_gradient = torch.mean(error * x).detach()
        accumulated = step_gradient if zero else accumulated + step_gradient
        updated = (W - (0.0 if frozen else sign * lr) * accumulated).detach()
        rows.append((float(updated if record == "after" else W.detach()), float(cost.detach())))
        W = updated.requires_grad_()
    return rows


def line_fit(x, y, lr=0.01, epochs=100, *, loss="mean", zero=True, fixed_b=False, record="before"):
    """(w, b, losses) of full-batch gradient descent on H(x) = w·x + b from w = b = 0; keywords model mistakes
    (`fixed_b`: b never updated, `record="after"`: each loss taken after its update)."""
    xs, ys = tensor(x), tensor(y)
    w = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    grad_w, grad_b = torch.zeros(1, dtype=torch.float64), torch.zeros(1, dtype=torch.float64)
    losses = []
    for _ in range(int(epochs)):
        error = w * xs + b - ys
        value = torch.mean(error ** 2) if loss == "mean" else torch.sum(error ** 2)
        losses.append(float(value.detach()))
        dw, db = torch.autograd.grad(value, (w, b))
        grad_w, grad_b = (dw, db) if zero else (grad_w + dw, grad_b + db)
        w = (w - lr * grad_w).detach().requires_grad_()
        b = (b - (0.0 if fixed_b else lr) * grad_b).detach().requires_grad_()
        if record == "after":
            after = torch.mean((w * xs + b - ys) ** 2) if loss == "mean" else torch.sum((w * xs + b - ys) ** 2)
            losses[-1] = float(after.detach())
    return float(w.detach()), float(b.detach()), losses


def scalar_descent(x0=5.0, lr=0.1, steps=10, *, record_x="after", zero=True, record_y="before", frozen=False):
    """(y before the step, dy/dx, x after the step) per step of minimising y = (x − 3)² + 4 from x0."""
    x = torch.tensor(float(x0), dtype=torch.float64, requires_grad=True)
    accumulated = torch.zeros((), dtype=torch.float64)
    rows = []
    for _ in range(int(steps)):
        y = (x - 3) ** 2 + 4
        (gradient,) = torch.autograd.grad(y, x)
        accumulated = gradient if zero else accumulated + gradient
        updated = (x - (0.0 if frozen else lr) * accumulated).detach()
        y_recorded = y.detach() if record_y == "before" else (updated - 3) ** 2 + 4
        rows.append((float(y_recorded), float(accumulated), float(updated if record_x == "after" else x.detach())))
        x = updated.requires_grad_()
    return rows


def mean_squared_error(y_true, y_pred):
    return float(torch.mean((tensor(y_true) - tensor(y_pred)) ** 2))


def equivalent_lr(lr_sum, m):
    return lr_sum * m / 2


# ------------------------------------------------------------------------------------------------- mistakes

W_RECORDED_AFTER = Mistake("record (W, cost) before the update: entry k holds the W at which that cost was computed (W after the update was recorded).",
                           lambda *a, **k: weight_descent(*a, **k, record="after"))
SUM_GRADIENT = Mistake("this looks like the plain sum Σ (W·x − y)·x; the gradient of the cost, a mean of squares, keeps the mean's 1/m and the square's factor 2.",
                       lambda *a, **k: weight_descent(*a, **k, gradient="sum"))
NO_TWO = Mistake("the factor 2 from differentiating the square is missing (d/du u² = 2u, then the chain rule).",
                 lambda *a, **k: weight_descent(*a, **k, gradient="no2"))
NOT_ZEROED = Mistake("gradients are never zeroed: backward() adds to .grad, so call optimizer.zero_grad() every iteration.",
                     lambda *a, **k: weight_descent(*a, **k, zero=False))
SUM_LOSS = Mistake("the cost is the mean of the squared errors (torch.mean); this looks like their sum, whose gradient is m times too large.",
                   lambda *a, **k: weight_descent(*a, **k, loss="sum"))
LINE_NOT_ZEROED = Mistake("gradients are never zeroed: backward() adds to .grad, so zero w.grad and b.grad after every update.",
                          lambda *a, **k: line_fit(*a, **k, zero=False))
LINE_SUM_LOSS = Mistake("the loss is the mean of the squared errors (torch.mean); this looks like their sum.",
                        lambda *a, **k: line_fit(*a, **k, loss="sum"))
X_BEFORE_STEP = Mistake("record x after optimizer.step(): each entry is (y before the step, dy/dx, x after the step).",
                        lambda *a, **k: scalar_descent(*a, **k, record_x="before"))
SCALAR_NOT_ZEROED = Mistake("gradients are never zeroed: call optimizer.zero_grad() before each backward().",
                            lambda *a, **k: scalar_descent(*a, **k, zero=False))
NEVER_STEPS = ("W never moves: is optimizer.step() called after backward() (and is it the optimizer built on W, with "
               "zero_grad() before backward(), not between backward() and step())?")
ASCENT = Mistake("gradient descent steps against the gradient; these steps added it.", lambda *a, **k: weight_descent(*a, **k, sign=-1.0))
NO_X = Mistake("the inner derivative of W·x − y with respect to W is missing from the gradient.",
               lambda *a, **k: weight_descent(*a, **k, gradient="nox"))
W_FROZEN = Mistake(NEVER_STEPS, lambda *a, **k: weight_descent(*a, **k, frozen=True))
MANUAL_FROZEN = Mistake("W never moves: assign the updated value back to W in every epoch.", lambda *a, **k: weight_descent(*a, **k, frozen=True))
ROWS = "the result has one row for each epoch 0..epochs, both ends included; check the range of the loop."
ROW_FEWER = Mistake("one row too few: " + ROWS, lambda x, y, lr=0.15, epochs=10: weight_descent(x, y, lr, epochs)[:-1])
ROW_MORE = Mistake("one row too many: " + ROWS, lambda x, y, lr=0.15, epochs=10: weight_descent(x, y, lr, epochs + 1))
LECTURE_RUN = Mistake("this is the lecture's table, whatever the inputs: run on the x_train, y_train, lr and epochs given.",
                      lambda *a, **k: weight_descent(LECTURE_X, LECTURE_X))
STEP_ROWS = "the result has one row per step; check the range of the loop."
STEP_FEWER = Mistake("one row too few: " + STEP_ROWS, lambda x0=5.0, lr=0.1, steps=10: scalar_descent(x0, lr, steps - 1))
STEP_MORE = Mistake("one row too many: " + STEP_ROWS, lambda x0=5.0, lr=0.1, steps=10: scalar_descent(x0, lr, steps + 1))
LINE_FIXED_B = Mistake("b never changes: update b with its own gradient, like w.", lambda *a, **k: line_fit(*a, **k, fixed_b=True))
LINE_AFTER = Mistake("losses[i] is the loss computed before update i (the one backward() was called on); this is the loss after it.",
                     lambda *a, **k: line_fit(*a, **k, record="after"))
Y_AFTER_STEP = Mistake("record y before the step (the value backward() differentiated); this is y at the new x.",
                       lambda *a, **k: scalar_descent(*a, **k, record_y="after"))
SCALAR_FROZEN = Mistake("x never moves: call optimizer.step() after backward(), on an optimizer built on x.",
                        lambda *a, **k: scalar_descent(*a, **k, frozen=True))
MSE_MISTAKES = [
    Mistake("the MSE is the mean of the squared errors; this looks like their sum (divide by the number of samples).",
            lambda t, p: float(torch.sum((tensor(t) - tensor(p)) ** 2))),
    Mistake("this looks like the root of the MSE (RMSE); the MSE has no square root.",
            lambda t, p: mean_squared_error(t, p) ** 0.5),
    Mistake("square each error before averaging: mean((y_true − y_pred)²), not (mean(y_true − y_pred))².",
            lambda t, p: float(torch.mean(tensor(t) - tensor(p)) ** 2)),
    Mistake("this is the mean absolute error; the MSE squares each error.", lambda t, p: float(torch.mean(torch.abs(tensor(t) - tensor(p))))),
]
LR_MISTAKES = [
    Mistake("the factor 2 of the true gradient is missing: choose α so that α times the true gradient equals lr_sum times the summed one.", lambda lr, m: lr * m),
    Mistake("the factor is inverted: solve α·(true gradient) = lr_sum·(summed gradient) for α, not for lr_sum.", lambda lr, m: 2 * lr / m),
    Mistake("solve α·(true gradient) = lr_sum·(summed gradient) for α; dividing lr_sum by m is not it.", lambda lr, m: lr / m),
]


# ------------------------------------------------------------------------------------------------- probes and tolerances


def data(values: Any, dtype: str = "float32", device: str = "cpu") -> TensorData:
    """A tensor argument: the values rounded to `dtype`, sent with that dtype and device."""
    array = np.asarray(values, dtype=dtype)
    return TensorData(array, dtype, device, tuple(array.shape))


def tolerance(scale: float, default: str = "float64", why: str = TRAJECTORY_WHY):
    """The tolerance of a probe's input dtype, widened by `scale` for the reason `why`."""
    return lambda probe: tolerance_for(probe.tensor_dtype or default, scale, why=why)


def random_weight_problem(rng: random.Random, dtype: str, column: bool = True, device: str = "cpu") -> tuple[TensorData, TensorData, float, int]:
    """Random (x, y) for H(x) = W·x and a learning rate that converges (with some overshoot) in float arithmetic."""
    m = rng.randint(3, 7)
    xs = [round(rng.uniform(-2.0, 3.0), 2) or 0.5 for _ in range(m)]
    slope = rng.uniform(-2.0, 3.0)
    ys = [round(slope * x + rng.gauss(0.0, 0.3), 2) for x in xs]
    curvature = 2 * sum(x * x for x in xs) / m
    lr = round(rng.uniform(0.3, 1.6) / curvature, 4)
    shape = (lambda v: [[e] for e in v]) if column else (lambda v: v)
    return data(shape(xs), dtype, device), data(shape(ys), dtype, device), lr, rng.randint(5, 20)


def random_line_problem(rng: random.Random, dtype: str, device: str = "cpu") -> tuple[TensorData, TensorData, float, int]:
    """Random (x, y) for H(x) = w·x + b and a learning rate below 1/λmax of the loss's Hessian."""
    m = rng.randint(4, 8)
    xs = [round(rng.uniform(-1.0, 4.0), 2) for _ in range(m)]
    w, b = rng.uniform(-2.0, 3.0), rng.uniform(-1.0, 1.0)
    ys = [round(w * x + b + rng.gauss(0.0, 0.2), 2) for x in xs]
    mean_x, mean_xx = sum(xs) / m, sum(x * x for x in xs) / m
    largest = float(np.linalg.eigvalsh(2 * np.array([[mean_xx, mean_x], [mean_x, 1.0]]))[-1])
    return data(xs, dtype, device), data(ys, dtype, device), round(rng.uniform(0.2, 1.5) / largest, 4), rng.randint(20, 60)


def random_mse_pair(rng: random.Random, dtype: str, device: str = "cpu") -> tuple[TensorData, TensorData]:
    n = rng.randint(3, 9)
    true = [round(rng.uniform(-50.0, 50.0), 1) for _ in range(n)]
    pred = [round(t + rng.gauss(0.0, 10.0), 1) for t in true]
    column = rng.random() < 0.5
    shape = (lambda v: [[e] for e in v]) if column else (lambda v: v)
    return data(shape(true), dtype, device), data(shape(pred), dtype, device)


def trajectory_probe(function: str, x: TensorData, y: TensorData, lr: float | None = None, epochs: int | None = None) -> Probe:
    """A call of `function`; manual_gd, whose text forbids autograd, is called with autograd switched off."""
    kwargs = {k: v for k, v in (("lr", lr), ("epochs", epochs)) if v is not None}
    probe = call(function, x, y, names=["x_train", "y_train"] if function != "fit_linear" else ["x", "y"], **kwargs)
    return Probe("models.call_without_autograd", probe.params, probe.timeout) if function == "manual_gd" else probe


def fit_parts() -> list[tuple[str, Any]]:
    return [("(w, b)", items(0, 1)), ("losses", item(2))]


# ------------------------------------------------------------------------------------------------- judges

WITH_AUTOGRAD = [("RuntimeError", "does not require grad",
                  "manual_gd computes the gradient by hand, without autograd (the grader runs it with autograd switched off, "
                  "as the exercise asks): no requires_grad, backward() or torch.autograd.grad; update W with the gradient you derived."),
                 ("TypeError", "NoneType", "W.grad is None: autograd is switched off for manual_gd, which computes the gradient by hand.")]
ITEM_BEFORE_BACKWARD = [("AttributeError", "has no attribute 'backward'",
                         "backward() was called on a Python number: .item() turns a tensor into a float that has no graph. Call "
                         "backward() on the loss tensor itself and take .item() only to record the value.")]

MANUAL_SOURCE = "the grader's own gradient descent on the MSE (torch autograd in float64) from W = 0, rows (W, cost) for epochs 0..epochs"
MANUAL_FORMULA = "W ← W − lr·(2/m) Σ (W·x − y)·x starting at W = 0, rows (W, cost) for epochs 0..epochs"
OPTIM_FORMULA = "torch.optim.SGD on mean((W·x − y)²) starting at W = 0, rows (W, cost) for epochs 0..epochs"
LINE_FORMULA = "gradient descent on mean((w·x + b − y)²) (torch autograd), starting at w = b = 0"
SCALAR_FORMULA = "SGD on y = (x − 3)² + 4 (torch autograd), rows (y before the step, dy/dx, x after the step)"

COST_CURVE = Curve("cost per epoch", "cost", lambda trajectory: trajectory[:, 1])
judge_manual = with_row_hints(expect(weight_descent, MANUAL_FORMULA, [W_RECORDED_AFTER, SUM_GRADIENT, NO_TWO, ASCENT, NO_X, MANUAL_FROZEN,
                                                                      ROW_FEWER, ROW_MORE, LECTURE_RUN],
                                     tolerance(TRAJECTORY_SCALE), curve=COST_CURVE, source=MANUAL_SOURCE, shaped=True,
                                     raises=WITH_AUTOGRAD))
judge_optim = with_row_hints(expect(weight_descent, OPTIM_FORMULA, [NOT_ZEROED, SUM_LOSS, W_RECORDED_AFTER, SUM_GRADIENT, ASCENT, W_FROZEN,
                                                                    ROW_FEWER, ROW_MORE, LECTURE_RUN],
                                    tolerance(TRAJECTORY_SCALE), curve=COST_CURVE, source=OPTIM_FORMULA, shaped=True,
                                    raises=ITEM_BEFORE_BACKWARD))
judge_fit = with_row_hints(expect_parts(line_fit, LINE_FORMULA, fit_parts(), [LINE_NOT_ZEROED, LINE_SUM_LOSS, LINE_FIXED_B, LINE_AFTER],
                                        tolerance(TRAJECTORY_SCALE), source=LINE_FORMULA, raises=ITEM_BEFORE_BACKWARD), rows=False)
judge_scalar = with_row_hints(expect(scalar_descent, SCALAR_FORMULA, [X_BEFORE_STEP, SCALAR_NOT_ZEROED, Y_AFTER_STEP, SCALAR_FROZEN,
                                                                      STEP_FEWER, STEP_MORE],
                                     tolerance(SCALAR_SCALE, "float32"), source=SCALAR_FORMULA, shaped=True, raises=ITEM_BEFORE_BACKWARD))
judge_mse = with_row_hints(expect(mean_squared_error, "mean((y_true − y_pred)²)", MSE_MISTAKES, tolerance(1.0),
                                  source="the mean of the squared errors"), rows=False)
judge_lr = expect(equivalent_lr, "lr_sum·m/2 (so that lr·(2/m) = lr_sum)", LR_MISTAKES, FLOAT64,
                  source="the lr whose steps along the true gradient of the cost equal lr_sum's steps along the summed gradient")


def device_checks(rng: random.Random, device: str = "cuda") -> list[Check]:
    """The torch functions on `device` tensors against the CPU reference; skipped where `device` is missing."""
    x, y, lr, epochs = random_weight_problem(rng, "float32", device=device)
    lx, ly, line_lr, line_epochs = random_line_problem(rng, "float32", device=device)
    true, pred = random_mse_pair(rng, "float32", device=device)
    lecture_x = data(LECTURE_X, device=device)
    return [
        Check(name=f"manual_gd_{device}", points=1,
              probes=(trajectory_probe("manual_gd", lecture_x, lecture_x), trajectory_probe("manual_gd", x, y, lr, epochs)),
              judge=judge_manual, expects_errors=True, requires=device, description=f"inputs on {device}: the result must equal the CPU reference"),
        Check(name=f"optim_gd_{device}", points=1,
              probes=(trajectory_probe("optim_gd", x, y, lr, epochs),), judge=judge_optim, expects_errors=True, requires=device),
        Check(name=f"fit_linear_{device}", points=1,
              probes=(trajectory_probe("fit_linear", lx, ly, line_lr, line_epochs),), judge=judge_fit, expects_errors=True, requires=device),
        Check(name=f"mse_{device}", points=1,
              probes=(call("mse", true, pred, names=["y_true", "y_pred"]),), judge=judge_mse, requires=device),
    ]


# ------------------------------------------------------------------------------------------------- the checks


def checks(rng: random.Random) -> list[Check]:
    lecture_x = data(LECTURE_X)
    line_x = data(LINE_X)
    line_y = data([2 * v for v in LINE_X])
    x64, y64, lr64, epochs64 = random_weight_problem(rng, "float64")
    x32, y32, lr32, epochs32 = random_weight_problem(rng, "float32")
    line64 = random_line_problem(rng, "float64")
    return [
        Check(name="manual_gd_lecture", points=2,
              probes=(trajectory_probe("manual_gd", lecture_x, lecture_x),), judge=judge_manual, expects_errors=True,
              description="x = y = [[1], [2], [3]], lr = 0.15: W = 0, 1.4, 0.84, 1.064, …"),
        Check(name="manual_gd_random", points=2,
              probes=(trajectory_probe("manual_gd", x64, y64, lr64, epochs64), trajectory_probe("manual_gd", x32, y32, lr32, epochs32)),
              judge=judge_manual, expects_errors=True),
        Check(name="optim_gd_lecture", points=2,
              probes=(trajectory_probe("optim_gd", lecture_x, lecture_x),), judge=judge_optim, expects_errors=True),
        Check(name="optim_gd_random", points=2,
              probes=(trajectory_probe("optim_gd", x32, y32, lr32, epochs32), trajectory_probe("optim_gd", x64, y64, lr64, epochs64)),
              judge=judge_optim, expects_errors=True),
        Check(name="equivalent_lr", points=1,
              probes=(call("equivalent_lr", 0.1, 3, names=["lr_sum", "m"]),
               call("equivalent_lr", round(rng.uniform(0.001, 0.5), 4), rng.randint(4, 50), names=["lr_sum", "m"])),
              judge=judge_lr),
        Check(name="fit_linear_lecture", points=2,
              probes=(trajectory_probe("fit_linear", line_x, line_y), trajectory_probe("fit_linear", *line64)), judge=judge_fit, expects_errors=True,
              description="x = [1, 2, 3, 4], y = 2x: w ≈ 1.8463, b ≈ 0.4518 after 100 epochs; and a float64 line, at float64 precision"),
        Check(name="mse", points=1,
              probes=(call("mse", data(MSE_TRUE), data(MSE_PRED), names=["y_true", "y_pred"]),
               call("mse", *random_mse_pair(rng, "float64"), names=["y_true", "y_pred"])),
              judge=judge_mse),
        Check(name="descend_scalar_lecture", points=2,
              probes=(call("descend_scalar"),), judge=judge_scalar, expects_errors=True, description="x0 = 5, lr = 0.1: (8.0, 4.0, 4.6), (6.56, 3.2, 4.28), …"),
        Check(name="descend_scalar_oscillates", points=1,
              probes=(call("descend_scalar", 5.0, 1.0, 6, names=["x0", "lr", "steps"]),), judge=judge_scalar, expects_errors=True,
              description="lr = 1 jumps between 5 and 1 forever"),
        *device_checks(rng),
    ]
