"""Plain data across the sandbox boundary: JSON with tagged arrays, tensors and sympy expression trees.

`encode` runs where the student's code runs and turns whatever came back into JSON-able data. `decode` runs in the
judge and rebuilds numbers, numpy arrays, `TensorData` records and sympy expressions from a whitelist, so nothing a
student made is ever executed or unpickled there. Objects outside the vocabulary arrive as `Opaque(type_name)`.
"""

from __future__ import annotations

import base64
import json
import math
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_DEPTH = 64
# What the judge accepts in one decoded value: sympy does arithmetic as it builds an expression, and judging factors
# or simplifies what it gets, so a huge integer or a power like 3**(3*10**7) costs the grader minutes or gigabytes.
MAX_DIGITS = 60  # in one integer, numerator or denominator, or float literal
MAX_POWER_DIGITS = 400  # in a number that a power of numbers evaluates to
MAX_EXPRESSION_NODES = 5000
MAX_NAME = 100  # characters in a symbol's name
_ARRAY_DTYPES = {
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64", "complex64", "complex128",
}
_SYMPY_FUNCTIONS = {
    "Add", "Mul", "Pow", "exp", "log", "sin", "cos", "tan", "Abs", "sign", "sqrt", "Max", "Min",
}
_UNEVALUATED = {"Derivative", "Integral", "Sum", "Product", "Limit", "Subs"}  # what .doit() evaluates
_SYMPY_CONSTANTS = {"pi", "E", "I", "oo", "zoo", "nan"}


@dataclass(frozen=True)
class TensorData:
    """A torch tensor as the judge sees it: its values (None on the `meta` device), dtype, device and shape."""

    array: np.ndarray | None
    dtype: str
    device: str
    shape: tuple[int, ...]
    requires_grad: bool = False


@dataclass(frozen=True)
class FunctionRef:
    """A function for the student's code to call, named from the catalogue in `grader.probes.functions`."""

    name: str
    params: dict


@dataclass(frozen=True)
class Opaque:
    """A value of a type the wire does not carry: only its type name crosses."""

    type_name: str


class WireError(ValueError):
    """The data is not in the wire's vocabulary (too deep, unknown tag, bad dtype)."""


# ----------------------------------------------------------------------------------------------------- encoding


def _encode_array(array: np.ndarray) -> dict:
    array = np.asarray(array, order="C")
    if array.dtype.name not in _ARRAY_DTYPES:
        raise WireError(f"arrays of dtype {array.dtype} are not supported")
    return {"dtype": array.dtype.name, "shape": list(array.shape), "data": base64.b64encode(array.tobytes()).decode()}


def _encode_float(value: float) -> Any:
    return value if math.isfinite(value) else {"__float__": repr(value)}


def _encode_expr(expr: Any, depth: int) -> Any:
    import sympy

    if depth > MAX_DEPTH:
        raise WireError("expression nested too deeply")
    if isinstance(expr, sympy.Symbol):
        return ["Symbol", expr.name]
    if isinstance(expr, sympy.Integer):
        return ["Integer", str(int(expr))]
    if isinstance(expr, sympy.Rational):
        return ["Rational", str(expr.p), str(expr.q)]
    if isinstance(expr, sympy.Float):
        return ["Float", str(expr)]
    for name in _SYMPY_CONSTANTS:
        if expr is getattr(sympy, name):
            return ["Const", name]
    name = type(expr).__name__
    if name in _UNEVALUATED:
        raise WireError(f"an unevaluated sympy {name}: call .doit() on it to get the expression it stands for")
    if name not in _SYMPY_FUNCTIONS:
        raise WireError(f"sympy {name} is not supported in answers")
    return [name, [_encode_expr(arg, depth + 1) for arg in expr.args]]


