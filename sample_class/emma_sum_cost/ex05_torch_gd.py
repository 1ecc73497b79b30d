# %% [markdown]
# # Exercise 5 — gradient descent with PyTorch
#
# The same idea as before (walk downhill on the cost), now with tensors. First by hand, then with autograd doing
# the calculus and an optimizer doing the update.
#
# **Model and data.** H(x) = W·x, one weight and no bias. The toy data maps every input to itself,
# x = y = [[1], [2], [3]], so the best weight is W = 1.
#
# **Cost.** The mean squared error over the m samples: cost(W) = (1/m) Σᵢ (W·xᵢ − yᵢ)².
#
# **Gradient.** Differentiating each square with the chain rule brings down a factor 2 and an inner derivative xᵢ:
# ∂cost/∂W = (2/m) Σᵢ (W·xᵢ − yᵢ)·xᵢ. The update is W ← W − α·∂cost/∂W with learning rate α.
#
# On the toy data with α = 0.15 the weight goes 0 → 1.4 → 0.84 → 1.064 → 0.974 …: each step overshoots W = 1 and
# lands a little closer on the other side, because the gradient there is (2/3)·14·(W − 1) and α·(28/3) = 1.4 > 1.
#
# **Tensors keep their dtype and device.** Every tensor you create (the weight, a zero gradient) should be made
# `like` the inputs (`torch.zeros(1, dtype=x.dtype, device=x.device)`), so that the same function runs in float64,
# or on a GPU, without changes. Return plain numbers: `tensor.item()` turns a one-element tensor into a float.

# %%
from typing import Sequence

import torch

X_TRAIN = [[1.0], [2.0], [3.0]]
Y_TRAIN = [[1.0], [2.0], [3.0]]


# %%
def manual_gd(x_train: torch.Tensor, y_train: torch.Tensor, lr: float = 0.15, epochs: int = 10) -> list[tuple[float, float]]:
    """Gradient descent on cost(W) = mean((W·x − y)²) with the hand-derived gradient (2/m) Σ (W·x − y)·x.

    For epoch = 0..epochs: record (W, cost at W), then update W. Returns epochs + 1 pairs of floats.
    """
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
# One of the lectures wrote the gradient as the plain sum Σ (W·x − y)·x, without the factor 2/m, with α = 0.1, and
# printed the very same table as the true gradient with α = 0.15. That is no accident: a constant factor in the
# gradient can be moved into the learning rate. `equivalent_lr` finds the rate that makes the two agree.

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
    """The rate α with α·(2/m)·Σ(W·x − y)·x = lr_sum·Σ(W·x − y)·x, i.e. α = lr_sum·m/2."""
    return lr_sum * m / 2


# %% [markdown]
# ## A line with a bias
#
# H(x) = w·x + b on x = [1, 2, 3, 4], y = 2x. Now two parameters start at 0 and both get gradients from one
# `backward()`. This time the update is written by hand inside `torch.no_grad()` (so the update itself is not
# recorded), and the gradients are zeroed after it with `w.grad.zero_()`.
#
# After 100 epochs with α = 0.01 the line is w ≈ 1.8463, b ≈ 0.4518: still on its way to (2, 0). A tutorial printed
# w = 2.0, b ≈ 0 for exactly this code; its own computation does not produce that, and this kit follows the
# computation. `losses[i]` is the loss before update i, so `losses[0]` is the loss at w = b = 0.
#
# `mse` is the cost on its own: the mean over the samples of (true − predicted)². For true scores 480, 520, 710, 680
# and predictions 440, 530, 620, 710 the squared errors are 1600, 100, 8100, 900, whose mean is 2675.

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
# y = (x − 3)² + 4 has its minimum 4 at x = 3, and dy/dx = 2(x − 3). Starting at x = 5 with α = 0.1:
# y = 8, dy/dx = 4, and the step moves x to 5 − 0.1·4 = 4.6; then y = 6.56, dy/dx = 3.2, x = 4.28, and so on.
#
# With α = 1 the step is x − 2(x − 3) = 6 − x: it jumps from 5 to 1 and back to 5 forever. A learning rate can be
# too large even for a perfect bowl.
#
# `descend_scalar` keeps x as a float32 tensor with `requires_grad=True`, as the lecture does, and for every step
# records y *before* the step, the gradient, and x *after* the step.

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
