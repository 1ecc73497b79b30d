"""The probe half of a check: recipes that run the student's code and return plain data.

This package is what runs next to the student's code (in the sandbox's child process, or in-process for
`grader check`). It holds no reference answers and no verdicts. A recipe is `recipe(module, **params) -> value`;
`execute` materialises the plain-data params (arrays, tensors, catalogue functions), runs the recipe and returns the
outcome as wire data: ``{"returned": ...}`` or ``{"raised": {"type", "message", "where"}}``.

Recipes are named ``"call"`` (here) or ``"<module>.<function>"`` for a recipe in `grader.probes.<module>`, imported
only when first used so that the torch-free exercises never import torch.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import signal
import sys
import traceback
from contextlib import contextmanager
from types import ModuleType
from typing import Any, Callable, Iterator

from grader import wire
from grader.wire import FunctionRef, TensorData

RECIPE_MODULES = {"functions", "models"}  # grader/probes/<name>.py


class ProbeTimeout(BaseException):
    """Raised inside the student's code when a probe runs past its time limit (in-process runs only)."""


def recipe_call(module: Any, function: str, args: list, kwargs: dict, names: list | None = None) -> Any:
    """Call `module.function(*args, **kwargs)` and return what it returns."""
    return student_function(module, function)(*args, **kwargs)


def student_function(module: Any, name: str) -> Callable:
    """The student's function or class `name`, or an `AttributeError` that says it is missing."""
    target = getattr(module, name, None)
    if target is None or not callable(target):
        raise AttributeError(f"{name} is not defined in the submitted file (was it renamed or deleted?)")
    return target


def resolve_recipe(name: str) -> Callable:
    """The recipe function for `name`: ``call`` or ``<module>.<function>`` in this package."""
    if name == "call":
        return recipe_call
    module_name, _, function_name = name.partition(".")
    if module_name not in RECIPE_MODULES or not function_name.isidentifier():
        raise KeyError(f"unknown probe recipe {name!r}")
    return getattr(importlib.import_module(f"grader.probes.{module_name}"), function_name)


def materialize(value: Any) -> Any:
    """Turn decoded plain data into the objects the student's code expects: tensors, callables, fresh arrays."""
    if isinstance(value, TensorData):
        import torch

        dtype = getattr(torch, value.dtype)
        if value.array is None:
            tensor = torch.empty(value.shape, dtype=dtype, device=value.device)
        else:
            tensor = torch.tensor(value.array, dtype=dtype, device=value.device)
        return tensor.requires_grad_(value.requires_grad)
    if isinstance(value, FunctionRef):
        from grader.probes.functions import make_function

        return make_function(value.name, materialize(value.params))
    if isinstance(value, list):
        return [materialize(v) for v in value]
    if isinstance(value, tuple):
        return tuple(materialize(v) for v in value)
    if isinstance(value, dict):
        return {k: materialize(v) for k, v in value.items()}
    return value


def student_line(error: BaseException, filename: str | None) -> str:
    """`line N of FILE: code` for the innermost frame of the student's file in the traceback, or ''."""
    if not filename:
        return ""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == filename]
    if not frames:
        return ""
    frame = frames[-1]
    code = f": {frame.line.strip()}" if frame.line else ""
    return f"line {frame.lineno}{code}"


def describe_exception(error: BaseException, filename: str | None) -> dict:
    """Plain data for an exception raised by the student's code."""
    message = str(error)
    if len(message) > 500:
        message = message[:500] + " …"
    return {"type": type(error).__name__, "message": message, "where": student_line(error, filename)}


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise `ProbeTimeout` in the main thread after `seconds` (no limit off the main thread or when None)."""
    import threading

    if not seconds or threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise ProbeTimeout(f"timed out after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def wants_cuda(value: Any) -> bool:
    """Whether decoded probe arguments put anything on a CUDA device (a tensor, or a recipe's `device`)."""
    if isinstance(value, TensorData):
        return str(value.device).startswith("cuda")
    if isinstance(value, dict):
        return str(value.get("device", "")).startswith("cuda") or any(wants_cuda(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(wants_cuda(v) for v in value)
    return False


def execute(module: Any, recipe: str, params: Any, timeout: float | None = None) -> dict:
    """Run one probe on `module`; return its outcome as wire data. Never raises for anything the student did.

    A probe on `cuda` first makes sure this process can use the GPU; when it cannot, the outcome says why
    (``{"unavailable": reason}``) and the check is skipped, not failed."""
    filename = getattr(module, "__file__", None)
    try:
        function = resolve_recipe(recipe)
        decoded = wire.decode(params)
        if wants_cuda(decoded):
            from grader import gpu

            reason = gpu.unusable_here()
            if reason is not None:
                return {"unavailable": f"{gpu.RUNNER} could not use the GPU ({reason})"}
        arguments = materialize(decoded)
        with time_limit(timeout):
            value = function(module, **arguments)
        return {"returned": wire.encode(value)}
    except ProbeTimeout as error:
        return {"lost": str(error)}
    except wire.WireError as error:  # nothing was raised: the value came back in a form the wire does not carry
        return {"lost": f"returned a value the grader cannot read: {error}"}
    except KeyboardInterrupt:
        raise
    except MemoryError as error:
        return {"raised": describe_exception(error, filename) | {"message": "ran out of memory"}}
    except BaseException as error:  # noqa: BLE001 - SystemExit and friends from student code are outcomes too
        return {"raised": describe_exception(error, filename)}


def load_module(path: str, name: str) -> ModuleType:
    """Import the student's file at `path` as a fresh module called `name` (raises what the import raises).

    The source is compiled every time, never read from or written to `__pycache__`: a file saved twice within one
    second at the same size would otherwise run its stale bytecode.
    """
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        with open(path, "rb") as stream:
            code = compile(stream.read(), path, "exec", dont_inherit=True)
        exec(code, module.__dict__)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


class _SourceLoader(importlib.machinery.SourceFileLoader):
    """Compiles the `.py` file itself, every time: a `.pyc` beside it or in `__pycache__` is never read."""

    def get_code(self, fullname: str) -> Any:
        return compile(self.get_data(self.path), self.path, "exec", dont_inherit=True)


def import_sources_only(folder: str) -> None:
    """Put the student's `folder` first on `sys.path`, importing only its `.py` files as source: the code graded is
    the code handed in, never bytecode (an unchecked-hash `.pyc` would be run instead of its source) or a compiled
    extension. Other folders keep Python's own finders."""
    sys.dont_write_bytecode = True
    sys.path.insert(0, folder)
    sys.path_importer_cache[folder] = importlib.machinery.FileFinder(folder, (_SourceLoader, [".py"]))


def describe_load_failure(error: BaseException, path: str) -> str:
    """Why a submitted file could not be imported, pointing at the line."""
    if isinstance(error, SyntaxError):
        line = f"line {error.lineno}" if error.lineno else "an unknown line"
        text = f": {error.text.strip()}" if error.text else ""
        return f"the file does not compile: {type(error).__name__} at {line}{text} ({error.msg})"
    if isinstance(error, SystemExit):
        return f"the file exited with status {error.code} during import"
    where = student_line(error, path)
    return f"importing the file raised {type(error).__name__}: {error}" + (f" ({where})" if where else "")
