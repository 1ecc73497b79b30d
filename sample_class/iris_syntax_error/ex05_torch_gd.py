# %% [markdown]
# # Exercise 5 — gradient descent with PyTorch
#
# The same idea as before (walk downhill on the cost), now with tensors. First by hand, then with autograd doing
# the calculus and an optimizer doing the update.
#
# **Model and data.** H(x) = W·x, one weight and no bias. The toy data maps every input to itself,
# x = y = [[1], [2], [3]] (shape (m, 1) with m = 3), so the best weight is W = 1.
#
# **Cost.** The mean squared error over the m samples: cost(W) = (1/m) Σᵢ (W·xᵢ − yᵢ)².
#
# **Gradient — ∂cost/∂W = ?** `manual_gd` must not use autograd: derive ∂cost/∂W by hand, with the chain rule of
# Exercise 2 for each square and the linearity of Exercise 4 for the mean, and compute it with tensor operations.
# The update is W ← W − α·∂cost/∂W with learning rate α.
#
# Self-check, on the toy data with α = 0.15: the weight goes W = 0.000, 1.400, 0.840, 1.064, 0.974, … and the cost
# 4.666667, 0.746667, 0.119467, …: each step overshoots W = 1 and lands a little closer on the other side.
#
# **Tensors keep their dtype and device.** Every tensor you create (the weight, a zero gradient) should be made
# `like` the inputs (`torch.zeros(1, dtype=x.dtype, device=x.device)`), so that the same function runs in float64,
# or on a GPU, without changes. Return plain numbers: `tensor.item()` turns a one-element tensor into a float.
#
# **`manual_gd(x_train, y_train, lr=0.15, epochs=10) -> list[(W, cost)]`**: W starts at 0. For epoch = 0, 1, …,
# epochs (that is epochs + 1 entries) append the pair (W, cost at W) as two floats, *then* update W.

# %%
from typing import Sequence

import torch

X_TRAIN = [[1.0], [2.0], [3.0]]
Y_TRAIN = [[1.0], [2.0], [3.0]]


# %%
def manual_gd(x_train: torch.Tensor, y_train: torch.Tensor, lr: float = 0.15, epochs: int = 10) -> list[tuple[float, float]]:
    """Gradient descent on cost(W) = mean((W·x − y)²) with a hand-derived gradient, no autograd.

    For epoch = 0..epochs: record (W, cost at W), then update W. Returns epochs + 1 pairs of floats.
    """
    # d cost / d W = (2/m) Σ (W·x − y)·x: the chain rule on each square, then the mean of the derivatives.
    W = torch.zeros(1, dtype=x_train.dtype, device=x_train.device)
    history = []
    for _ in range(epochs + 1):
        error = W * x_train - y_train
        cost = torch.mean(error ** 2)
        history.append((W.item(), cost.item()))
        gradient = 2 * torch.mean(error * x_train)
        W = W - lr * gradient
    return history


# %% [markdown]
# ## Letting PyTorch differentiate
#
# With `requires_grad=True` PyTorch records every operation on W, and `cost.backward()` fills `W.grad` with
# ∂cost/∂W. `torch.optim.SGD([W], lr=...)` then performs W ← W − α·W.grad in `step()`. Gradients *accumulate*
# in `W.grad` across calls to `backward()`, so each iteration starts with `optimizer.zero_grad()`; forgetting it
# adds up all past gradients and the descent goes astray.
#
# **`optim_gd(x_train, y_train, lr=0.15, epochs=10) -> list[(W, cost)]`**: the same table as `manual_gd`, with W a
# tensor created with `requires_grad=True` (like the inputs), `torch.optim.SGD`, `zero_grad()`, `backward()` and
# `step()`.
#
# **The equivalent learning rate — α = ?** One of the lectures wrote its "gradient" as the plain sum
# Σᵢ (W·xᵢ − yᵢ)·xᵢ with learning rate `lr_sum` = 0.1, and printed the very same table as the loop above with
# α = 0.15 on the m = 3 toy samples. That is no accident: a constant factor in the gradient can be moved into the
# learning rate. **`equivalent_lr(lr_sum, m) -> float`** returns the α for which a step along the true ∂cost/∂W
# (the one you derived for `manual_gd`) is the same as a step of `lr_sum` along that plain sum, for any W and any
# data of m samples. Compare the two expressions and solve for α (the lecture's pair is your self-check).

# %%
def optim_gd(x_train: torch.Tensor, y_train: torch.Tensor, lr: float = 0.15, epochs: int = 10) -> list[tuple[float, float]]:
    """`manual_gd` with autograd and `torch.optim.SGD`: zero_grad(), backward(), step(); same (W, cost) pairs."""
    W = torch.zeros(1, dtype=x_train.dtype, device=x_train.device, requires_grad=True)
    optimizer = torch.optim.SGD([W], lr=lr)
    history = []
    for _ in range(epochs + 1):
        cost = torch.mean((x_train * W - y_train) ** 2)
        history.append((W.item(), cost.item()))
        optimizer.zero_grad()
        cost.backward()
        optimizer.step()
    return history


