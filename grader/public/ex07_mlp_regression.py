"""Judging logic of ex07: make_data by its properties, the network's layers, and training runs against the losses
the instructor's replay computed (shipped as data). The layers and targets are the exercise's own contract."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any, Mapping, Sequence

import numpy as np

from grader.compare import NotComparable, as_array, fmt
from grader.judges import Curve, Lookup, compare_case, looked_up, returned_values, with_curve
from grader.model import Check, Outcome, Probe, Verdict
from grader.wire import TensorData

EXERCISE = "ex07_mlp_regression"
LAYERS = [("Linear", 1, 10), ("ReLU", None, None), ("Linear", 10, 30), ("ReLU", None, None),
          ("Linear", 30, 10), ("ReLU", None, None), ("Linear", 10, 1)]
PARAMETERS = 671
POINTS = [2.0, 3.0, 4.0]
TARGETS = [5.0, 4.0, 5.0]  # (x − 3)² + 4 at POINTS
FIT_TOLERANCE = 0.5
LOSS_CURVE = Curve("train: MSE loss per epoch", "loss", lambda losses: losses)


def label(probe: Probe) -> str:
    kwargs = probe.kwargs
    inputs = ", ".join(f"{k}={fmt(v)}" for k, v in kwargs.items())
    return f"{EXERCISE}.make_data({inputs})"


def settings(probe: Probe) -> tuple[int, float]:
    kwargs = probe.kwargs
    return kwargs.get("n", 1000), kwargs.get("noise_std", 0.5)


def data_pair(probe: Probe, value, key: str = "first") -> tuple[np.ndarray, np.ndarray] | Verdict:
    """x and y as float64 arrays after checking that make_data returned two float32 tensors of shape (n, 1)."""
    pair = value[key]
    n, _ = settings(probe)
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        return Verdict.fail(f"{label(probe)}: returned {fmt(pair)}; expected a pair (x, y) of tensors")
    arrays = []
    for name, item in zip("xy", pair):
        if not isinstance(item, TensorData):
            return Verdict.fail(f"{label(probe)}: {name} is {fmt(item)}; expected a torch tensor of shape ({n}, 1)",
                                "make the data with torch (torch.rand, torch.randn), not numpy or Python lists." if isinstance(item, (np.ndarray, list)) else None)
        if item.shape != (n, 1):
            hint = "keep the feature axis: x and y have shape (n, 1), one row per sample, not (n,)." if item.shape == (n,) else None
            return Verdict.fail(f"{label(probe)}: {name} has shape {item.shape}; expected ({n}, 1), one row per sample", hint)
        if item.dtype != "float32":
            return Verdict.fail(f"{label(probe)}: {name} has dtype {item.dtype}; expected float32 (torch's default), the dtype nn.Linear's weights have",
                                "leave the dtype at torch's default float32 (no dtype=torch.float64, no .double()).")
        try:
            arrays.append(as_array(item, (n, 1)))
        except NotComparable as error:
            return Verdict.fail(f"{label(probe)}: {name} {error}")
    return arrays[0], arrays[1]


def judge_data_shapes(check: Check, cases: Sequence[tuple[Probe, Outcome]], spec: Mapping[str, Any], lookup: Lookup) -> Verdict:
    """x and y are float32 tensors of shape (n, 1)."""
    for probe, outcome in cases:
        parsed = data_pair(probe, outcome.value)
        if isinstance(parsed, Verdict):
            return parsed
    return Verdict.ok()


def judge_data_distribution(check: Check, cases: Sequence[tuple[Probe, Outcome]], spec: Mapping[str, Any], lookup: Lookup) -> Verdict:
    """x covers [0, 6] like a uniform sample; y − ((x − 3)² + 4) has mean ≈ 0 and standard deviation ≈ noise_std."""
    for probe, outcome in cases:
        parsed = data_pair(probe, outcome.value)
        if isinstance(parsed, Verdict):
            return parsed
        x, y = parsed
        n, sigma = settings(probe)
        place = label(probe)
        if x.min() < 0.0 or x.max() > 6.0:
            return Verdict.fail(f"{place}: x ranges over [{fmt(x.min())}, {fmt(x.max())}]; every x must lie in [0, 6]",
                                "draw x uniformly on [0, 6]: torch.randn is a normal draw, unbounded and crowded around its mean.")
        if x.min() > 0.2 or x.max() < 5.8:
            hint = "torch.rand draws from [0, 1): scale the draw to cover [0, 6]." if x.max() <= 1.0 else None
            return Verdict.fail(f"{place}: x ranges over [{fmt(x.min())}, {fmt(x.max())}]; {n} uniform draws on [0, 6] cover nearly all of it", hint)
        spread, spread_allowed = x.std(), math.sqrt(3.0) * 5.0 / math.sqrt(n)
        if abs(x.mean() - 3.0) > 5.0 * math.sqrt(3.0) / math.sqrt(n) or abs(spread - math.sqrt(3.0)) > spread_allowed:
            return Verdict.fail(f"{place}: x has mean {fmt(x.mean())} and standard deviation {fmt(spread)}; a uniform sample on [0, 6] "
                                f"has mean 3 and standard deviation √3 ≈ 1.732 (allowed {fmt(spread_allowed)} for n = {n})",
                                "x must be uniform on [0, 6], every part of the interval equally likely.")
        residual = y - ((x - 3.0) ** 2 + 4.0)
        mean, std = residual.mean(), residual.std()
        mean_allowed, std_allowed = 5.0 * sigma / math.sqrt(n), 5.0 * sigma / math.sqrt(2.0 * n)
        if abs(mean) > mean_allowed or abs(std - sigma) > std_allowed:
            return Verdict.fail(
                f"{place}: the noise y − ((x − 3)² + 4) has mean {fmt(mean)} and standard deviation {fmt(std)}; expected mean 0 "
                f"(allowed ±{fmt(mean_allowed)}) and standard deviation noise_std = {fmt(sigma)} (allowed ±{fmt(std_allowed)}), "
                f"five standard errors for n = {n}", noise_hint(mean, std, sigma, n))
    return Verdict.ok()


def noise_hint(mean: float, std: float, sigma: float, n: int) -> str | None:
    near = lambda value, target: abs(value - target) <= 5.0 * max(target, 1e-3) / math.sqrt(2.0 * n)
    if std < 1e-6:
        return "y has no noise: add Gaussian noise whose standard deviation is noise_std."
    if near(std, sigma ** 2):
        return "noise_std is a standard deviation: multiply torch.randn by noise_std, not by noise_std ** 2."
    if near(std, math.sqrt(sigma)):
        return "noise_std is a standard deviation, not a variance: multiply torch.randn by noise_std, not by its square root."
    if abs(mean) > 5.0 * sigma / math.sqrt(n):
        return "the noise must have mean 0: use torch.randn (a standard normal), not torch.rand (uniform on [0, 1))."
    return None


def judge_data_reproducible(check: Check, cases: Sequence[tuple[Probe, Outcome]], spec: Mapping[str, Any], lookup: Lookup) -> Verdict:
    """The same seed gives the same data; another seed gives other data."""
    for probe, outcome in cases:
        pairs = [data_pair(probe, outcome.value, key) for key in ("first", "again", "other")]
        failed = next((p for p in pairs if isinstance(p, Verdict)), None)
        if failed:
            return failed
        (x1, y1), (x2, y2), (x3, y3) = pairs
        place = label(probe)
        if not (np.array_equal(x1, x2) and np.array_equal(y1, y2)):
            return Verdict.fail(f"{place}: two calls with the same seed returned different data",
                                "seed a private generator (a torch.Generator) with the seed and draw every number from it.")
        if np.array_equal(x1, x3) or np.array_equal(y1, y3):
            other = probe.other_seed
            return Verdict.fail(f"{place}: seed={other} returned the same data as seed={probe.kwargs.get('seed', 0)}",
                                "the seed argument is ignored: seed the generator with it.")
    return Verdict.ok()


def judge_global_rng(check: Check, cases: Sequence[tuple[Probe, Outcome]], spec: Mapping[str, Any], lookup: Lookup) -> Verdict:
    """make_data leaves torch's global random state where it was."""
    for probe, outcome in cases:
        if outcome.value["global_rng_untouched"] is not True:
            return Verdict.fail(f"{label(probe)}: torch's global random state (torch.get_rng_state()) changed during the call; "
                                "make_data must draw only from its own torch.Generator",
                                "draw from a private torch.Generator seeded with the seed, passed to every draw; torch.manual_seed and draws "
                                "without a generator change the global state that model initialisation relies on.")
    return Verdict.ok()




