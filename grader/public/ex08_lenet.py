"""Judging logic of ex08: the networks' outputs, gradients and shapes against values the instructor's functional
reference computed for these weights and inputs (shipped as data), and the state_dict names and shapes the exercise
gives as its contract."""

from __future__ import annotations

import math
import re
from typing import Any, Mapping, Sequence

from grader.compare import NotComparable, as_array, as_real, fmt
from grader.judges import FLOAT64, Lookup, compare_case, digest, logic_named, looked_up, returned_values, where
from grader.model import Check, Outcome, Probe, Raised, Returned, Verdict
from grader.wire import TensorData

EXERCISE = "ex08_lenet"
LECTURE_FLAT = 64 * 32 * 32

HINT_BATCH = ("the batch size is hard-coded: flatten with torch.flatten(x, 1) or x.view(x.size(0), -1), so that any "
              "batch size works (the last batch of an epoch is often smaller).")
HINT_LECTURE_FLAT = ("64·32·32 = 65536 is the lecture's slip, the size before any convolution or pooling; the first linear "
                     "layer takes as many inputs as self.layer's output has per sample (flat_features(height, width)).")
HINT_DEVICE = ("forward uses a fixed device: something is created on (or moved to) a device other than the input's. Create "
               "nothing on a fixed device in forward (if you must, use device=x.device); the model must run wherever "
               "model.to(device) put it.")
HINT_VALUES = ("forward reads values out of tensors (.item(), .tolist(), .numpy(), or a Python `if` on a tensor); on torch's "
               "meta device tensors have shapes but no values, so keep the forward pass in tensor operations.")
HINT_SOFTMAX = ("forward returns the logits of fc3 as they are: no softmax or log_softmax at the end (the loss, "
                "nn.CrossEntropyLoss, applies log-softmax itself).")
HINT_CHANNELS_LAST = ("the features are flattened in another order than PyTorch's (N, C, H, W): flatten channels first, as "
                      "torch.flatten(x, 1) does on the (N, C, H, W) tensor, with no permute (or transpose) to channels-last before it.")
HINT_AVERAGE = "this is average pooling; LeNet uses max pooling (F.max_pool2d / nn.MaxPool2d(2)), the largest value of each window."
HINT_NAMES = {
    "LeNet5": ("the grader loads its weights by the state_dict keys of the exercise's LeNet5 (conv1.weight, conv1.bias, "
               "conv2.…, fc1.…, fc2.…, fc3.weight, fc3.bias): the module's attributes must be named conv1, conv2, fc1, fc2 and fc3, "
               "one layer each (not nn.Sequential blocks), with ReLU and max-pooling applied in forward."),
    "SeedCNN": ("the grader loads its weights by SeedCNN's state_dict keys: the attribute `layer` is an nn.Sequential of "
                "Conv2d(1, 16, 5), ReLU, Conv2d(16, 32, 5), ReLU, MaxPool2d(2, 2), Conv2d(32, 64, 5), ReLU, MaxPool2d(2, 2) "
                "(keys layer.0, layer.2, layer.5), and `fc_layer` an nn.Sequential of Linear(flat_features(height, width), 100), "
                "ReLU, Linear(100, 10) (keys fc_layer.0, fc_layer.2)."),
}
HINT_FEATURES = ("the first linear layer receives {got} features per sample but was built for {wanted}: the convolutions and "
                 "poolings produce another size than it assumes. Check each layer's kernel size, padding and stride and each "
                 "pooling against the exercise{extra}.")
FEATURES_EXTRA = {"LeNet5": " (LeNet's convolutions have no padding: a 5×5 kernel takes 4 rows and columns off)",
                  "SeedCNN": ", and the size flat_features(height, width) gives"}
HINT_LAYER_SHAPE = ("a layer's weights have another shape than the exercise's (the grader's reference has the exercise's shapes): "
                    "check that layer's channels or features against the exercise.")
HINT_NUMPY_KEYS = ("params holds the state_dict of the exercise's LeNet5, keyed conv1.weight, conv1.bias, conv2.weight, "
                   "conv2.bias, fc1.… to fc3.bias; read the weights by those keys (so LeNet5's attributes are named conv1 … fc3).")
HINT_LINEAR_T = ("nn.Linear keeps its weight as (out_features, in_features): a linear layer computes h @ weight.T + bias, "
                 "with the transpose.")
HINT_FLIPPED = ("the kernel is flipped (true convolution); Conv2d computes cross-correlation: "
                "out[i, j] = Σ x[s·i + u, s·j + v] · weight[u, v] with the kernel as it is.")



TORCH_WORDING = "2.13"  # the torch version whose error messages raised_hint reads (tests/checks/test_ex08_lenet.py raises each)