def equivalent_lr(lr_sum: float, m: int) -> float:
    """The learning rate α whose steps along the true ∂cost/∂W equal steps of `lr_sum` along Σ(W·x − y)·x, for m samples."""
    return lr_sum * m / 2


# %% [markdown]
# ## A line with a bias
#
# H(x) = w·x + b, fitted to x = [1, 2, 3, 4], y = 2x. Now two parameters start at 0 and both get gradients from one
# `backward()`. This time the update is written by hand inside `torch.no_grad()` (so the update itself is not
# recorded), and the gradients are zeroed after it with `w.grad.zero_()`.
#
# **`fit_linear(x, y, lr=0.01, epochs=100) -> (w, b, losses)`**: x and y are 1-d tensors of the same length; w and b
# are tensors like x (same dtype and device) starting at 0 with `requires_grad=True`. Each epoch: the MSE loss
# mean((w·x + b − y)²), `backward()`, the update w ← w − lr·w.grad (and the same for b) under `torch.no_grad()`,
# then zero both gradients. Return w and b as floats, and `losses`, the list of the `epochs` loss values, `losses[i]`
# being the loss *before* update i. Self-check: on this data `losses[0]` is 30.0 (the loss at w = b = 0).
#
# A tutorial printed w = 2.0 and b ≈ 0 after 100 epochs of exactly this code. Its own computation does not produce
# that: run yours and look at where the line really is after 100 epochs at lr = 0.01. The kit follows the
# computation, not the printout.
#
# **`mse(y_true, y_pred) -> float`** is the cost on its own: the mean over the samples of (true − predicted)², for
# two tensors of the same shape. The lecture's example — true scores 480, 520, 710, 680, predictions 440, 530, 620,
# 710 — gives 2675.0.

# %%
def fit_linear(x: torch.Tensor, y: torch.Tensor, lr: float = 0.01, epochs: int = 100) -> tuple[float, float, list[float]]:
    """Fit H(x) = w·x + b by full-batch gradient descent on the MSE; returns (w, b, loss before each update)."""
    w = torch.zeros(1, dtype=x.dtype, device=x.device, requires_grad=True)
    b = torch.zeros(1, dtype=x.dtype, device=x.device, requires_grad=True)
    losses = []
    for _ in range(epochs):
        loss = torch.mean((w * x + b - y) ** 2)
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
        w.grad.zero_()
        b.grad.zero_()
    return w.item(), b.item(), losses


def mse(y_true: torch.Tensor, y_pred: torch.Tensor) -> float:
    """Mean squared error: mean((y_true − y_pred)²)."""
    return torch.mean((y_true - y_pred) ** 2).item()


# %% [markdown]
# ## One number, minimised by autograd
#
# y = (x − 3)² + 4 has its minimum 4 at x = 3. Here autograd finds dy/dx: no hand derivation is needed.
#
# **`descend_scalar(x0=5.0, lr=0.1, steps=10) -> list[(y, grad, x)]`** keeps x as a float32 tensor created from `x0`
# with `requires_grad=True`, as the lecture does, and minimises y with `torch.optim.SGD([x], lr=lr)`:
# `zero_grad()`, compute y, `backward()`, `step()`. For every step it appends three floats: y *before* the step,
# the gradient dy/dx used by the step, and x *after* the step (`steps` entries).
#
# Self-check from the lecture: with lr = 0.1 the first rows are (8.0, 4.0, 4.6) and (6.56, 3.2, 4.28). With lr = 1.0
# x jumps from 5 to 1 and back to 5 forever: a learning rate can be too large even for a perfect bowl.

# %%
def descend_scalar(x0: float = 5.0, lr: float = 0.1, steps: int = 10) -> list[tuple[float, float, float]]:
    """Minimise y = (x − 3)² + 4 with autograd and SGD; per step (y before the step, dy/dx, x after the step)."""
    x = torch.tensor(x0, dtype=torch.float32, requires_grad=True)
    optimizer = torch.optim.SGD([x], lr=lr)
    history = []
    for _ in range(steps):
        optimizer.zero_grad()
        y = (x - 3) ** 2 + 4
        y.backward()
        optimizer.step()
        history.append((y.item(), x.grad.item(), x.item()))
    return history


# %%
def _table(rows: Sequence[tuple[float, ...]]) -> str:
    return "\n".join("  ".join(f"{v:10.6f}" for v in row) for row in rows)


if __name__ == "__main__":
    x_train, y_train = torch.tensor(X_TRAIN), torch.tensor(Y_TRAIN)
    print("manual_gd (W, cost):\n" + _table(manual_gd(x_train, y_train)))
    print("optim_gd (W, cost):\n" + _table(optim_gd(x_train, y_train)))
    print("equivalent_lr(0.1, 3) =", equivalent_lr(0.1, 3))
    x = torch.tensor([1.0, 2.0, 3.0, 4.0])
    w, b, losses = fit_linear(x, 2 * x)
    print(f"fit_linear: w = {w:.4f}, b = {b:.4f}, first losses {losses[:3]}")
    print("mse:", mse(torch.tensor([480.0, 520, 710, 680]), torch.tensor([440.0, 530, 620, 710])))
    print("descend_scalar (y, dy/dx, x):\n" + _table(descend_scalar()))
