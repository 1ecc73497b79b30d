"""Tolerant comparison of scalars, arrays and tensors, and the failure messages built from it.

One table of tolerances by dtype (as torch.testing's): a value passes when every element satisfies
|got - expected| <= atol + rtol * |expected|. Python floats and float64 arrays are judged at float64 precision,
float32 tensors at float32 precision. Messages follow one shape:

    ex02_derivative.gradient at x=2.0, y=4.0, w=1.0: expected -8.0 (sympy: d/dw of (x·w − y)² at these inputs), got -4.0;
    difference 4.0 (allowed 1e-09)
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from grader.wire import FunctionRef, Opaque, TensorData

# (rtol, atol) by dtype name.
TOLERANCES: dict[str, tuple[float, float]] = {
    "float16": (1e-3, 1e-5),
    "bfloat16": (1.6e-2, 1e-5),
    "float32": (1.3e-6, 1e-5),
    "float64": (1e-9, 1e-9),
}


def tolerance_for(dtype: str, scale: float = 1.0, *, why: str = "") -> tuple[float, float]:
    """(rtol, atol) for values of `dtype`, widened by `scale` for computations that accumulate rounding.

    A widened tolerance states `why` (the computation it allows for, and what it was measured on): a factor without a
    reason is a guess, and a loose guess lets wrong answers through.
    """
    if scale != 1.0 and not why.strip():
        raise ValueError(f"tolerance_for({dtype!r}, scale={scale:g}): say why it is widened (why=...)")
    rtol, atol = TOLERANCES.get(dtype, TOLERANCES["float64"])
    return rtol * scale, atol * scale


SHOWN_ELEMENTS = 12  # an array with more elements is summarised in messages (its shape and first values)


class NotComparable(Exception):
    """The value received cannot be compared at all (None, wrong type, wrong shape, NaN); the text says why."""


def describe_type(value: Any) -> str:
    """How a received value's type reads in a message."""
    if isinstance(value, TensorData):
        return f"a {value.dtype} tensor of shape {tuple(value.shape)} on {value.device}"
    if isinstance(value, np.ndarray):
        return f"a {value.dtype} array of shape {value.shape}"
    if isinstance(value, Opaque):
        return f"an object of type {value.type_name}"
    if value is None:
        return "None"
    return f"a {type(value).__name__}"


def as_real(value: Any) -> float:
    """A real number from a float, int, numpy scalar, 0-d array or 0-d tensor; anything else is `NotComparable`."""
    if isinstance(value, TensorData):
        if value.array is None:
            raise NotComparable(f"returned a tensor on the {value.device} device, which holds no values")
        value = value.array
    if isinstance(value, np.ndarray):
        if value.shape != ():
            raise NotComparable(f"returned {describe_type(value)}; expected a single real number")
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        if value is None:
            raise NotComparable("returned None; expected a real number (is a `return` statement missing?)")
        raise NotComparable(f"returned {describe_type(value)}; expected a real number")
    number = float(value)
    if not math.isfinite(number):
        raise NotComparable(f"returned {number}; expected a finite real number")
    return number


