"""What an nbgrader test cell calls: one check of the kit, run on the names the notebook defined.

A test cell holds ``run_check("ex01_linear_model", "loss", globals(), seed=1234)``. The check's probes run in this
process on the notebook's namespace (every value still goes through the wire, as in `grader check`), the judge
decides, and a failure raises `AssertionError` with the message and its `Hint:` line, so nbgrader scores the cell 0.

The inputs are drawn from `seed` exactly as `grader grade --seed SEED` draws them (public checks first, then hidden
ones, from one `random.Random(seed)` per exercise), so a notebook and a `.py` file with the same answers get the same
score. The environment variable ``GRADER_SEED`` overrides the seed written into the cell, to regrade with other inputs.
"""

from __future__ import annotations

import functools
import os
import types
from typing import Any, Mapping

from grader.model import Check, CheckResult

SEED_VARIABLE = "GRADER_SEED"


def effective_seed(seed: int | None) -> int:
    """`GRADER_SEED` when set, else the seed written into the cell, else 0."""
    override = os.environ.get(SEED_VARIABLE, "").strip()
    if override:
        return int(override)
    return 0 if seed is None else int(seed)


@functools.lru_cache(maxsize=64)
def _checks(exercise: str, seed: int) -> dict[str, Check]:
    from grader.checks import load_checks

    return {c.name: c for c in load_checks(exercise, seed=seed, hidden=True)}


def find_check(exercise: str, name: str, seed: int) -> Check:
    """The check `name` of `exercise`, its inputs drawn from `seed` (hidden checks only where they are installed)."""
    checks = _checks(exercise, seed)
    if name not in checks:
        raise LookupError(f"{exercise}.{name} is not a check of this installation of the grader "
                          f"(hidden checks are only installed where the course is graded); known: {', '.join(checks)}")
    return checks[name]


def namespace_module(namespace: Mapping[str, Any] | types.ModuleType, name: str = "notebook") -> types.ModuleType:
    """A module object over the notebook's globals, so that probes find the student's names as attributes."""
    if isinstance(namespace, types.ModuleType):
        return namespace
    module = types.ModuleType(name)
    module.__dict__.update({k: v for k, v in namespace.items() if k not in ("__name__", "__file__", "__builtins__")})
    return module


def evaluate(exercise: str, name: str, namespace: Mapping[str, Any] | types.ModuleType, *, seed: int | None = None,
             timeout: float = 60.0) -> CheckResult:
    """Run one check on `namespace` in this process and judge it."""
    from grader.runner import InProcessRunner, capability_available, judge_check, skipped

    check = find_check(exercise, name, effective_seed(seed))
    if check.requires is not None and not capability_available(check.requires):
        return skipped(check)
    outcomes = InProcessRunner(timeout=timeout).run_loaded(namespace_module(namespace, f"notebook_{exercise}"), check.probes)
    return judge_check(check, outcomes)


def run_check(exercise: str, name: str, namespace: Mapping[str, Any] | types.ModuleType, *, seed: int | None = None,
              timeout: float = 60.0) -> None:
    """Print that the check passed, or raise `AssertionError` with its failure message and `Hint:` line."""
    result = evaluate(exercise, name, namespace, seed=seed, timeout=timeout)
    if result.status == "failed":
        raise AssertionError("\n" + result.output)
    if result.status == "skipped":
        print(f"{result.qualified_name}: {result.message}")
        return
    print(f"{result.qualified_name}: passed ({result.score:g} of {result.max_score:g} points)")
