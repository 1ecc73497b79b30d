"""Checks of ex08_lenet: both networks against the grader's functional reference (torch.nn.functional with the same
weights, in float64), their structure, gradients, any batch size and any device (torch's meta device everywhere,
CUDA where present), `flat_features`, and the numpy forward pass against torch on random shapes.
"""

from __future__ import annotations

import math
import random
from typing import Any, Callable, Sequence

import numpy as np

from grader.instructor.checks.inputs import meta_tensor, numpy_rng, tensor
from grader.compare import tolerance_for
from grader.judges import DataJudge, Mistake, digest, expect, expect_raise, mistake_sources, only_if, static
from grader.model import Check, Probe, call
from grader.public.ex08_lenet import (  # noqa: F401 - the hints are re-exported for the hidden checks and tests
    EXERCISE, HINT_AVERAGE, HINT_BATCH, HINT_CHANNELS_LAST, HINT_DEVICE, HINT_FLIPPED, HINT_LECTURE_FLAT, HINT_SOFTMAX,
    HINT_VALUES, LECTURE_FLAT,
)
from grader.wire import TensorData

LOGIC = "grader.public.ex08_lenet"

LENET_PARAMETERS = 61_706
LENET_SHAPES = {
    "conv1.weight": (6, 1, 5, 5), "conv1.bias": (6,), "conv2.weight": (16, 6, 5, 5), "conv2.bias": (16,),
    "fc1.weight": (120, 400), "fc1.bias": (120,), "fc2.weight": (84, 120), "fc2.bias": (84,),
    "fc3.weight": (10, 84), "fc3.bias": (10,),
}
MODEL_TOLERANCE = tolerance_for("float32", scale=20, why=(
    "a float32 forward pass against the float64 reference: every layer sums up to 400 float32 products per output, "
    "through five layers (rtol 2.6e-5, atol 2e-4)"))
GRADIENT_TOLERANCE = tolerance_for("float32", scale=100, why=(
    "a gradient norm: backward sums over the batch and every output position of the convolutions, so float32 rounding "
    "adds up over about five times as many terms as in the forward pass"))
DEVICE_TOLERANCE = tolerance_for("float32", scale=200, why=(
    "CUDA's convolutions (cuDNN) pick other algorithms and summation orders than the CPU's and may use TF32; "
    "twice the gradients' allowance, still far below what a wrong layer changes"))
# ------------------------------------------------------------------------------------------------- inputs