def as_array(value: Any, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """A float64 array from an array, tensor, or (nested) sequence of real numbers; checks `shape` when given."""
    if value is None:
        raise NotComparable("returned None; expected numbers (is a `return` statement missing?)")
    if isinstance(value, TensorData):
        if value.array is None:
            raise NotComparable(f"returned a tensor on the {value.device} device, which holds no values")
        value = value.array
    try:
        array = value if isinstance(value, np.ndarray) else np.array(_plain_numbers(value), dtype=float)
    except (ValueError, TypeError) as error:
        raise NotComparable(f"returned {describe_type(value)} that is not a regular array of numbers ({error})") from None
    if array.dtype.kind not in "biuf":
        raise NotComparable(f"returned {describe_type(array)}; expected real numbers")
    array = array.astype(float)
    if shape is not None and array.shape != tuple(shape):
        raise NotComparable(f"returned shape {array.shape}; expected shape {tuple(shape)}")
    bad = ~np.isfinite(array)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise NotComparable(f"returned {array[index]} at index {index}; expected finite numbers")
    return array


def _plain_numbers(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_plain_numbers(v) for v in value]
    return as_real(value)


def _index(index: tuple[int, ...]) -> str:
    return f"[{', '.join(map(str, index))}]"


@dataclass(frozen=True)
class Mismatch:
    """Where `got` and `expected` differ beyond tolerance."""

    count: int
    total: int
    index: tuple[int, ...]
    got: float
    expected: float
    difference: float
    allowed: float
    first: tuple[int, ...] = ()  # the first differing element, in row-major order

    def describe(self) -> str:
        if self.total == 1:
            return f"difference {fmt(self.difference)} (allowed {fmt(self.allowed)})"
        text = (f"{self.count} of {self.total} elements differ; the largest difference is at {_index(self.index)}: "
                f"got {fmt(self.got)}, expected {fmt(self.expected)}, difference {fmt(self.difference)} (allowed {fmt(self.allowed)})")
        if self.total > SHOWN_ELEMENTS and self.first != self.index:  # the arrays are summarised: say where it starts
            text += f"; the first is at {_index(self.first)}"
        return text


def mismatch(got: Any, expected: Any, rtol: float, atol: float) -> Mismatch | None:
    """Compare numbers or arrays of the same shape elementwise; None when everything is within tolerance."""
    expected_array = np.asarray(expected, dtype=float)
    got_array = np.asarray(got, dtype=float)
    if got_array.shape != expected_array.shape:
        raise NotComparable(f"returned shape {got_array.shape}; expected shape {expected_array.shape}")
    difference = np.abs(got_array - expected_array)
    allowed = atol + rtol * np.abs(expected_array)
    failing = ~(difference <= allowed)  # NaN in expected never compares equal
    if not failing.any():
        return None
    excess = np.where(failing, difference - allowed, -np.inf)
    index = np.unravel_index(int(np.argmax(excess)), expected_array.shape) if expected_array.shape else ()
    first = np.unravel_index(int(np.argmax(failing)), expected_array.shape) if expected_array.shape else ()
    return Mismatch(
        count=int(failing.sum()),
        total=int(expected_array.size),
        index=tuple(int(i) for i in index),
        got=float(got_array[index]),
        expected=float(expected_array[index]),
        difference=float(difference[index]),
        allowed=float(allowed[index]),
        first=tuple(int(i) for i in first),
    )


def close(got: Any, expected: Any, rtol: float, atol: float) -> bool:
    """True when `got` is numerically comparable with `expected` and within tolerance."""
    try:
        return mismatch(got, expected, rtol, atol) is None
    except (NotComparable, ValueError, TypeError):
        return False


# ----------------------------------------------------------------------------------------------------- formatting


def fmt(value: Any, digits: int = 10) -> str:
    """Compact rendering of a number, array or sequence for messages."""
    if isinstance(value, TensorData):
        body = "?" if value.array is None else fmt(value.array, digits)
        return f"tensor({body}, dtype={value.dtype}, device={value.device})"
    if isinstance(value, (float, np.floating)):
        text = repr(float(value))
        return text if len(text) <= digits + 2 else f"{float(value):.{digits}g}"
    if isinstance(value, FunctionRef):
        return f"{value.name}({render_inputs((), value.params)})"
    if isinstance(value, np.ndarray):
        if value.size > SHOWN_ELEMENTS:  # a summary: its shape and its first few values, whatever its rank
            head = ", ".join(fmt(v.item(), 7) for v in value.reshape(-1)[:3])
            return f"array of shape {value.shape} beginning [{head}, …]"
        return re.sub(r"\s+", " ", np.array2string(value, precision=6, separator=", "))
    if isinstance(value, tuple):
        return "(" + ", ".join(fmt(v, digits) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, list):
        if len(value) > 8:
            return "[" + ", ".join(fmt(v, digits) for v in value[:3]) + f", … ({len(value)} items)]"
        return "[" + ", ".join(fmt(v, digits) for v in value) + "]"
    return repr(value) if isinstance(value, str) else str(value)


def render_inputs(args: Sequence[Any], kwargs: dict, names: Sequence[str] | None = None) -> str:
    """`x=2.0, y=4.0, w=1.0`: positional args labelled by `names` where given, then keyword args."""
    names = list(names or ())
    parts = [f"{names[i]}={fmt(a)}" if i < len(names) else fmt(a) for i, a in enumerate(args)]
    parts += [f"{k}={fmt(v)}" for k, v in kwargs.items()]
    return ", ".join(parts)


def failure_message(where: str, expected: Any, source: str, got: Any, detail: Mismatch | str, formula: str = "") -> str:
    """`WHERE: expected E (SOURCE), got G; difference D (allowed A)`.

    `source` says where the expected value comes from in the problem's own words ("sympy: d/dw of (x·w − y)² at these
    inputs"), never the derived closed form; an instructor's `formula` is added only on request (`from FORMULA`).
    """
    derived = f" from {formula}" if formula else ""
    origin = f" ({source})" if source else ""
    detail_text = detail.describe() if isinstance(detail, Mismatch) else detail
    return f"{where}: expected {fmt(expected)}{derived}{origin}, got {fmt(got)}; {detail_text}"
