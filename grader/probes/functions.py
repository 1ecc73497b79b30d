"""Functions handed to the student's code as arguments (a cost function to search, an f to differentiate).

Each is named in `CATALOGUE` and built from plain-data params, so a probe can ask for one across the sandbox
boundary. Every call is recorded (up to `MAX_RECORDED`), so a judge can count evaluations and see their order.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

MAX_RECORDED = 100_000


def quadratic_bowl(center: Sequence[float], scale: Sequence[float], offset: float = 0.0) -> Callable:
    """point -> offset + Σ scale_i (point_i - center_i)²; `point` is a tuple with one float per weight."""
    return lambda point: offset + sum(s * (float(p) - c) ** 2 for p, c, s in zip(point, center, scale))


def mse_of_line(xs: Sequence[float], ys: Sequence[float]) -> Callable:
    """point -> mean over the data of (x·w - y)² for point = (w,), or of (x·w + b - y)² for point = (w, b)."""

    def cost(point: Sequence[float]) -> float:
        w, b = (float(point[0]), float(point[1]) if len(point) > 1 else 0.0)
        return sum((x * w + b - y) ** 2 for x, y in zip(xs, ys)) / len(xs)

    return cost


def polynomial(coefficients: Sequence[float]) -> Callable:
    """w -> Σ c_k w^k."""
    return lambda w: sum(c * float(w) ** k for k, c in enumerate(coefficients))


def sine(amplitude: float, frequency: float) -> Callable:
    """w -> amplitude · sin(frequency · w)."""
    return lambda w: amplitude * math.sin(frequency * float(w))


CATALOGUE: dict[str, Callable[..., Callable]] = {
    "quadratic_bowl": quadratic_bowl,
    "mse_of_line": mse_of_line,
    "polynomial": polynomial,
    "sine": sine,
}


class RecordingFunction:
    """A catalogue function that remembers the arguments of every call."""

    def __init__(self, function: Callable) -> None:
        self._function = function
        self.calls: list[Any] = []
        self.count = 0

    def __call__(self, argument: Any) -> float:
        self.count += 1
        if len(self.calls) < MAX_RECORDED:
            self.calls.append(_plain(argument))
        return float(self._function(argument))


def _plain(argument: Any) -> Any:
    if isinstance(argument, (tuple, list)):
        return tuple(float(a) for a in argument)
    return float(argument)


def make_function(name: str, params: dict) -> RecordingFunction:
    """The catalogue function `name` built with `params`, recording its calls."""
    if name not in CATALOGUE:
        raise KeyError(f"unknown catalogue function {name!r}")
    return RecordingFunction(CATALOGUE[name](**params))


def call_recording(module: Any, function: str, args: list, kwargs: dict, names: list | None = None) -> dict:
    """Call the student's function and report, with its result, every call it made to catalogue functions."""
    from grader.probes import student_function

    value = student_function(module, function)(*args, **kwargs)
    recorded = [a for a in [*args, *kwargs.values()] if isinstance(a, RecordingFunction)]
    return {"value": value, "calls": [r.calls for r in recorded], "counts": [r.count for r in recorded]}
