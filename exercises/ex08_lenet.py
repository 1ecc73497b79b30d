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
# **LeNet-5** on a 32×32 image: conv 5×5 (1 → 6 channels) gives 28×28, ReLU, pool → 14×14; conv 5×5 (6 → 16) gives
# 10×10, ReLU, pool → 5×5. Flattening 16·5·5 = 400 numbers per sample feeds three linear layers 400 → 120 → 84 → 10
# with ReLU between them. Parameters: 156 + 2,416 + 48,120 + 10,164 + 850 = 61,706.
#
# **Any batch size, any device.** Flatten with `torch.flatten(x, 1)` or `x.view(x.size(0), -1)`, never with a fixed
# batch size (the lecture's `view(batch_size, -1)` breaks on the last, smaller batch), and create nothing on a fixed
# device inside `forward`: the layers' parameters already live wherever `model.to(device)` put them.

# %%
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


# %%
class LeNet5(nn.Module):
    """conv1 → ReLU → max-pool 2 → conv2 → ReLU → max-pool 2 → flatten → fc1 → ReLU → fc2 → ReLU → fc3."""

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
# image with 64 channels *before* any convolution or pooling shrank it. Follow the sizes instead: each 5×5
# convolution without padding removes 4 rows and 4 columns, each pooling halves them (rounding down). For a 28×28
# image: 28 → 24 → 20 → 10 → 6 → 3, so 64·3·3 = 576 features reach the first linear layer; for 32×32 it is 64·4·4 = 1024.
# An image so small that some stage has no rows left has no valid size at all.

# %%
def flat_features(height: int, width: int) -> int:
    """Features per sample after SeedCNN's convolutional part, 64 · h · w; ValueError if the input is too small."""
    # YOUR CODE HERE
    raise NotImplementedError("replace this line with your code")


class SeedCNN(nn.Module):
    """The lecture's CNN: three 5×5 convolutions with ReLU and two max-pools, then 100 hidden units and 10 outputs."""

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
# `conv2d_forward` computes the formula above. Padding first (`numpy.pad` with zeros on the two spatial axes only);
# then, rather than four nested loops, loop over the kh·kw kernel offsets: for offset (u, v) the strided slice
# x_pad[:, :, u : u + s·H_out : s, v : v + s·W_out : s] holds, for every output position, the input value that meets
# weight[:, :, u, v]; contracting its channel axis with that weight slice and summing over all offsets gives the output.
#
# `maxpool2d_forward` drops the rows and columns that do not fill a window, reshapes (N, C, H', W') into
# (N, C, H'/k, k, W'/k, k) and takes the maximum over the two window axes.
#
# `lenet_forward_numpy` chains these with ReLU (max(0, ·)) and the linear layers x·Wᵀ + b, reading the weights from a
# dictionary with the keys of `LeNet5().state_dict()`.

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
    """LeNet5's forward pass with numpy only; `params` maps LeNet5's state_dict keys to arrays."""
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
