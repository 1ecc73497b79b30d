# %% [markdown]
# # Exercise 8 — the LeNet forward pass
#
# A convolutional network reads an image through small filters that slide over it. This exercise builds two of
# them in PyTorch — LeNet-5 and the lecture's CNN with its bugs fixed — and then computes the same forward pass by
# hand in numpy, to see that nothing in a `Conv2d` is magic.
#
# **Shapes.** Images travel as NCHW tensors: N samples, C channels, H rows, W columns. A grey 32×32 image batch is
# (N, 1, 32, 32).
#
# **Convolution (really cross-correlation).** A layer with C_in input channels, C_out filters of size kh×kw, stride s
# and zero padding p computes, for every sample n, filter o and output position (i, j),
#
#     out[n, o, i, j] = bias[o] + Σ_c Σ_u Σ_v  x_pad[n, c, s·i + u, s·j + v] · weight[o, c, u, v]
#
# where x_pad is x with p zeros added on every side. The kernel is *not* flipped: deep-learning libraries compute the
# cross-correlation and still call it convolution (a flipped kernel would just be learned flipped). The output has
# H_out = ⌊(H + 2p − kh)/s⌋ + 1 rows and likewise W_out columns.
#
# **Max pooling** with a k×k window and stride k keeps the largest value of each non-overlapping window:
# H_out = ⌊H/k⌋ (rows that do not fill a window are dropped). Averaging the window instead is *average* pooling,
# a different layer.
#
# **Following the sizes through a network.** Apply the two rules stage by stage. Worked on a *different* network:
# a 20×20 grey image through Conv2d(1, 8, 3) becomes 8 channels of 18×18; MaxPool2d(2) makes that 9×9; Conv2d(8, 12, 3)
# gives 12 channels of 7×7; MaxPool2d(2) gives 3×3 (7/2 rounded down). Flattened per sample, 12·3·3 = 108 numbers
# would reach the first linear layer, so it would be Linear(108, ·). To check such arithmetic, run a dummy batch
# through the convolutional part and print its shape: `torch.zeros(1, 1, 20, 20)`.
#
# **Any batch size, any device.** Flatten with `torch.flatten(x, 1)` or `x.view(x.size(0), -1)`, never with a fixed
# batch size (the lecture's `view(batch_size, -1)` breaks on the last, smaller batch), and create nothing on a fixed
# device inside `forward`: the layers' parameters already live wherever `model.to(device)` put them.
#
# ## LeNet-5
#
# **`class LeNet5(torch.nn.Module)`**, built with no arguments, for grey 32×32 images. Its parameters live in exactly
# these five attributes, layers of `torch.nn` (the names are part of the contract: the grader reads them, and
# `lenet_forward_numpy` below receives weights under these names):
#
# - `conv1`: `Conv2d(1, 6, 5)`
# - `conv2`: `Conv2d(6, 16, 5)`
# - `fc1`: `Linear(flat, 120)`, where `flat` is the number of features per sample that reach it — **the flattened size is
#   yours to work out** from the layers before it
# - `fc2`: `Linear(120, 84)`
# - `fc3`: `Linear(84, 10)`
#
# ReLU and max pooling have no parameters: call `torch.nn.functional.relu` / `max_pool2d` in `forward`, or hold
# `nn.ReLU()` / `nn.MaxPool2d(2)` modules, as you like. `forward(x)` takes (N, 1, 32, 32) and returns (N, 10) logits:
#
#     conv1 → ReLU → MaxPool2d(2) → conv2 → ReLU → MaxPool2d(2) → flatten per sample → fc1 → ReLU → fc2 → ReLU → fc3
#
# (no activation after fc3). Self-check: `sum(p.numel() for p in LeNet5().parameters())` is 61,706.

# %%
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


# %%
class LeNet5(nn.Module):
    """LeNet-5 with attributes conv1, conv2, fc1, fc2, fc3; forward: conv1 → ReLU → max-pool 2 → conv2 → ReLU →
    max-pool 2 → flatten → fc1 → ReLU → fc2 → ReLU → fc3."""

    def __init__(self) -> None:
        super().__init__()
        # YOUR CODE HERE
        raise NotImplementedError("replace this line with your code")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 1, 32, 32) images → (N, 10) logits."""
        # YOUR CODE HERE
        raise NotImplementedError("replace this line with your code")


# %% [markdown]
# ## The lecture's CNN, repaired
#
# The lecture's network had three bugs: `nn.Sequential` was given a list instead of the layers themselves, the
# flatten used a global `batch_size`, and the first linear layer expected 64·32·32 inputs — the size of a 32×32
# image with 64 channels *before* any convolution or pooling shrank it.
#
# **Question: how many features per sample really reach the first linear layer?** Follow the sizes through the
# layers below (each 5×5 convolution without padding, each pooling rounding down), for a 28×28 image and in general.
# An image so small that some stage has no rows (or no columns) left has no valid size at all.
#
# **`flat_features(height, width) -> int`**: the number of values per sample in `self.layer`'s output for an
# (N, 1, height, width) input (channels × rows × columns); raise `ValueError` when the input is too small for the
# network. Arithmetic on the sizes is enough: there is no need to build the layers.
#
# **`class SeedCNN(torch.nn.Module)`** with `__init__(self, height=28, width=28)` and exactly these two attributes:
#
#     layer    = Sequential(Conv2d(1, 16, 5), ReLU(), Conv2d(16, 32, 5), ReLU(), MaxPool2d(2, 2),
#                           Conv2d(32, 64, 5), ReLU(), MaxPool2d(2, 2))
#     fc_layer = Sequential(Linear(flat_features(height, width), 100), ReLU(), Linear(100, 10))
#
# (all from `torch.nn`, in this order: channels 16, 32, 64; a ReLU after every convolution; pooling after the second
# and the third). `forward(x)` takes
# (N, 1, height, width), runs `self.layer`, flattens per sample, runs `self.fc_layer` and returns (N, 10) logits, for
# any N and on any device.

# %%
def flat_features(height: int, width: int) -> int:
    """Values per sample in SeedCNN's `self.layer` output for (N, 1, height, width) input; ValueError if too small."""
    # YOUR CODE HERE
    raise NotImplementedError("replace this line with your code")