def layer_text(layers: Sequence) -> str:
    return ", ".join(name if name != "Linear" else f"Linear({a}, {b})" for name, a, b in layers)


def judge_structure(check: Check, cases: Sequence[tuple[Probe, Outcome]], spec: Mapping[str, Any], lookup: Lookup) -> Verdict:
    """build_mlp returns an nn.Sequential of exactly the lecture's layers: 671 parameters."""
    failed = returned_values(check, cases)
    if failed:
        return failed
    value = cases[0][1].value
    place = f"{EXERCISE}.build_mlp()"
    layers = [tuple(child) for child in value["children"]]
    if not value["sequential"]:
        return Verdict.fail(f"{place}: returned a {value['type']}; expected a torch.nn.Sequential of the layers")
    if layers != LAYERS:
        return Verdict.fail(f"{place}: layers are {layer_text(layers)}; expected {layer_text(LAYERS)}", structure_hint(layers))
    if value["parameters"] != PARAMETERS:
        return Verdict.fail(f"{place}: {value['parameters']} parameters; expected {PARAMETERS} = 20 + 330 + 310 + 11 (o·(i + 1) per Linear(i, o))")
    return Verdict.ok()


def structure_hint(layers: Sequence) -> str | None:
    names = [name for name, _, _ in layers]
    if names[:-1] == [name for name, _, _ in LAYERS] and names[-1] == "ReLU":
        return "no activation after the last Linear layer: a ReLU there could never predict below 0 and is not part of the network."
    if len(names) == len(LAYERS) and [n for n in names if n != "Linear"] and "ReLU" not in names:
        return "the activations are ReLU (nn.ReLU()), as in the lecture."
    if len(names) == 4 and all(n == "Linear" for n in names):
        return "put an nn.ReLU() between the Linear layers: without activations the layers collapse into one straight line."
    if names == [name for name, _, _ in LAYERS]:
        return "the layers are in the right order, but a Linear layer's width differs from the exercise's: compare each in_features and out_features."
    if names.count("Linear") == 4 and names.count("ReLU") < 3:
        return "a ReLU is missing: one follows every Linear layer but the last."
    return None


