"""Recipes for the torch model exercises (ex07, ex08): build the student's model, run it, report plain data.

Every recipe returns numbers, lists, dicts and tensors only (the wire encodes tensors as `TensorData`); never a
module. Models are named by `function`: a class (`LeNet5`) or a factory (`build_mlp`) in the student's file, built
with the keyword arguments `init`. Weights arrive as a state_dict of tensors the grader drew, or as a seed
(`weight_seed`) with the exercise's state_dict keys (`weight_keys`): `seeded_weights` then draws each weight here,
in the shape the student's own model gives it, so a probe ships no layer size an exercise asks for; the grader draws
the same numbers for the exercise's shapes and computes its reference from them.
"""

from __future__ import annotations

import zlib
from contextlib import contextmanager
from typing import Any, Iterator, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from grader.probes import student_function


@contextmanager
def single_thread() -> Iterator[None]:
    """Run on one intra-op thread: these models are tiny, and on a shared machine a second thread only thrashes."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _exact_float32(device: str) -> None:
    """Turn off TF32 on CUDA, so that a GPU run is comparable with the CPU at float32 precision."""
    if str(device).startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False


def seeded_weights(seed: int, shapes: Mapping[str, Sequence[int]]) -> dict[str, np.ndarray]:
    """float32 weights for `shapes` ({state_dict key: shape}) drawn from `seed`: each key from a stream of its own
    (numpy's RandomState, whose numbers numpy keeps stable across versions, seeded by `seed` and the key's CRC-32),
    uniform on ±1/sqrt(fan_in), PyTorch's default scale; a bias takes the fan-in of its layer's weight.

    Each key's numbers depend on that key and its shape alone, never on the order or number of the other keys: the
    probe (the student's shapes) and the grader (the exercise's) draw the same numbers wherever the shapes agree."""
    def fan_in(name: str) -> int:
        shape = shapes.get(name[: -len("bias")] + "weight", shapes[name]) if name.endswith("bias") else shapes[name]
        return max(1, int(np.prod(shape[1:]))) if len(shape) > 1 else 1

    weights = {}
    for name, shape in shapes.items():
        stream = np.random.RandomState([int(seed) & 0xFFFFFFFF, zlib.crc32(name.encode())])
        bound = 1.0 / np.sqrt(fan_in(name))
        weights[name] = stream.uniform(-bound, bound, tuple(int(n) for n in shape)).astype(np.float32)
    return weights


def load_seeded(model: nn.Module, seed: int, keys: Sequence[str]) -> None:
    """Load `seeded_weights(seed, …)` for the state_dict keys `keys` (the exercise's), each in the shape the model gives
    it. A model whose keys differ gets torch's own "Missing key(s)" / "Unexpected key(s)" error, as when loading a
    state_dict (a key the model lacks is sent as a placeholder: torch names it without reading its shape)."""
    own = {name: tuple(value.shape) for name, value in model.state_dict().items()}
    drawn = seeded_weights(seed, {name: own.get(name, (1,)) for name in keys})
    model.load_state_dict({name: torch.from_numpy(value) for name, value in drawn.items()})


def build(module: Any, function: str, init: dict | None = None, state_dict: dict | None = None, device: str = "cpu",
          seed: int | None = None, weight_seed: int | None = None, weight_keys: Sequence[str] = ()) -> nn.Module:
    """The student's model `function(**init)`, initialised from `seed`, loaded with `state_dict` or with the weights
    `seeded_weights` draws from `weight_seed` for the keys `weight_keys`, on `device`."""
    with torch.random.fork_rng(devices=[]):
        if seed is not None:
            torch.manual_seed(seed)
        model = student_function(module, function)(**(init or {}))
    if not isinstance(model, nn.Module):
        raise TypeError(f"{function}(...) returned {type(model).__name__}, not a torch.nn.Module")
    if state_dict is not None:
        model.load_state_dict(state_dict)
    if weight_seed is not None:
        load_seeded(model, weight_seed, weight_keys)
    return model.to(device)


def forward(module: Any, function: str, x: torch.Tensor, init: dict | None = None, state_dict: dict | None = None,
            device: str = "cpu", weight_seed: int | None = None, weight_keys: Sequence[str] = ()) -> torch.Tensor:
    """The model's output for `x` in eval mode without gradients, model and input on `device` (``meta`` included);
    with `weight_seed`, {"output": that output, "state": the model's state_dict shapes}."""
    _exact_float32(device)
    model = build(module, function, init, state_dict, device, weight_seed=weight_seed, weight_keys=weight_keys).eval()
    with torch.no_grad(), single_thread():
        output = model(x.to(device))
    return output if weight_seed is None else {"output": output, "state": shapes(model)}


def shapes(model: nn.Module) -> list:
    """The model's state_dict shapes, [(key, shape)]: with seeded weights the judge checks them (by digest) before the values."""
    return [(name, tuple(int(n) for n in value.shape)) for name, value in model.state_dict().items()]


def summary(module: Any, function: str, init: dict | None = None) -> dict:
    """Structure of a freshly built model: its type, direct children, parameter count and state_dict shapes."""
    model = build(module, function, init)
    return {
        "type": type(model).__name__,
        "sequential": isinstance(model, nn.Sequential),
        "children": [(type(child).__name__, getattr(child, "in_features", None), getattr(child, "out_features", None))
                     for child in model.children()],
        "parameters": int(sum(p.numel() for p in model.parameters())),
        "state": shapes(model),
    }


def gradients(module: Any, function: str, x: torch.Tensor, cotangent: torch.Tensor, init: dict | None = None,
              state_dict: dict | None = None, weight_seed: int | None = None, weight_keys: Sequence[str] = ()) -> dict:
    """Backpropagate sum(output · cotangent); the output and every parameter's gradient norm (None: no gradient)."""
    model = build(module, function, init, state_dict, weight_seed=weight_seed, weight_keys=weight_keys).train()
    with single_thread():
        output = model(x)
        (output * cotangent).sum().backward()
    norms = {name: None if p.grad is None else float(p.grad.double().norm()) for name, p in model.named_parameters()}
    return {"output": output.detach(), "grad_norms": norms, **({} if weight_seed is None else {"state": shapes(model)})}


# ----------------------------------------------------------------------------------------------------- ex07


def sequential(layers: list) -> nn.Sequential:
    """A network from plain data, `[("Linear", in, out) | ("ReLU", None, None), ...]`: an input to `train` that does not
    depend on the student's build_mlp (the probe carries the layers, so no exercise's network is written here)."""
    return nn.Sequential(*(nn.Linear(int(a), int(b)) if kind == "Linear" else nn.ReLU() for kind, a, b in layers))


def call_without_autograd(module: Any, function: str, args: list, kwargs: dict, names: list | None = None) -> Any:
    """`function(*args, **kwargs)` with autograd switched off: for exercises whose text forbids it (a gradient by hand)."""
    with torch.set_grad_enabled(False):
        return student_function(module, function)(*args, **kwargs)


def defaults(module: Any, function: str) -> dict:
    """The default values in `function`'s signature, by parameter name (a value that is not plain data as its repr)."""
    import inspect

    plain = (int, float, str, bool, type(None))
    parameters = inspect.signature(student_function(module, function)).parameters.values()
    return {p.name: p.default if isinstance(p.default, plain) else repr(p.default)
            for p in parameters if p.default is not inspect.Parameter.empty}


def make_data(module: Any, kwargs: dict, other_seed: int, global_seed: int, function: str = "make_data") -> dict:
    """Call make_data twice with `kwargs` and once with another seed; report whether the global RNG state moved."""
    make = student_function(module, "make_data")
    saved = torch.get_rng_state()
    try:
        torch.manual_seed(global_seed)
        before = torch.get_rng_state()
        first = make(**kwargs)
        untouched = bool(torch.equal(before, torch.get_rng_state()))
        again = make(**kwargs)
        other = make(**{**kwargs, "seed": other_seed})
    finally:
        torch.set_rng_state(saved)
    return {"first": first, "again": again, "other": other, "global_rng_untouched": untouched}


def train(module: Any, x: torch.Tensor, y: torch.Tensor, kwargs: dict, state_dict: dict | None = None,
          init_seed: int | None = None, device: str = "cpu", points: list | None = None, function: str = "train",
          layers: list | None = None) -> dict:  # init_seed with a state_dict: only a label (the weights are that seed's)
    """Train a model with the student's `train(model, x, y, **kwargs)`; return its losses and the trained model's
    predictions at `points` (so a `train` that trains a copy is seen).

    With `state_dict` the model is the network of `layers` loaded with those weights (so that the judge can
    replay the training); otherwise it is the student's `build_mlp()` initialised from `init_seed`. `x` and `y` stay
    where they are: `train` must move them to the model's device itself.
    """
    _exact_float32(device)
    if state_dict is not None:
        model = sequential(layers)
        model.load_state_dict(state_dict)
        model = model.to(device)
    else:
        model = build(module, "build_mlp", seed=init_seed, device=device)
    with single_thread():
        losses = student_function(module, "train")(model, x, y, **kwargs)
    result: dict = {"losses": losses}
    if points is not None:
        with torch.no_grad():
            result["predictions"] = model(torch.tensor(points, dtype=torch.float32, device=device).reshape(-1, 1)).cpu()
    return result