def raised_hint(text: str, batch: int | None = None, function: str = "") -> str | None:
    """Name the known mistake behind an exception raised by a model's forward pass (`batch` samples of `function`).

    It reads torch's own wording (written against torch `TORCH_WORDING`): a torch that rewords one of these errors
    loses its hint, never its verdict, and the test that raises each error in the installed torch says which.
    """
    if str(LECTURE_FLAT) in text:
        return HINT_LECTURE_FLAT
    if "Missing key(s) in state_dict" in text or "Unexpected key(s) in state_dict" in text:
        return HINT_NAMES.get(function)
    if "size mismatch for" in text:
        return HINT_LAYER_SHAPE
    product = re.search(r"(\d+)x(\d+) and (\d+)x(\d+)", text) or re.search(r"\[(\d+), (\d+)\] X \[(\d+), (\d+)\]", text)
    if product and batch is not None and int(product.group(1)) == batch and product.group(2) != product.group(3):
        return HINT_FEATURES.format(got=product.group(2), wanted=product.group(3), extra=FEATURES_EXTRA.get(function, ""))
    if "meta" in text and any(word in text for word in ("item()", "numpy", "copy out", "data-dependent", "no data")):
        return HINT_VALUES
    if "same device" in text or "device type" in text or ("device" in text and ("cpu" in text or "cuda" in text)):
        return HINT_DEVICE
    if any(sign in text for sign in ("invalid for input of size", "cannot be multiplied", "size mismatch", "must match the size", "same reduction dim")):
        return HINT_BATCH
    return None


def model_raised_hint(probe: Probe, outcome: Outcome) -> str | None:
    """`raised_hint` for what a model probe raised."""
    return raised_hint(outcome.describe(), probe.x.shape[0], probe.function)


def output_of(check: Check, probe: Probe, value, expected_shape: tuple[int, ...]) -> TensorData | Verdict:
    place = where(check, probe)
    if not isinstance(value, TensorData):
        return Verdict.fail(f"{place}: returned {fmt(value)}; expected a tensor of shape {expected_shape}")
    if value.shape != expected_shape:
        hint = HINT_BATCH if value.shape[1:] == expected_shape[1:] or math.prod(value.shape) == math.prod(expected_shape) else None
        return Verdict.fail(f"{place}: the output has shape {value.shape}; expected {expected_shape}, one row of 10 logits per sample", hint)
    return value


def seeded_shapes(check: Check, probe: Probe, value: Any, lookup: Lookup) -> Any:
    """What a probe with seeded weights returned, {"output", "state"}: a failing verdict where a weight's shape is not the
    exercise's (by `shapes`, the digests of those shapes, so no size ships), else the output. Other probes' values pass."""
    if probe.weight_seed is None:
        return value
    if not isinstance(value, dict) or "state" not in value or "output" not in value:
        return Verdict.fail(f"{where(check, probe)}: the probe returned {fmt(value)}; expected the output and the weights' shapes")
    got = {name: tuple(shape) for name, shape in value["state"]}
    for name, digests in lookup(probe, "shapes").items():
        shape = got.get(name, ())
        right = [axis < len(digests) and digest(size, f"{name}[{axis}]") == digests[axis] for axis, size in enumerate(shape)]
        if len(shape) != len(digests) or not all(right):
            wrong = [axis for axis, ok in enumerate(right) if not ok]
            axes = (f"a {len(digests)}-dimensional weight" if len(shape) != len(digests)
                    else f"the exercise's has another size along axis {', '.join(map(str, wrong))} ({axis_names(name, wrong)})")
            return Verdict.fail(f"{where(check, probe)}: {name} has shape {shape}; {axes}",
                                HINT_LECTURE_FLAT if LECTURE_FLAT in shape else HINT_LAYER_SHAPE)
    return value["output"]


def judge_forward(check: Check, cases: Sequence[tuple[Probe, Outcome]], spec: Mapping[str, Any], lookup: Lookup) -> Verdict:
    """The model's output equals the functional reference's (`expected`) with the same weights, for every batch size.
    Where the weights were drawn from a seed in the model's own shapes, those shapes must be the exercise's first."""
    for probe, outcome in cases:
        failed = returned_values(check, [(probe, outcome)], model_raised_hint)
        if failed:
            return failed
        batch = probe.x.shape[0]
        value = seeded_shapes(check, probe, outcome.value, lookup)
        if isinstance(value, Verdict):
            return value
        output = output_of(check, probe, value, (batch, 10))
        if isinstance(output, Verdict):
            return output
        verdict = compare_case(check, probe, output, lookup(probe, "expected"), spec["sources"][probe.function],
                               tuple(spec["tolerance"]), looked_up(spec, lookup, probe), label=where(check, probe),
                               formula=spec.get("formula", ""))
        if not verdict.passed:
            return verdict
    return Verdict.ok()