def train_label(probe: Probe) -> str:
    if "lr" not in probe.kwargs:
        given = "".join(f", {k}={fmt(v)}" for k, v in probe.kwargs.items())
        return (f"{EXERCISE}.train(model, x, y{given}) at the default lr on {probe.x.shape[0]} samples, the model as "
                f"torch.manual_seed({probe.init_seed}) initialises it")
    kwargs = {"lr": 0.01, "epochs": 1000, **probe.kwargs}
    device = probe.device
    where = f" with the model on {device}" if device != "cpu" else ""
    return (f"{EXERCISE}.train(model, x, y, lr={fmt(kwargs['lr'])}, epochs={kwargs['epochs']}) on {probe.x.shape[0]} samples"
            f"{where}")


def losses_of(probe: Probe, value, epochs: int) -> np.ndarray | Verdict:
    losses = value["losses"]
    place = train_label(probe)
    if isinstance(losses, TensorData) and losses.array is not None and losses.array.ndim == 1:
        losses = losses.array  # a 1-d tensor of losses is as good as a list
    if not isinstance(losses, (list, tuple, np.ndarray)):
        return Verdict.fail(f"{place}: returned {fmt(losses)}; expected a list with the loss of every epoch",
                            "return the list of the losses, one number per epoch (loss.item()), not a single loss or the model."
                            if isinstance(losses, (float, int, TensorData)) else None)
    if len(losses) != epochs:
        hint = None
        if abs(len(losses) - epochs) == 1:
            hint = ("one loss too few: append the loss in every epoch, `epochs` of them; check the range of the loop." if len(losses) < epochs
                    else "one loss too many: one loss per epoch, taken before that epoch's step; no extra loss before or after the loop.")
        return Verdict.fail(f"{place}: returned {len(losses)} losses; expected one per epoch, {epochs}", hint)
    try:
        return as_array(list(losses) if not isinstance(losses, np.ndarray) else losses, (epochs,))
    except NotComparable as error:
        return Verdict.fail(f"{place}: {error}")


