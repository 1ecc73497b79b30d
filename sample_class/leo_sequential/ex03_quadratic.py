# %% [markdown]
# # Exercise 3 — a quadratic model: ŷ = x²·w2 + x·w1 + b
#
# The model now has three parameters. Its prediction bends with x:
#
#     ŷ = x²·w2 + x·w1 + b,        loss = (ŷ − y)²
#
# **Exercise 3-1: the gradient.** Write e = ŷ − y for the error, so loss = e². As before, d(e²)/de = 2e, and the
# chain rule multiplies that by how the error moves with each parameter. The error is linear in every parameter,
# and its slope is the factor the parameter is multiplied by in ŷ:
#
#     ∂ŷ/∂w1 = x,    ∂ŷ/∂w2 = x²,    ∂ŷ/∂b = 1
#
# so
#
#     ∂loss/∂w1 = 2·(ŷ − y)·x
#     ∂loss/∂w2 = 2·(ŷ − y)·x²
#     ∂loss/∂b  = 2·(ŷ − y)
#
# The three share the factor 2·(ŷ − y); only the inner factor differs. `sympy` derives the same expressions.
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

# %%
from typing import Sequence

import sympy

x, y, w1, w2, b = sympy.symbols("x y w1 w2 b")


# %%
def forward(x: float, w1: float, w2: float, b: float) -> float:
    """The prediction ŷ = x²·w2 + x·w1 + b."""
    return x * x * w2 + x * w1 + b


def loss(x: float, y: float, w1: float, w2: float, b: float) -> float:
    """The squared error (ŷ − y)² of one sample."""
    return (forward(x, w1, w2, b) - y) ** 2


def gradient_exprs() -> dict:
    """{"w1": ∂loss/∂w1, "w2": ∂loss/∂w2, "b": ∂loss/∂b} as sympy expressions in x, y, w1, w2, b."""
    squared_error = (x**2 * w2 + x * w1 + b - y) ** 2
    return {"w1": sympy.diff(squared_error, w1), "w2": sympy.diff(squared_error, w2), "b": sympy.diff(squared_error, b)}


def gradients(x: float, y: float, w1: float, w2: float, b: float) -> tuple[float, float, float]:
    """(∂loss/∂w1, ∂loss/∂w2, ∂loss/∂b) = 2·(ŷ − y)·(x, x², 1)."""
    error = forward(x, w1, w2, b) - y
    return 2 * error * x, 2 * error * x * x, 2 * error


def train(xs: Sequence[float], ys: Sequence[float], w1: float = 0.0, w2: float = 0.0, b: float = 0.0,
          lr: float = 0.01, epochs: int = 100) -> list[tuple[float, float, float, float]]:
    """SGD with simultaneous updates; after each epoch record (w1, w2, b, cost at those parameters)."""
    history = []
    for _ in range(epochs):
        for x_n, y_n in zip(xs, ys):
            w1 = w1 - lr * gradients(x_n, y_n, w1, w2, b)[0]
            w2 = w2 - lr * gradients(x_n, y_n, w1, w2, b)[1]
            b = b - lr * gradients(x_n, y_n, w1, w2, b)[2]
        cost = sum(loss(x_n, y_n, w1, w2, b) for x_n, y_n in zip(xs, ys)) / len(xs)
        history.append((w1, w2, b, cost))
    return history


# %%
if __name__ == "__main__":
    print(gradient_exprs())
    xs, ys = [1.0, 2.0, 3.0], [2.0, 4.0, 6.0]
    for epoch, (p1, p2, p0, c) in enumerate(train(xs, ys, epochs=10)):
        print(f"epoch {epoch}: w1={p1:.4f} w2={p2:.4f} b={p0:.4f} cost={c:.4f}")
