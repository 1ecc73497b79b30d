# %% [markdown]
# # Exercise 3 — a quadratic model: ŷ = x²·w2 + x·w1 + b
#
# The model now has three parameters. Its prediction bends with x:
#
#     ŷ = x²·w2 + x·w1 + b,        loss = (ŷ − y)²
#
# **Mind the names.** Here, as in the lecture's Exercise 3-1, **w2 multiplies x²** and **w1 multiplies x**. Another
# lecture writes the same model as w1·x² + w2·x + b, with the two names swapped; follow this file's convention
# everywhere below (a gradient of w1 taken from the other convention belongs to w2 here).
#
# **Exercise 3-1: the gradient — ∂loss/∂w1 = ?, ∂loss/∂w2 = ?, ∂loss/∂b = ?** Derive the three partial
# derivatives by hand before you code them.
#
# *Method.* A partial derivative with respect to one parameter treats every other parameter (and x, y) as a
# constant; then the chain rule of Exercise 2 applies as for a single variable. A worked example on a *different*
# function: for h(u, v) = sin(u·t + v) with a constant t, holding v fixed gives ∂h/∂u = cos(u·t + v)·t, and holding u
# fixed gives ∂h/∂v = cos(u·t + v)·1. The outer derivative is shared; only the inner factor — how the inside moves
# with that one parameter — differs. `sympy.diff(expr, u)` computes exactly this partial derivative.
#
# **Exercise 3-2: training.** Stochastic gradient descent visits the samples one after another. At each sample it
# takes all three partial derivatives *at the current parameters*, and only then moves every parameter:
#
#     w1 ← w1 − lr·∂loss/∂w1,   w2 ← w2 − lr·∂loss/∂w2,   b ← b − lr·∂loss/∂b
#
# The update is *simultaneous*: if w1 were changed before the gradient of w2 is taken, the w2 step would use a
# prediction made with a parameter that already moved, which is a different (and wrong) algorithm. After each pass
# over the data (an epoch) we record the parameters and the cost — the mean loss over all the samples — measured at
# those new parameters, after the epoch's updates.
#
# ## What to write
#
# - `forward(x, w1, w2, b) -> float`: ŷ = x²·w2 + x·w1 + b.
# - `loss(x, y, w1, w2, b) -> float`: (ŷ − y)².
# - `gradient_exprs() -> dict` with exactly the keys `"w1"`, `"w2"`, `"b"`, each the sympy expression of that partial
#   derivative of the loss, in the module's symbols `x, y, w1, w2, b = sympy.symbols("x y w1 w2 b")`. Any equivalent
#   form is right (factored or expanded).
# - `gradients(x, y, w1, w2, b) -> (d_w1, d_w2, d_b)`: their values at the given numbers, as a tuple in that order.
# - `train(xs, ys, w1=0.0, w2=0.0, b=0.0, lr=0.01, epochs=100) -> list`: SGD as above, samples in the given order;
#   one entry `(w1, w2, b, cost)` per epoch (`epochs` entries, four floats each), recorded after the epoch's updates,
#   the cost being the mean of `loss` over all the samples at those parameters.

# %%
from typing import Sequence

import sympy

x, y, w1, w2, b = sympy.symbols("x y w1 w2 b")


# %%
def forward(x: float, w1: float, w2: float, b: float) -> float:
    """The prediction ŷ = x²·w2 + x·w1 + b."""
    # YOUR CODE HERE
    raise NotImplementedError("replace this line with your code")


def loss(x: float, y: float, w1: float, w2: float, b: float) -> float:
    """The squared error (ŷ − y)² of one sample."""
    # YOUR CODE HERE
    raise NotImplementedError("replace this line with your code")


def gradient_exprs() -> dict:
    """{"w1": ∂loss/∂w1, "w2": ∂loss/∂w2, "b": ∂loss/∂b} as sympy expressions in x, y, w1, w2, b."""
    # YOUR CODE HERE
    raise NotImplementedError("replace this line with your code")


def gradients(x: float, y: float, w1: float, w2: float, b: float) -> tuple[float, float, float]:
    """(∂loss/∂w1, ∂loss/∂w2, ∂loss/∂b) at the given numbers."""
    # YOUR CODE HERE
    raise NotImplementedError("replace this line with your code")


def train(xs: Sequence[float], ys: Sequence[float], w1: float = 0.0, w2: float = 0.0, b: float = 0.0,
          lr: float = 0.01, epochs: int = 100) -> list[tuple[float, float, float, float]]:
    """SGD with simultaneous updates; after each epoch record (w1, w2, b, cost at those parameters)."""
    # YOUR CODE HERE
    raise NotImplementedError("replace this line with your code")


# %%
if __name__ == "__main__":
    print(gradient_exprs())
    xs, ys = [1.0, 2.0, 3.0], [2.0, 4.0, 6.0]
    for epoch, (p1, p2, p0, c) in enumerate(train(xs, ys, epochs=10)):
        print(f"epoch {epoch}: w1={p1:.4f} w2={p2:.4f} b={p0:.4f} cost={c:.4f}")
