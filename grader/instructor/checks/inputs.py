"""Random inputs for the torch exercises, drawn from a check module's `random.Random` and sent as `TensorData`."""

from __future__ import annotations

import random

import numpy as np

from grader.wire import TensorData


def numpy_rng(rng: random.Random) -> np.random.Generator:
    """A numpy generator seeded from the check's `random.Random`, so one seed fixes every input."""
    return np.random.default_rng(rng.getrandbits(64))


def tensor(array: np.ndarray, device: str = "cpu") -> TensorData:
    """A float32 tensor with these values on `device`, as a probe argument."""
    array = np.ascontiguousarray(array, dtype=np.float32)
    return TensorData(array, "float32", device, tuple(array.shape))


def meta_tensor(shape: tuple[int, ...]) -> TensorData:
    """A float32 tensor of this shape on torch's `meta` device: a shape without values."""
    return TensorData(None, "float32", "meta", tuple(shape))
