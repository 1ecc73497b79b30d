"""Keep torch._dynamo, the compiler (about 1.2 s to import, 40 MB), out of processes that compile nothing.

Eager PyTorch touches torch._dynamo for two answers only: `Optimizer.step` calls `torch._dynamo.graph_break()`,
a no-op outside compilation, and functions wrapped in `torch._disable_dynamo` (optimizer helpers, the meta device's
decompositions) call `torch._dynamo.disable(fn)` once, which outside compilation runs `fn` as it is. `install` puts
a stand-in module in torch._dynamo's place that gives those two answers without the import, and imports the real
module the moment anything asks for more (a `torch.compile`, say); functions it wrapped then defer to the real
`disable`. A student's eager training loop therefore never pays for the compiler.

Both sides install it: `grader check`, a one-shot process a student waits for, and the class grader's zygote, whose
children fork faster without the compiler's 40 MB of Python objects.
"""

from __future__ import annotations

import functools
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types
from typing import Any, Callable

NAME = "torch._dynamo"


class StandIn(types.ModuleType):
    """torch._dynamo until something needs more than `graph_break` and `disable`."""

    def __getattr__(self, name: str) -> Any:
        if name == "graph_break":
            return graph_break
        if name == "disable":
            return disable
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return getattr(real_module(), name)


class _SubmoduleFinder(importlib.abc.MetaPathFinder):
    """Before any `torch._dynamo.<submodule>` is imported, the real torch._dynamo replaces the stand-in.

    The real package may import that very submodule while it loads; the import then ends with that module object
    (never a second copy of it).
    """

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith(NAME + ".") or not isinstance(sys.modules.get(NAME), StandIn):
            return None
        real_module()
        loaded = sys.modules.get(fullname)
        return None if loaded is None else importlib.util.spec_from_loader(fullname, _Loaded(loaded))


class _Loaded(importlib.abc.Loader):
    """Hands the import machinery a module that is already loaded, keeping its own spec."""

    def __init__(self, module: types.ModuleType) -> None:
        self.module, self.spec = module, module.__spec__

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return self.module

    def exec_module(self, module: types.ModuleType) -> None:
        module.__spec__ = self.spec


_FINDER = _SubmoduleFinder()


def install() -> bool:
    """Put the stand-in in place if torch is imported and torch._dynamo is not; whether a stand-in is in place."""
    if NAME in sys.modules or "torch" not in sys.modules:
        return isinstance(sys.modules.get(NAME), StandIn)
    spec = importlib.util.find_spec(NAME)  # where the real package lives; nothing of it runs
    if spec is None or spec.submodule_search_locations is None:
        return False
    stand_in = StandIn(NAME, "stand-in for torch._dynamo (see grader.probes.lazy_dynamo)")
    stand_in.__spec__ = spec
    stand_in.__path__ = list(spec.submodule_search_locations)  # so that `import torch._dynamo.x` reaches the finder
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
    sys.modules[NAME] = stand_in
    setattr(sys.modules["torch"], "_dynamo", stand_in)
    return True


def is_real() -> bool:
    """Whether the real torch._dynamo is imported."""
    module = sys.modules.get(NAME)
    return module is not None and not isinstance(module, StandIn)


def real_module() -> types.ModuleType:
    """The real torch._dynamo, imported now if the stand-in is still in place."""
    if isinstance(sys.modules.get(NAME), StandIn):
        del sys.modules[NAME]
        delattr(sys.modules["torch"], "_dynamo")
    return importlib.import_module(NAME)


def graph_break(msg: str = "") -> None:
    """Outside compilation a graph break does nothing (as torch's own `graph_break`)."""


def disable(fn: Callable | None = None, recursive: bool = True, *, reason: str | None = None, wrapping: bool = True) -> Any:
    """`fn` run as it is while nothing compiles; torch's `torch._dynamo.disable(fn, ...)` once the real module loads."""
    if fn is None:
        return functools.partial(disable, recursive=recursive, reason=reason, wrapping=wrapping)
    real: Callable | None = None

    def call(*args: Any, **kwargs: Any) -> Any:
        nonlocal real
        if not is_real():
            return fn(*args, **kwargs)
        if real is None:
            real = real_module().disable(fn, recursive, reason=reason, wrapping=False)
        return real(*args, **kwargs)

    return functools.wraps(fn)(call) if wrapping else call