META_NOTE = (". (Model and input were on torch's meta device, which stands in for any device without a GPU: shapes and "
             "dtypes are real, values are not.)")


def judge_meta(check: Check, cases: Sequence[tuple[Probe, Outcome]], spec: Mapping[str, Any], lookup: Lookup) -> Verdict:
    """On the meta device (weights and input there) the output has shape (batch, spec["width"]) and stays on meta."""
    for probe, outcome in cases:
        failed = returned_values(check, [(probe, outcome)], model_raised_hint, note=META_NOTE)
        if failed:
            return failed
        value = outcome.value
        shape = (probe.x.shape[0], spec["width"])
        if not isinstance(value, TensorData):
            return Verdict.fail(f"{where(check, probe)}: returned {fmt(value)}; expected a tensor of shape {shape} on meta")
        if value.device != "meta":
            return Verdict.fail(f"{where(check, probe)}: the output is on {value.device}, though model and input were on meta", HINT_DEVICE)
        if value.shape != shape:
            return Verdict.fail(f"{where(check, probe)}: the output has shape {value.shape}; expected {shape}", HINT_BATCH)
    return Verdict.ok()


def judge_summary(check: Check, cases: Sequence[tuple[Probe, Outcome]], spec: Mapping[str, Any], lookup: Lookup) -> Verdict:
    """The state_dict has exactly the names of `spec["shapes"]`, each size equal to its digest there (hence the
    parameter count); a wrong size is named by its layer and axis, never printed."""
    failed = returned_values(check, cases)
    if failed:
        return failed
    expected = spec["shapes"]
    parameters = spec.get("parameters")
    probe, outcome = cases[0]
    place = where(check, probe)
    got = {name: tuple(shape) for name, shape in outcome.value["state"]}
    missing, extra = sorted(set(expected) - set(got)), sorted(set(got) - set(expected))
    if missing or extra:
        return Verdict.fail(f"{place}: state_dict keys {sorted(got)}; expected {sorted(expected)} "
                            f"(missing {missing}, unexpected {extra})",
                            HINT_NAMES.get(probe.function, "name the layers as the exercise does (they become the state_dict keys "
                                           "the grader loads weights by).") if missing else None)
    for name, digests in expected.items():
        right = [axis < len(digests) and digest(size, f"{name}[{axis}]") == digests[axis] for axis, size in enumerate(got[name])]
        if len(got[name]) != len(digests) or not all(right):
            hint = HINT_LECTURE_FLAT if LECTURE_FLAT in got[name] else summary_shape_hint(name, got[name], right, probe.function)
            wrong = [axis for axis, ok in enumerate(right) if not ok]
            axes = (f"a {len(digests)}-dimensional weight" if len(got[name]) != len(digests)
                    else f"the exercise's has another size along axis {', '.join(map(str, wrong))} ({axis_names(name, wrong)})")
            return Verdict.fail(f"{place}: {name} has shape {got[name]}; {axes}", hint)
    count = outcome.value["parameters"]
    if parameters is not None and count != parameters:
        return Verdict.fail(f"{place}: {count} parameters; expected {parameters:,}")
    return Verdict.ok()


def axis_names(name: str, axes: Sequence[int]) -> str:
    """What the axes of a weight or bias hold: out and in channels or features."""
    words = ("output channels or features", "input channels or features", "kernel height", "kernel width")
    return ", ".join(words[a] if a < len(words) else f"axis {a}" for a in axes)


def summary_shape_hint(name: str, got: tuple[int, ...], right: Sequence[bool], function: str) -> str | None:
    """A hint for one layer of the wrong shape (`right`: which axes match): the first linear layer's inputs, or a
    layer's channels or features."""
    first_linear = {"LeNet5": "fc1.weight", "SeedCNN": "fc_layer.0.weight"}.get(function)
    layer = name.rsplit(".", 1)[0]
    if name == first_linear and len(right) == 2 and right[0] and not right[1]:
        return ("the first linear layer's in_features differ from the number of features the convolutions and poolings "
                "produce per sample: follow the size through each stage (kernel size, padding, stride, pooling)"
                + FEATURES_EXTRA.get(function, "") + ".")
    if right and not right[0]:
        return f"{layer} has {got[0]} output channels or features; compare them with the exercise's {layer}."
    if len(right) > 1 and not right[1]:
        return f"{layer} takes {got[1]} input channels or features; they must be what the layer before it gives."
    return None


