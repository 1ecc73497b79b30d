# %% [markdown]
# # Exercise 7 — a small network learns (x − 3)² + 4
#
# Earlier exercises minimised y = (x − 3)² + 4 *over x*: gradient descent walked x to 3, where y is 4. Here the
# roles change. The parabola becomes the unknown, and a neural network has to learn it from noisy samples:
# it sees pairs (x, y) and must find weights θ so that f_θ(x) ≈ (x − 3)² + 4.
#
# **Data.** n inputs drawn uniformly from [0, 6], targets yᵢ = (xᵢ − 3)² + 4 + εᵢ with Gaussian noise εᵢ ~ N(0, σ²).
# Both are tensors of shape (n, 1): n rows, one feature each — the shape `nn.Linear(1, ·)` expects. The noise is
# what makes this a *regression* problem: no curve passes through every point, and the best the network can do is
# the conditional mean, which is the parabola itself.
#
# Random numbers come from a private `torch.Generator` seeded with `seed`. Then the same seed gives the same data,
# and the caller's global random state (`torch.manual_seed`, used elsewhere to initialise models) is left alone.
#
# **Model.** A multi-layer perceptron: 1 → 10 → 30 → 10 → 1 neurons with ReLU between the linear layers.
# A linear layer with i inputs and o outputs holds an (o, i) weight matrix and o biases, o·(i + 1) parameters:
# 20 + 330 + 310 + 11 = 671. Without the ReLUs the four layers would collapse into one straight line; with them the
# network is a piecewise linear function with enough kinks to bend around a parabola.
#
# **Training.** The loss is the mean squared error over all n samples (full batch):
# L(θ) = (1/n) Σᵢ (f_θ(xᵢ) − yᵢ)². Each epoch clears the old gradients, computes L, back-propagates ∂L/∂θ and lets
# `torch.optim.Adam` take one step. Adam keeps running averages of each gradient and of its square and steps by
# their ratio, so every parameter gets its own step size — far less sensitive to the learning rate than plain SGD,
# which the lecture's version needed ten thousand epochs for. The loss recorded for an epoch is the one computed
# *before* that epoch's step.
#
# After training, the network should predict about 5, 4 and 5 at x = 2, 3 and 4, the values of (x − 3)² + 4.
#
# ## What to write
#
# - `make_data(n=1000, noise_std=0.5, seed=0) -> (x, y)`: two float32 tensors of shape (n, 1) as above, drawn only
#   from a `torch.Generator` seeded with `seed` (same seed, same data; the global random state untouched).
# - `build_mlp() -> torch.nn.Sequential`: exactly Linear(1, 10), ReLU, Linear(10, 30), ReLU, Linear(30, 10), ReLU,
#   Linear(10, 1), in that order.
# - `train(model, x, y, lr=0.01, epochs=1000) -> list[float]`: full-batch training with `torch.optim.Adam(lr=lr)` and
#   the MSE loss, on the device of the model's parameters; returns `epochs` floats, the loss of each epoch computed
#   before that epoch's step.

# %%
import torch
from torch import nn


# %%
def make_data(n: int = 1000, noise_std: float = 0.5, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """x ~ Uniform[0, 6] and y = (x − 3)² + 4 + N(0, noise_std²), float32 tensors of shape (n, 1), from `seed` only."""
    # YOUR CODE HERE
    raise NotImplementedError("replace this line with your code")


def build_mlp() -> nn.Sequential:
    """Linear(1, 10), ReLU, Linear(10, 30), ReLU, Linear(30, 10), ReLU, Linear(10, 1): 671 parameters."""
    # YOUR CODE HERE
    raise NotImplementedError("replace this line with your code")


# %% [markdown]
# ## The training loop
#
# The model may live on any device (CPU, a GPU): the data has to be moved to where the parameters are,
# `next(model.parameters()).device`, before the forward pass. The loop itself is the four lines of every PyTorch
# training loop: `zero_grad()`, forward and loss, `backward()`, `step()`. Forgetting `zero_grad()` adds every
# epoch's gradient to the previous ones, so the steps follow the sum of all past gradients instead of the current one.

# %%
def train(model: nn.Module, x: torch.Tensor, y: torch.Tensor, lr: float = 0.01, epochs: int = 1000) -> list[float]:
    """Full-batch Adam on the MSE; returns the loss of every epoch, computed before that epoch's step."""
    # YOUR CODE HERE
    raise NotImplementedError("replace this line with your code")


# %%
if __name__ == "__main__":
    torch.manual_seed(0)
    x, y = make_data()
    model = build_mlp()
    print("parameters:", sum(p.numel() for p in model.parameters()))
    losses = train(model, x, y)
    print("loss: first", losses[0], "last", losses[-1])
    with torch.no_grad():
        print("predictions at 2, 3, 4:", model(torch.tensor([[2.0], [3.0], [4.0]])).flatten().tolist())