def uniform_layer(generator: np.random.Generator, weight_shape: tuple[int, ...], dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """Weights and biases on ±1/sqrt(fan_in), PyTorch's default scale, so activations stay of order 1."""
    fan_in = int(np.prod(weight_shape[1:]))
    bound = 1.0 / math.sqrt(fan_in)
    return (generator.uniform(-bound, bound, weight_shape).astype(dtype),
            generator.uniform(-bound, bound, weight_shape[:1]).astype(dtype))


def lenet_arrays(generator: np.random.Generator, dtype=np.float32) -> dict[str, np.ndarray]:
    state = {}
    for name in ("conv1", "conv2", "fc1", "fc2", "fc3"):
        state[f"{name}.weight"], state[f"{name}.bias"] = uniform_layer(generator, LENET_SHAPES[f"{name}.weight"], dtype)
    return state


def seedcnn_shapes(height: int, width: int) -> dict[str, tuple[int, ...]]:
    shapes = {"layer.0.weight": (16, 1, 5, 5), "layer.2.weight": (32, 16, 5, 5), "layer.5.weight": (64, 32, 5, 5),
              "fc_layer.0.weight": (100, flat_features(height, width)), "fc_layer.2.weight": (10, 100)}
    return {key: shape for name, weight in shapes.items() for key, shape in ((name, weight), (name.replace("weight", "bias"), weight[:1]))}


def weight_seed(generator: np.random.Generator) -> int:
    """A seed for `grader.probes.models.seeded_weights`: a public probe ships this, never the weights (whose shapes
    would give away fc1's in_features and flat_features')."""
    return int(generator.integers(2**31))


def exercise_shapes(function: str, init: dict) -> dict[str, tuple[int, ...]]:
    """The state_dict shapes of the exercise's `function(**init)`."""
    if function == "LeNet5":
        return dict(LENET_SHAPES)
    return seedcnn_shapes(init.get("height", 28), init.get("width", 28))


def weights_of(probe: Probe) -> dict:
    """The weights a model probe runs with: its state_dict, or those `seeded_weights` draws from its seed for the
    exercise's shapes (the numbers the student's model gets wherever its shapes are the exercise's)."""
    if probe.state_dict is not None:
        return probe.state_dict

    def draw() -> dict:
        from grader.probes.models import seeded_weights

        return seeded_weights(probe.weight_seed, exercise_shapes(probe.function, probe.init))

    return probe.once("seeded weights", draw)


# ------------------------------------------------------------------------------------------------- references


def side_after(n: int, stages: Sequence[str]) -> int:
    for stage in stages:
        n = {"conv": n - 4, "conv5": n - 5, "pool": n // 2}[stage]
        if n < 1:
            raise ValueError("input too small")
    return n


SEED_STAGES = ("conv", "conv", "pool", "conv", "pool")


def flat_features(height: int, width: int, *, stages: Sequence[str] = SEED_STAGES, channels: int = 64) -> int:
    """64 · h' · w', each side going n → n − 4 → n − 4 → ⌊n/2⌋ → n − 4 → ⌊n/2⌋ (ValueError when it reaches 0);
    other `stages` and `channels` model known mistakes."""
    return channels * side_after(height, stages) * side_after(width, stages)


def one_thread(function: Callable) -> Callable:
    """Run a reference on one intra-op thread: these tensors are small, and extra threads only contend."""
    import functools

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        from grader.probes.models import single_thread

        with single_thread():
            return function(*args, **kwargs)

    return wrapper


def torch_state(state: dict) -> dict:
    import torch

    return {name: torch.from_numpy(np.asarray(value.array if isinstance(value, TensorData) else value, dtype=np.float64))
            for name, value in state.items()}


def _layers(pool: str, flip: bool):
    import torch.nn.functional as F

    pool_fn = F.max_pool2d if pool == "max" else F.avg_pool2d
    conv = lambda h, w, b, **k: F.conv2d(h, w.flip(-1, -2) if flip else w, b, **k)
    return F, pool_fn, conv


LENET_RELUS = ("conv1", "conv2", "fc1", "fc2")


def flatten(h, channels_last: bool = False):
    """(N, C, H, W) → (N, C·H·W) in NCHW order; `channels_last` models flattening an (N, H, W, C) permutation."""
    import torch

    return torch.flatten(h.permute(0, 2, 3, 1) if channels_last else h, 1)


def finish(logits, final: str = ""):
    """The logits, or (a known mistake) their `final` = "softmax" / "log_softmax" over the classes."""
    return logits if not final else getattr(logits, final)(1)


@one_thread
def lenet_reference(state: dict, x, *, pool: str = "max", flip: bool = False, requires_grad: bool = False,
                    relus: Sequence[str] = LENET_RELUS, channels_last: bool = False, final: str = ""):
    """LeNet-5 in torch.nn.functional, float64; returns (output, weights) with weights as leaf tensors. `relus` names the
    layers followed by a ReLU (another set models a missing or an extra activation); `channels_last` and `final`
    model the mistakes of `flatten` and `finish`."""
    import torch

    F, pool_fn, conv = _layers(pool, flip)
    act = lambda name, h: F.relu(h) if name in relus else h  # noqa: E731
    w = {k: v.requires_grad_(requires_grad) for k, v in torch_state(state).items()}
    h = torch.from_numpy(np.asarray(x.array if isinstance(x, TensorData) else x, dtype=np.float64))
    h = pool_fn(act("conv1", conv(h, w["conv1.weight"], w["conv1.bias"])), 2)
    h = pool_fn(act("conv2", conv(h, w["conv2.weight"], w["conv2.bias"])), 2)
    h = flatten(h, channels_last)
    h = act("fc1", F.linear(h, w["fc1.weight"], w["fc1.bias"]))
    h = act("fc2", F.linear(h, w["fc2.weight"], w["fc2.bias"]))
    return finish(act("fc3", F.linear(h, w["fc3.weight"], w["fc3.bias"])), final), w


@one_thread
def seedcnn_reference(state: dict, x, *, pool: str = "max", flip: bool = False, requires_grad: bool = False,
                      channels_last: bool = False, final: str = ""):
    """The repaired lecture CNN in torch.nn.functional, float64; returns (output, weights)."""
    import torch

    F, pool_fn, conv = _layers(pool, flip)
    w = {k: v.requires_grad_(requires_grad) for k, v in torch_state(state).items()}
    h = torch.from_numpy(np.asarray(x.array, dtype=np.float64))
    h = F.relu(conv(h, w["layer.0.weight"], w["layer.0.bias"]))
    h = pool_fn(F.relu(conv(h, w["layer.2.weight"], w["layer.2.bias"])), 2, 2)
    h = pool_fn(F.relu(conv(h, w["layer.5.weight"], w["layer.5.bias"])), 2, 2)
    h = F.relu(F.linear(flatten(h, channels_last), w["fc_layer.0.weight"], w["fc_layer.0.bias"]))
    return finish(F.linear(h, w["fc_layer.2.weight"], w["fc_layer.2.bias"]), final), w


REFERENCES = {"LeNet5": lenet_reference, "SeedCNN": seedcnn_reference}
LAYERS = {  # the architecture the exercise gives, as torch.nn.functional runs it
    "LeNet5": "conv1 → relu → max_pool2d(2) → conv2 → relu → max_pool2d(2) → flatten → fc1 → relu → fc2 → relu → fc3",
    "SeedCNN": "conv → relu → conv → relu → max_pool2d(2) → conv → relu → max_pool2d(2) → flatten → linear → relu → linear",
}
FORMULAS = {network: f"torch.nn.functional with the same weights: {layers}" for network, layers in LAYERS.items()}
NUMPY_SOURCE = f"torch.nn.functional in float64 with the same weights: {LAYERS['LeNet5']}"


def reference_output(probe: Probe, **variant) -> np.ndarray:
    output, _ = REFERENCES[probe.function](weights_of(probe), probe.x, **variant)
    return output.detach().numpy()


@one_thread
def conv2d_reference(x, weight, bias, stride=1, padding=0, *, flip: bool = False) -> np.ndarray:
    import torch
    import torch.nn.functional as F

    w = torch.from_numpy(np.asarray(weight, dtype=np.float64))
    return F.conv2d(torch.from_numpy(np.asarray(x, dtype=np.float64)), w.flip(-1, -2) if flip else w,
                    torch.from_numpy(np.asarray(bias, dtype=np.float64)), stride=stride, padding=padding).numpy()


@one_thread
def maxpool2d_reference(x, k=2, *, average: bool = False, stride: int | None = None, ceil_mode: bool = False) -> np.ndarray:
    import torch
    import torch.nn.functional as F

    pool = F.avg_pool2d if average else F.max_pool2d
    return pool(torch.from_numpy(np.asarray(x, dtype=np.float64)), k, stride=stride, ceil_mode=ceil_mode).numpy()


# ------------------------------------------------------------------------------------------------- model judges


@one_thread
def reference_gradient_norms(probe: Probe) -> dict[str, float]:
    """Autograd through the functional reference: the norm of d sum(output · cotangent) / d parameter, per parameter."""
    output, weights = REFERENCES[probe.function](weights_of(probe), probe.x, requires_grad=True)
    (output * torch_state({"c": probe.cotangent})["c"]).sum().backward()
    return {name: float(weight.grad.norm()) for name, weight in weights.items()}


def conv_probe(generator: np.random.Generator, rng: random.Random, *, stride: int | None = None, padding: int | None = None) -> Probe:
    """A random conv2d case: 1–3 samples and channels, odd and even sizes, square or oblong kernels."""
    n, c_in, c_out = rng.randint(1, 3), rng.randint(1, 3), rng.randint(1, 4)
    kh, kw = rng.randint(1, 4), rng.randint(1, 4)
    height, width = rng.randint(kh + 1, 9), rng.randint(kw + 1, 9)
    x = generator.normal(size=(n, c_in, height, width))
    weight, bias = generator.normal(size=(c_out, c_in, kh, kw)), generator.normal(size=(c_out,))
    kwargs = {}
    if stride is not None:
        kwargs["stride"] = stride
    if padding is not None:
        kwargs["padding"] = padding
    return call("conv2d_forward", x, weight, bias, names=["x", "weight", "bias"], **kwargs)


def pool_probe(generator: np.random.Generator, rng: random.Random, k: int | None) -> Probe:
    shape = (rng.randint(1, 3), rng.randint(1, 3), rng.randint(4, 11), rng.randint(4, 11))
    x = generator.normal(size=shape)
    return call("maxpool2d_forward", x, names=["x"]) if k is None else call("maxpool2d_forward", x, names=["x"], k=k)


# ------------------------------------------------------------------------------------------------- judges


def of_model(function: Callable[..., Any]) -> Callable[[Probe], Any]:
    return lambda probe: function(probe)


def lenet_activation_mistakes(output: Callable[..., Any]) -> list[Mistake]:
    """A ReLU missing after one layer, or one too many after fc3; `output(**variant)` is the variant's output."""
    missing = [Mistake(f"the ReLU after {name} is missing: the exercise applies ReLU after conv1, conv2, fc1 and fc2.",
                       lambda *a, _name=name, **k: output(*a, **k, relus=tuple(r for r in LENET_RELUS if r != _name)))
               for name in LENET_RELUS]
    return missing + [Mistake("fc3 returns the logits as they are: there is no activation after the last layer.",
                              lambda *a, **k: output(*a, **k, relus=LENET_RELUS + ("fc3",))),
                      Mistake("no ReLU takes effect at all: the exercise applies ReLU after conv1, conv2, fc1 and fc2 "
                              "(is the relu helper returning its input unchanged?).", lambda *a, **k: output(*a, **k, relus=()))]


def ending_mistakes(output: Callable[..., Any]) -> list[Mistake]:
    """A softmax or log_softmax after the last layer, and channels flattened last."""
    return [Mistake(HINT_SOFTMAX, lambda *a, **k: output(*a, **k, final="softmax")),
            Mistake(HINT_SOFTMAX, lambda *a, **k: output(*a, **k, final="log_softmax")),
            Mistake(HINT_CHANNELS_LAST, lambda *a, **k: output(*a, **k, channels_last=True))]


FORWARD_MISTAKES = [Mistake(HINT_AVERAGE, lambda probe: reference_output(probe, pool="avg")),
                    Mistake(HINT_FLIPPED, lambda probe: reference_output(probe, flip=True)),
                    *lenet_activation_mistakes(reference_output), *ending_mistakes(reference_output)]


def shape_digests(probe: Probe) -> dict[str, list[str]] | None:
    """For a probe with seeded weights: the digest of each size of the exercise's state_dict shapes (as judge_summary
    stores them), against which the judge checks the shapes the model drew its weights in."""
    if probe.weight_seed is None:
        return None
    return {name: [digest(size, f"{name}[{axis}]") for axis, size in enumerate(shape)]
            for name, shape in exercise_shapes(probe.function, probe.init).items()}


def judge_forward(tolerance: tuple[float, float] = MODEL_TOLERANCE) -> DataJudge:
    """The model's output equals the functional reference with the same weights, for every batch size."""
    spec = {"sources": FORMULAS, "tolerance": list(tolerance), "hints": [m.hint for m in FORWARD_MISTAKES]}
    return DataJudge(f"{LOGIC}:judge_forward", spec, {"expected": reference_output, "shapes": shape_digests,
                                                      **mistake_sources(FORWARD_MISTAKES, of_model)})


def too_small(judge: DataJudge) -> DataJudge:
    """`judge` (an `expect_raise`), naming a size computed for an input too small (grader.public.ex08_lenet)."""
    return DataJudge(f"{LOGIC}:judge_too_small", {**judge.spec, "inner": judge.logic}, judge.sources, judge.formula)


def judge_meta(expected_shape: Callable[[int], tuple[int, ...]]) -> DataJudge:
    """On the meta device the output has shape expected_shape(batch) (the width is read off batch 1) and stays there."""
    return static(f"{LOGIC}:judge_meta", width=expected_shape(1)[1])


def judge_summary(expected: dict[str, tuple[int, ...]], parameters: int | None = None) -> DataJudge:
    """The state_dict has exactly the expected names and shapes (hence the parameter count); each size is stored as a
    digest (its key, axis and value), so a bundle holds no size the exercise asks for."""
    shapes = {name: [digest(size, f"{name}[{axis}]") for axis, size in enumerate(shape)] for name, shape in expected.items()}
    return static(f"{LOGIC}:judge_summary", shapes=shapes, parameters=parameters)


def judge_flat_features() -> DataJudge:
    """flat_features' value, and each known mistake's, compared by digest: the sizes the lecture asks for never ship."""
    salt = "flat_features"
    sources = {"expected": lambda probe: digest(flat_features(*probe.args), salt),
               **{f"mistake:{i}": (lambda probe, m=m: digest(m.answer(*probe.args), salt)) for i, m in enumerate(FLAT_MISTAKES)}}
    return DataJudge(f"{LOGIC}:judge_flat_features", {"salt": salt, "hints": [m.hint for m in FLAT_MISTAKES],
                                                      "source": "the size of self.layer's output per sample for this input"},
                     sources, "64·h'·w', each side n → n−4 → n−4 → ⌊n/2⌋ → n−4 → ⌊n/2⌋")


judge_gradients = DataJudge(f"{LOGIC}:judge_gradients", {"source": "torch autograd through the functional reference",
                                                        "tolerance": list(GRADIENT_TOLERANCE)},
                            {"norms": reference_gradient_norms, "shapes": shape_digests})
NUMPY_MISTAKES = [Mistake(HINT_AVERAGE, lambda params, x: lenet_reference(params, x, pool="avg")[0].detach().numpy()),
                  Mistake(HINT_FLIPPED, lambda params, x: lenet_reference(params, x, flip=True)[0].detach().numpy()),
                  *lenet_activation_mistakes(lambda params, x, **k: lenet_reference(params, x, **k)[0].detach().numpy()),
                  *ending_mistakes(lambda params, x, **k: lenet_reference(params, x, **k)[0].detach().numpy())]
judge_lenet_numpy = DataJudge(
    f"{LOGIC}:judge_lenet_numpy",
    {"source": NUMPY_SOURCE, "hints": [m.hint for m in NUMPY_MISTAKES]},
    {"expected": lambda probe: lenet_reference(*probe.args)[0].detach().numpy(), **mistake_sources(NUMPY_MISTAKES)})


CONV_FORMULA = "torch.nn.functional.conv2d: out[n, o, i, j] = bias[o] + Σ_c,u,v x_pad[n, c, s·i + u, s·j + v] · weight[o, c, u, v]"
CONV_MISTAKES = [
    Mistake(HINT_FLIPPED, lambda *a, **k: conv2d_reference(*a, **k, flip=True)),
    Mistake("the bias is missing: add bias[o] to every output position of filter o.",
            lambda x, weight, bias, **k: conv2d_reference(x, weight, np.zeros_like(bias), **k)),
    Mistake("the stride is ignored: the window moves by `stride` rows and columns between outputs.",
            lambda x, weight, bias, stride=1, padding=0: only_if(stride != 1, lambda: conv2d_reference(x, weight, bias, 1, padding))),
    Mistake("the padding is ignored: pad `padding` zeros on every side of the input first.",
            lambda x, weight, bias, stride=1, padding=0: only_if(padding != 0, lambda: conv2d_reference(x, weight, bias, stride, 0))),
    Mistake("the padding goes on both sides of each axis: `padding` zeros before and `padding` after, not one side only.",
            lambda x, weight, bias, stride=1, padding=0: only_if(padding != 0, lambda: conv2d_reference(
                np.pad(x, ((0, 0), (0, 0), (padding, 0), (padding, 0))), weight, bias, stride))),
]
CONV_SOURCE = "torch.nn.functional.conv2d on these inputs"
POOL_MISTAKES = [
    Mistake(HINT_AVERAGE, lambda *a, **k: maxpool2d_reference(*a, **k, average=True)),
    Mistake("the pooling windows do not overlap: they move by k (stride k), not by 1.", lambda x, k=2: maxpool2d_reference(x, k, stride=1)),
    Mistake("incomplete windows at the right and bottom edges are dropped, not pooled.",
            lambda x, k=2: only_if(x.shape[2] % k != 0 or x.shape[3] % k != 0, lambda: maxpool2d_reference(x, k, ceil_mode=True))),
]
FLAT_MISTAKES = [
    Mistake(HINT_LECTURE_FLAT, lambda *a: LECTURE_FLAT),
    Mistake("this leaves out a stage: follow each side through all three convolutions and both poolings.",
            lambda h, w: flat_features(h, w, stages=("conv", "conv", "pool", "conv"))),
    Mistake("this leaves out a stage: follow each side through all three convolutions and both poolings.",
            lambda h, w: flat_features(h, w, stages=("conv", "conv", "conv", "pool"))),
    Mistake("a 5×5 convolution without padding takes 4 rows and 4 columns off, not 5 (n − 5 + 1 = n − 4).",
            lambda h, w: flat_features(h, w, stages=("conv5", "conv5", "pool", "conv5", "pool"))),
    Mistake("the last convolution has 64 output channels: the flattened size counts every channel.",
            lambda h, w: flat_features(h, w, channels=32)),
    Mistake("the features are channels × height × width: this counts one side only.", lambda h, w: 64 * side_after(h, SEED_STAGES)),
]


# ------------------------------------------------------------------------------------------------- the checks


def model_probe(recipe: str, function: str, x: TensorData, weights: dict | int | None = None, init: dict | None = None,
                device: str = "cpu", **extra) -> Probe:
    """A probe of `recipe` on the student's `function(**init)`; `weights` is a state_dict to load, or a seed
    (`weight_seed`) from which the recipe draws weights for the exercise's state_dict keys in the model's own shapes."""
    params = {"function": function, "x": x, **extra}
    if isinstance(weights, int):
        params["weight_seed"] = weights
        params["weight_keys"] = list(exercise_shapes(function, init or {}))
    elif weights is not None:
        params["state_dict"] = weights
    if init:
        params["init"] = init
    if recipe == "models.forward":
        params["device"] = device
    return Probe(recipe, params)


def images(generator: np.random.Generator, batch: int, height: int = 32, width: int = 32) -> TensorData:
    return tensor(generator.normal(size=(batch, 1, height, width)))


def checks(rng: random.Random) -> list[Check]:
    generator = numpy_rng(rng)
    lenet, seed28 = weight_seed(generator), weight_seed(generator)
    other_batch = rng.choice([2, 3, 4, 6, 7, 8])
    meta_size = (rng.randint(20, 40), rng.randint(20, 40))
    small = (rng.randint(1, 19), rng.randint(1, 40))
    numpy_params = lenet_arrays(generator, np.float64)
    return [
        Check(name="lenet_parameters", points=1, probes=(Probe("models.summary", {"function": "LeNet5"}),),
              judge=judge_summary(LENET_SHAPES, LENET_PARAMETERS), description="the layers' names and shapes; 61,706 parameters"),
        Check(name="lenet_forward", points=3,
              probes=tuple(model_probe("models.forward", "LeNet5", images(generator, batch), lenet) for batch in (1, 5, other_batch)),
              judge=judge_forward(), expects_errors=True, description="the output equals torch.nn.functional's with the same weights, batch sizes 1, 5 and another"),
        Check(name="lenet_gradients", points=2,
              probes=(model_probe("models.gradients", "LeNet5", images(generator, 3), lenet, cotangent=tensor(generator.normal(size=(3, 10)))),),
              judge=judge_gradients, expects_errors=True, description="gradients reach every parameter and equal autograd's"),
        Check(name="lenet_any_device", points=2,
              probes=tuple(model_probe("models.forward", "LeNet5", meta_tensor((batch, 1, 32, 32)), device="meta") for batch in (1, other_batch + 3)),
              judge=judge_meta(lambda batch: (batch, 10)), expects_errors=True,
              description="on torch's meta device: nothing created on a fixed device, no fixed batch size"),
        Check(name="seedcnn_parameters", points=1, probes=(Probe("models.summary", {"function": "SeedCNN"}),),
              judge=judge_summary(seedcnn_shapes(28, 28)), description="layer and fc_layer with the sizes of a 28×28 input"),
        Check(name="seedcnn_forward", points=2,
              probes=tuple(model_probe("models.forward", "SeedCNN", images(generator, batch, 28, 28), seed28) for batch in (1, 5)),
              judge=judge_forward(), expects_errors=True,
              description="the output equals torch.nn.functional's with the same weights (drawn from a seed in the model's own shapes), batch sizes 1 and 5"),
        Check(name="seedcnn_any_device", points=1,
              probes=(model_probe("models.forward", "SeedCNN", meta_tensor((other_batch, 1, *meta_size)), init={"height": meta_size[0], "width": meta_size[1]}, device="meta"),),
              judge=judge_meta(lambda batch: (batch, 10)), expects_errors=True,
              description="SeedCNN(height, width) on torch's meta device, for another image size"),
        Check(name="flat_features", points=1,
              probes=(call("flat_features", 28, 28, names=["height", "width"]), call("flat_features", 32, 32, names=["height", "width"]),
               call("flat_features", rng.randint(20, 64), rng.randint(20, 64), names=["height", "width"])),
              judge=judge_flat_features()),
        Check(name="flat_features_too_small", points=1,
              probes=(call("flat_features", 19, 28, names=["height", "width"]), call("flat_features", *small, names=["height", "width"]),
               call("flat_features", 5, 5, names=["height", "width"])),
              judge=too_small(expect_raise("ValueError", "some stage of SeedCNN would have no rows or columns left")), expects_errors=True),
        Check(name="conv2d_forward", points=2,
              probes=(conv_probe(generator, rng), conv_probe(generator, rng, stride=2, padding=1), conv_probe(generator, rng, stride=3, padding=2),
               conv_probe(generator, rng, stride=1, padding=rng.randint(1, 2))),
              judge=expect(conv2d_reference, CONV_FORMULA, CONV_MISTAKES, source=CONV_SOURCE, shaped=True)),
        Check(name="maxpool2d_forward", points=1,
              probes=(pool_probe(generator, rng, None), pool_probe(generator, rng, 2), pool_probe(generator, rng, 3)),
              judge=expect(maxpool2d_reference, "the largest value of each k×k window, stride k", POOL_MISTAKES,
                     source="torch.nn.functional.max_pool2d(x, k) on these inputs", shaped=True)),
        Check(name="lenet_forward_numpy", points=2,
              probes=(call("lenet_forward_numpy", numpy_params, generator.normal(size=(2, 1, 32, 32)), names=["params", "x"]),),
              judge=judge_lenet_numpy, expects_errors=True),
        Check(name="lenet_cuda", points=1,
              probes=(model_probe("models.forward", "LeNet5", images(generator, other_batch), lenet, device="cuda"),),
              judge=judge_forward(DEVICE_TOLERANCE), requires="cuda", expects_errors=True,
              description="on CUDA the output equals the CPU reference"),
        Check(name="seedcnn_cuda", points=1,
              probes=(model_probe("models.forward", "SeedCNN", images(generator, 3, 28, 28), seed28, device="cuda"),),
              judge=judge_forward(DEVICE_TOLERANCE), requires="cuda", expects_errors=True),
    ]