def judge_fit(check: Check, cases: Sequence[tuple[Probe, Outcome]], spec: Mapping[str, Any], lookup: Lookup) -> Verdict:
    """train(model, x, y) is the lecture's run: train's defaults are the contract's (`spec["defaults"]`), and the
    student's build_mlp() from a seed, trained at the default lr, takes the grader's Adam steps (`judge_trajectory`)."""
    failed = returned_values(check, cases, label=lambda probe: f"{EXERCISE}.train's signature" if probe.recipe == "models.defaults" else train_label(probe))
    if failed:
        return failed
    (_, signature), *runs = cases
    wanted = spec["defaults"]
    contract = f"train(model, x, y, {', '.join(f'{k}={fmt(v)}' for k, v in wanted.items())})"
    for name, value in wanted.items():
        got = signature.value.get(name, "no default") if isinstance(signature.value, dict) else "no default"
        if isinstance(got, bool) or not isinstance(got, (int, float)) or not math.isclose(got, value, rel_tol=1e-12):
            return Verdict.fail(f"{EXERCISE}.train: the default of {name} is {fmt(got)}; the exercise's signature is {contract}",
                                DEFAULTS_HINT)
    return judge_trajectory(check, runs, spec, lookup)


DEFAULTS_HINT = ("keep the defaults of the exercise's signature: train(model, x, y) with them is the lecture's run, the one that "
                 "fits the parabola.")


def judge_meta_mlp(check: Check, cases: Sequence[tuple[Probe, Outcome]], spec: Mapping[str, Any], lookup: Lookup) -> Verdict:
    from grader.public.ex08_lenet import judge_meta

    return judge_meta(check, cases, {"width": 1}, lookup)


def judge_trajectory(check: Check, cases: Sequence[tuple[Probe, Outcome]], spec: Mapping[str, Any], lookup: Lookup) -> Verdict:
    """The losses equal the instructor's replay of full-batch Adam on the MSE from the same initial weights (`expected`)."""
    failed = returned_values(check, cases)
    if failed:
        return failed
    verdict = Verdict.ok()
    for probe, outcome in cases:
        got = losses_of(probe, outcome.value, probe.kwargs["epochs"])
        if isinstance(got, Verdict):
            return got
        expected = lookup(probe, "expected")
        verdict = compare_case(check, probe, got, expected, spec["source"], tuple(spec["tolerance"]), looked_up(spec, lookup, probe),
                               label=f"{train_label(probe)}: losses", formula=spec.get("formula", ""))
        verdict = with_curve(verdict, LOSS_CURVE, got, expected)
        if not verdict.passed:
            return verdict
        if "predictions" in outcome.value:
            trained = compare_case(check, probe, outcome.value["predictions"], lookup(probe, "predictions"), spec["source"],
                                   tuple(spec["tolerance"]), label=f"{train_label(probe)}: the trained model's predictions at x = 2, 3, 4")
            if not trained.passed:
                return replace(trained, hint=COPY_HINT, extras=verdict.extras)
    return verdict


COPY_HINT = ("the losses are right but the model given to train did not change as they say: train the model it is given "
             "(no copy.deepcopy, no new model inside train), so that the caller's model is the trained one.")


def judge_device_train(check: Check, cases: Sequence[tuple[Probe, Outcome]], spec: Mapping[str, Any], lookup: Lookup) -> Verdict:
    """On CUDA the run must match the CPU replay; the data arrives on the CPU and must be moved to the model."""
    failed = returned_values(check, cases, device_hint, label=train_label)
    return failed or judge_trajectory(check, cases, spec, lookup)


def device_hint(probe: Probe, outcome: Outcome) -> str | None:
    """The hint for a training run that raised because the data stayed on the CPU while the model was not."""
    text = outcome.describe()
    if "device" in text and ("cpu" in text or "cuda" in text):
        return "move x and y to the model's device inside train (the device its parameters are on): the caller's data may be elsewhere."
    return None