def judge_flat_features(check: Check, cases: Sequence[tuple[Probe, Outcome]], spec: Mapping[str, Any], lookup: Lookup) -> Verdict:
    """flat_features returns an int whose digest is the reference's (`expected`); a known mistake's digest names it.
    The message shows what came back, never the size the exercise asks for."""
    failed = returned_values(check, cases)
    if failed:
        return failed
    for probe, outcome in cases:
        place, value = where(check, probe), outcome.value
        try:
            number = as_real(value)
        except NotComparable as error:
            return Verdict.fail(f"{place}: {error}")
        if not float(number).is_integer():
            return Verdict.fail(f"{place}: got {fmt(value)}; a number of features is a whole number")
        received = digest(int(number), spec["salt"])
        if received == lookup(probe, "expected"):
            continue
        hint = next((h for i, h in enumerate(spec["hints"]) if known_digest(lookup, probe, i) == received), None)
        return Verdict.fail(f"{place}: got {int(number)}, which is not {spec['source']} (the size is what the exercise asks "
                            "you to find: follow each side through every stage)", hint)
    return Verdict.ok()


def known_digest(lookup: Lookup, probe: Probe, index: int) -> str | None:
    try:
        return lookup(probe, f"mistake:{index}")
    except Exception:  # noqa: BLE001 - a mistake that does not apply to these inputs
        return None


def judge_gradients(check: Check, cases: Sequence[tuple[Probe, Outcome]], spec: Mapping[str, Any], lookup: Lookup) -> Verdict:
    """Backpropagating sum(output · cotangent) gives every parameter the gradient norm autograd gives the reference (`norms`)."""
    for probe, outcome in cases:
        failed = returned_values(check, [(probe, outcome)], model_raised_hint)
        if failed:
            return failed
        place = where(check, probe) + ", backward of sum(output · cotangent)"
        shaped = seeded_shapes(check, probe, outcome.value, lookup)
        if isinstance(shaped, Verdict):
            return shaped
        expected = lookup(probe, "norms")
        norms = outcome.value["grad_norms"]
        if set(norms) != set(expected):
            return Verdict.fail(f"{place}: the parameters are {sorted(norms)}; expected {sorted(expected)}")
        empty = [name for name in expected if norms[name] is None]
        if empty:
            return Verdict.fail(f"{place}: no gradient reached {', '.join(empty)} (its .grad is None after backward())",
                                "every parameter must take part in the forward pass through torch operations: no .detach(), "
                                ".data, numpy round trips or torch.no_grad() inside forward, and no layers created in forward.")
        names = list(expected)
        try:
            got = as_array([norms[name] for name in names], (len(names),))
        except NotComparable as error:
            return Verdict.fail(f"{place}: gradient norms {error}")
        verdict = compare_case(check, probe, got, [expected[name] for name in names], spec["source"] + ", per parameter in the order "
                               + ", ".join(names), tuple(spec["tolerance"]), label=f"{place}: gradient norms")
        if not verdict.passed:
            return verdict
    return Verdict.ok()


def judge_lenet_numpy(check: Check, cases: Sequence[tuple[Probe, Outcome]], spec: Mapping[str, Any], lookup: Lookup) -> Verdict:
    """lenet_forward_numpy equals the functional reference (`expected`) in float64."""
    for probe, outcome in cases:
        place = numpy_place(probe)
        failed = returned_values(check, [(probe, outcome)], numpy_raised_hint, label=numpy_place)
        if failed:
            return failed
        verdict = compare_case(check, probe, outcome.value, lookup(probe, "expected"), spec["source"], FLOAT64,
                               looked_up(spec, lookup, probe), label=place, formula=spec.get("formula", ""))
        if not verdict.passed:
            return verdict
    return Verdict.ok()


def numpy_place(probe: Probe) -> str:
    """How messages name a lenet_forward_numpy probe (its weights are too many to print)."""
    return f"{EXERCISE}.lenet_forward_numpy(params, x) with random float64 weights and x of shape {probe.args[1].shape}"


def numpy_raised_hint(probe: Probe, outcome: Outcome) -> str | None:
    """A hint for lenet_forward_numpy's exception: a key the params do not have, an untransposed linear weight."""
    if not isinstance(outcome, Raised):
        return None
    if outcome.type_name == "KeyError":
        return HINT_NUMPY_KEYS
    if outcome.type_name == "ValueError" and ("matmul" in outcome.message or "not aligned" in outcome.message):
        return HINT_LINEAR_T
    return None


HINT_TOO_SMALL = ("this input is too small for SeedCNN: check the side after every stage, not only at the end (a side can "
                  "vanish in the middle), and raise ValueError as soon as one has no rows or columns left.")


def judge_too_small(check: Check, cases: Sequence[tuple[Probe, Outcome]], spec: Mapping[str, Any], lookup: Lookup) -> Verdict:
    """`spec["inner"]` (the ValueError judge), with HINT_TOO_SMALL where a size came back for an input too small."""
    from dataclasses import replace

    verdict = logic_named(spec["inner"])(check, cases, spec, lookup)
    if not verdict.passed and not verdict.hint and any(isinstance(outcome, Returned) for _, outcome in cases):
        return replace(verdict, hint=HINT_TOO_SMALL)
    return verdict