def encode(value: Any, depth: int = 0) -> Any:
    """Turn a returned value into JSON-able plain data (tuples, arrays, tensors and sympy objects tagged)."""
    if depth > MAX_DEPTH:
        raise WireError("value nested too deeply")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**63 else {"__float__": repr(float(value))}
    if isinstance(value, float):
        return _encode_float(value)
    if isinstance(value, np.generic):
        return {"__scalar__": _encode_array(np.asarray(value))}
    if isinstance(value, np.ndarray):
        return {"__array__": _encode_array(value)}
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v, depth + 1) for v in value]}
    if isinstance(value, list):
        return [encode(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {"__dict__": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]}
    if isinstance(value, TensorData):
        array = None if value.array is None else _encode_array(value.array)
        return {"__tensor__": {"dtype": value.dtype, "device": value.device, "shape": list(value.shape),
                               "requires_grad": value.requires_grad, "array": array}}
    if isinstance(value, FunctionRef):
        return {"__function__": [value.name, encode(value.params, depth + 1)]}
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        return {"__tensor__": _encode_tensor(value, torch)}
    sympy = sys.modules.get("sympy")
    if sympy is not None:
        if isinstance(value, sympy.MatrixBase):
            return {"__matrix__": [[_encode_expr(value[i, j], depth + 1) for j in range(value.cols)] for i in range(value.rows)]}
        if isinstance(value, sympy.Basic):
            return {"__expr__": _encode_expr(value, depth + 1)}
    return {"__opaque__": type(value).__name__}


def _encode_tensor(tensor: Any, torch: Any) -> dict:
    meta = {
        "dtype": str(tensor.dtype).removeprefix("torch."),
        "device": str(tensor.device),
        "shape": list(tensor.shape),
        "requires_grad": bool(tensor.requires_grad),
    }
    if tensor.device.type == "meta":
        return {**meta, "array": None}
    data = tensor.detach().to("cpu")
    if data.dtype == torch.bfloat16:
        data = data.to(torch.float32)
    return {**meta, "array": _encode_array(data.resolve_conj().numpy())}


def dumps(value: Any) -> bytes:
    """Encode and serialise in one step."""
    return json.dumps(encode(value), allow_nan=False).encode()


# ----------------------------------------------------------------------------------------------------- decoding


def _decode_array(data: dict) -> np.ndarray:
    dtype = data["dtype"]
    if dtype not in _ARRAY_DTYPES:
        raise WireError(f"unknown dtype {dtype!r}")
    shape = tuple(int(n) for n in data["shape"])
    raw = base64.b64decode(data["data"], validate=True)
    array = np.frombuffer(raw, dtype=np.dtype(dtype))
    if array.size != math.prod(shape):
        raise WireError("array data does not match its shape")
    return array.reshape(shape).copy()


def _number_text(text: Any) -> str:
    """An integer or float literal, refused when it has more than MAX_DIGITS digits."""
    text = str(text)
    if len(text.lstrip("+-")) > MAX_DIGITS:
        raise WireError(f"a number of more than {MAX_DIGITS} digits")
    return text


def _power(base: Any, exponent: Any) -> Any:
    """`base ** exponent`, refused when sympy would evaluate it to a number of more than MAX_POWER_DIGITS digits."""
    import sympy

    if base.is_Rational and exponent.is_Rational and not exponent.is_Integer:
        exponent_size = abs(exponent.p)  # a root of a rational: sympy may factor the base to simplify it
    else:
        exponent_size = abs(exponent) if exponent.is_Integer else 0
    if base.is_Rational and exponent_size:
        if exponent_size * max(math.log10(abs(base.p) or 1), math.log10(base.q)) > MAX_POWER_DIGITS:
            raise WireError(f"a power that evaluates to a number of more than {MAX_POWER_DIGITS} digits")
    return sympy.Pow(base, exponent)


def _decode_expr(tree: Any, depth: int, nodes: list[int] | None = None) -> Any:
    import sympy

    nodes = [0] if nodes is None else nodes
    nodes[0] += 1
    if nodes[0] > MAX_EXPRESSION_NODES:
        raise WireError(f"an expression of more than {MAX_EXPRESSION_NODES} nodes")
    if depth > MAX_DEPTH or not isinstance(tree, list) or not tree:
        raise WireError("malformed expression")
    tag = tree[0]
    if tag == "Symbol":
        name = str(tree[1])
        if len(name) > MAX_NAME:
            raise WireError(f"a symbol name of more than {MAX_NAME} characters")
        return sympy.Symbol(name)
    if tag == "Integer":
        return sympy.Integer(int(_number_text(tree[1])))
    if tag == "Rational":
        return sympy.Rational(int(_number_text(tree[1])), int(_number_text(tree[2])))
    if tag == "Float":
        float(_number_text(tree[1]))  # validates the literal before sympy parses it
        return sympy.Float(str(tree[1]))
    if tag == "Const" and tree[1] in _SYMPY_CONSTANTS:
        return getattr(sympy, tree[1])
    if tag in _SYMPY_FUNCTIONS:
        args = [_decode_expr(arg, depth + 1, nodes) for arg in tree[1]]
        if tag == "Pow" and len(args) == 2:
            return _power(*args)
        return getattr(sympy, tag)(*args)
    raise WireError(f"expression tag {tag!r} is not allowed")


def decode(data: Any, depth: int = 0) -> Any:
    """Rebuild plain data from `encode`'s form, accepting only the wire's vocabulary."""
    if depth > MAX_DEPTH:
        raise WireError("value nested too deeply")
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return [decode(v, depth + 1) for v in data]
    if not isinstance(data, dict) or len(data) != 1:
        raise WireError("malformed value")
    (tag, body), = data.items()
    if tag == "__float__":
        return float(body)
    if tag == "__tuple__":
        return tuple(decode(v, depth + 1) for v in body)
    if tag == "__dict__":
        return {_hashable(decode(k, depth + 1)): decode(v, depth + 1) for k, v in body}
    if tag == "__array__":
        return _decode_array(body)
    if tag == "__scalar__":
        return _decode_array(body)[()]
    if tag == "__tensor__":
        array = None if body["array"] is None else _decode_array(body["array"])
        return TensorData(array, str(body["dtype"]), str(body["device"]), tuple(int(n) for n in body["shape"]), bool(body["requires_grad"]))
    if tag == "__expr__":
        return _decode_expr(body, depth + 1)
    if tag == "__matrix__":
        import sympy

        nodes = [0]
        return sympy.Matrix([[_decode_expr(cell, depth + 2, nodes) for cell in row] for row in body])
    if tag == "__function__":
        return FunctionRef(str(body[0]), decode(body[1], depth + 1))
    if tag == "__opaque__":
        return Opaque(str(body))
    raise WireError(f"unknown tag {tag!r}")


def _hashable(key: Any) -> Any:
    if isinstance(key, (list, np.ndarray)):
        raise WireError("dictionary keys must be strings or numbers")
    return key


def loads(raw: bytes) -> Any:
    """Parse and decode untrusted bytes; any malformation raises `WireError`."""
    try:
        return decode(json.loads(raw))
    except WireError:
        raise
    except (ValueError, TypeError, KeyError, RecursionError, AttributeError) as error:
        raise WireError(f"malformed data: {error}") from None
