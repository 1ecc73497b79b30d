# %% [markdown]
# # Exercise 4 — cost versus loss versus stochastic gradient descent
#
# Back to the line through the origin, ŷ = x·w, and the data x = 1, 2, 3 with y = 2, 4, 6.
#
# **Loss and cost.** The *loss* measures one sample, loss(w) = (x·w − y)². The *cost* averages it over all N
# samples, cost(w) = (1/N) Σₙ (xₙ·w − yₙ)².
#
# **Their gradients — d loss/d w = ?, d cost/d w = ?** The first is the derivative you derived in Exercise 2. For
# the second, use that differentiation is linear: the derivative of a sum is the sum of the derivatives, and a
# constant factor stays in front. (Worked on a different function: d/dw of (1/2)·(sin w + w³) is
# (1/2)·(cos w + 3w²).) Write both by hand: `loss_gradient` and `cost_gradient` return their values.
#
# **Batch gradient descent** takes one step per epoch, along the gradient of the cost: w ← w − lr · d cost/dw.
# Each epoch evaluates the cost and its gradient at the current w, then updates, and we record the new w together with
# the cost that was just computed (so the cost belongs to the w *before* the step). From w = 1 with lr = 0.01 the
# lecture prints (1.09, 4.67), (1.18, 3.84), (1.25, 3.15), …; w settles at 2.
#
# **Stochastic gradient descent (SGD)** steps once per *sample*, along that sample's loss gradient, visiting the
# samples in order. The steps are noisier, but there are N of them per epoch, and the noise can push the weights
# out of flat regions. After each epoch we record w and the loss of the last sample, computed *after* that
# sample's update. From w = 1: (1.26, 4.92), (1.45, 2.69), (1.60, 1.47), …
#
# **Mini-batch gradient descent** sits in between: cut the data, in order, into consecutive batches of `batch_size`
# samples (the last one may be shorter) and take one step per batch along the *mean* gradient of that batch.
# With batch_size = N it is batch gradient descent; with batch_size = 1 it is SGD. After each epoch we record w and
# the cost over all the data at that w.
#
# **Smoothing a training curve.** A curve of per-epoch costs is often jagged. An exponentially weighted moving
# average smooths it:
#
#     s₀ = v₀,      sᵢ = β·vᵢ + (1 − β)·sᵢ₋₁
#
# Each smoothed value mixes the new raw value with the *previous smoothed value*, so older values fade away
# geometrically. (One lecture slide writes the previous *raw* value vᵢ₋₁ in place of sᵢ₋₁; that only averages two
# neighbours and is not an exponential average. This kit uses the formula above.)
#
# ## What to write
#
# All inputs are plain Python numbers and lists; return Python floats (or lists of tuples of floats).
#
# - `loss(x, y, w)` and `cost(xs, ys, w)` as defined above (the cost is a mean, not a sum).
# - `loss_gradient(x, y, w)`: d loss/d w at one sample; `cost_gradient(xs, ys, w)`: d cost/d w over the data.
# - `batch_gd(xs, ys, w=1.0, lr=0.01, epochs=100) -> list[(w, cost)]`: `epochs` entries (new w, cost before the step).
# - `sgd(xs, ys, w=1.0, lr=0.01, epochs=100) -> list[(w, loss)]`: `epochs` entries (w after the epoch, loss of the
#   last sample after its update).
# - `minibatch_gd(xs, ys, batch_size, w=1.0, lr=0.01, epochs=100) -> list[(w, cost)]`: `epochs` entries (w after the
#   epoch, cost over all the data at that w). Note the argument order: `batch_size` comes before `w`.
# - `ema(values, beta) -> list[float]`: one smoothed value per input value (an empty list for an empty input).

# %%
from typing import Sequence

XS = [1.0, 2.0, 3.0]
YS = [2.0, 4.0, 6.0]


# %%
def loss(x: float, y: float, w: float) -> float:
    """The squared error of one sample, (x·w − y)²."""
    return (x * w - y) ** 2


def loss_gradient(x: float, y: float, w: float) -> float:
    """d loss / d w for one sample."""
    return 2 * x * (x * w - y)


def cost(xs: Sequence[float], ys: Sequence[float], w: float) -> float:
    """The mean squared error (1/N) Σ (x·w − y)²."""
    return sum(loss(x, y, w) for x, y in zip(xs, ys)) / len(xs)


def cost_gradient(xs: Sequence[float], ys: Sequence[float], w: float) -> float:
    """d cost / d w over the data."""
    return sum(loss_gradient(x, y, w) for x, y in zip(xs, ys)) / len(xs)


# %%
def batch_gd(xs: Sequence[float], ys: Sequence[float], w: float = 1.0, lr: float = 0.01, epochs: int = 100) -> list[tuple[float, float]]:
    """One step per epoch along the cost gradient; records (new w, the cost computed before the step)."""
    history = []
    for _ in range(epochs):
        cost_value = cost(xs, ys, w)
        w = w - lr * cost_gradient(xs, ys, w)
        history.append((w, cost_value))
    return history


def sgd(xs: Sequence[float], ys: Sequence[float], w: float = 1.0, lr: float = 0.01, epochs: int = 100) -> list[tuple[float, float]]:
    """One step per sample along its loss gradient; records (w, loss of the last sample after its step) per epoch."""
    history = []
    for _ in range(epochs):
        for x, y in zip(xs, ys):
            w = w - lr * loss_gradient(x, y, w)
            last_loss = loss(x, y, w)
        history.append((w, last_loss))
    return history


def minibatch_gd(xs: Sequence[float], ys: Sequence[float], batch_size: int, w: float = 1.0, lr: float = 0.01,
                 epochs: int = 100) -> list[tuple[float, float]]:
    """One step per consecutive batch along its mean gradient; records (w, cost over all data) per epoch."""
    history = []
    for _ in range(epochs):
        for start in range(0, len(xs), batch_size):
            w = w - lr * cost_gradient(xs[start:start + batch_size], ys[start:start + batch_size], w)
        history.append((w, cost(xs, ys, w)))
    return history


def ema(values: Sequence[float], beta: float) -> list[float]:
    """Exponential moving average: s₀ = v₀, sᵢ = β·vᵢ + (1 − β)·sᵢ₋₁."""
    smoothed = []
    for value in values:
        smoothed.append(value if not smoothed else beta * value + (1 - beta) * smoothed[-1])
    return smoothed


# %%
if __name__ == "__main__":
    for name, history in (("batch", batch_gd(XS, YS)), ("sgd", sgd(XS, YS)), ("minibatch 2", minibatch_gd(XS, YS, 2))):
        print(name, [(round(w, 2), round(c, 2)) for w, c in history[:3]], "…", tuple(round(v, 2) for v in history[-1]))
    print("smoothed:", ema([4.0, 3.0, 3.5, 2.0, 2.5], 0.5))