class SeedCNN(nn.Module):
    """The lecture's CNN, repaired: `self.layer` (three 5×5 convolutions with ReLU, two max-pools) and `self.fc_layer`
    (flat_features(height, width) → 100 → 10)."""

    def __init__(self, height: int = 28, width: int = 28) -> None:
        super().__init__()
        # YOUR CODE HERE
        raise NotImplementedError("replace this line with your code")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 1, height, width) images → (N, 10) logits."""
        # YOUR CODE HERE
        raise NotImplementedError("replace this line with your code")


# %% [markdown]
# ## The same forward pass in numpy
#
# numpy arrays in, numpy arrays out; no torch inside these three functions.
#
# **`conv2d_forward(x, weight, bias, stride=1, padding=0)`**: x of shape (N, C_in, H, W), weight (C_out, C_in, kh,
# kw), bias (C_out,), stride and padding integers; returns the (N, C_out, H_out, W_out) array of the formula above,
# equal to `torch.nn.functional.conv2d` on the same numbers. Pad with zeros on the two spatial axes only
# (`numpy.pad`). Four nested loops over the output are correct but slow; a faster way loops over the kh·kw kernel
# offsets (u, v) only: the strided slice x_pad[:, :, u : u + s·H_out : s, v : v + s·W_out : s] holds, for every output
# position, the input value that meets weight[:, :, u, v].
#
# **`maxpool2d_forward(x, k=2)`**: (N, C, H, W) → (N, C, H // k, W // k), each output the maximum of its k×k window
# (stride k, incomplete windows dropped), equal to `torch.nn.functional.max_pool2d(x, k)`.
#
# **`lenet_forward_numpy(params, x)`**: LeNet-5's forward pass above, by hand, on x of shape (N, 1, 32, 32); returns
# (N, 10). `params` maps names to numpy arrays with the keys and shapes of the reference LeNet5's `state_dict()` —
# that is, of the contract above, whatever your own class calls its layers:
#
# | key | shape | | key | shape |
# |-----|-------|-|-----|-------|
# | `conv1.weight` | (6, 1, 5, 5) | | `conv1.bias` | (6,) |
# | `conv2.weight` | (16, 6, 5, 5) | | `conv2.bias` | (16,) |
# | `fc1.weight` | (120, flat) | | `fc1.bias` | (120,) |
# | `fc2.weight` | (84, 120) | | `fc2.bias` | (84,) |
# | `fc3.weight` | (10, 84) | | `fc3.bias` | (10,) |
#
# ReLU is max(0, ·); a linear layer with weight W of shape (out, in) computes h·Wᵀ + b on rows h. Flatten each
# sample in the order torch uses (channel, then row, then column: `h.reshape(len(h), -1)` on the pooled array).

# %%
def conv2d_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, stride: int = 1, padding: int = 0) -> np.ndarray:
    """Cross-correlation of (N, C_in, H, W) with (C_out, C_in, kh, kw) filters plus bias: (N, C_out, H_out, W_out)."""
    # YOUR CODE HERE
    raise NotImplementedError("replace this line with your code")


def maxpool2d_forward(x: np.ndarray, k: int = 2) -> np.ndarray:
    """k×k max pooling with stride k over (N, C, H, W), incomplete windows dropped: (N, C, H // k, W // k)."""
    # YOUR CODE HERE
    raise NotImplementedError("replace this line with your code")


def lenet_forward_numpy(params: dict, x: np.ndarray) -> np.ndarray:
    """LeNet5's forward pass with numpy only; `params` maps the reference state_dict keys ("conv1.weight", …) to arrays."""
    # YOUR CODE HERE
    raise NotImplementedError("replace this line with your code")


# %%
if __name__ == "__main__":
    model = LeNet5()
    print("LeNet5 parameters:", sum(p.numel() for p in model.parameters()))
    images = torch.randn(3, 1, 32, 32)
    weights = {name: value.numpy() for name, value in model.state_dict().items()}
    by_hand = lenet_forward_numpy(weights, images.numpy())
    print("largest difference numpy vs torch:", float(np.abs(by_hand - model(images).detach().numpy()).max()))
    print("SeedCNN flat features for 28×28 and 32×32:", flat_features(28, 28), flat_features(32, 32))
