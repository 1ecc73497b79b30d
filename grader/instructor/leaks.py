"""Clause (c) of the release audit: no function in a student bundle answers an exercise.

Run as a script inside the bundle's own environment (`python grader/instructor/leaks.py BUNDLE`, with the bundle's folder first on
the path), it imports every module of the bundle's package, takes every function defined there, and tries each as
every exercise function it can be called like (the same number of positional arguments), on the public checks of
that function. A function that passes a check the stub fails is printed, one line each: `FILE:LINE: ... (clause c)`.
Each try runs in a forked child with a time limit, so a function that exits, hangs or changes global state cannot
stop the audit or taint the next try.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import json
import os
import select
import signal
import sys
import types
from pathlib import Path
from typing import Any, Callable

TRY_SECONDS = 20.0  # one function as one exercise function, all its checks
PROBE_SECONDS = 2.0


def exercise_functions(bundle: Path) -> dict[str, dict[str, tuple[int, int]]]:
    """exercise -> function -> (required, total) positional parameters, read from the stubs (classes are skipped)."""
    found = {}
    for path in sorted((bundle / "exercises").glob("ex*.py")):
        functions = {}
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef):
                total = len(node.args.posonlyargs) + len(node.args.args)
                functions[node.name] = (total - len(node.args.defaults), total)
        found[path.stem] = functions
    return found


def candidates(bundle: Path) -> list[tuple[str, int, str, Callable]]:
    """(file, line, name, function) for every function defined at the top of a module of the bundle's package."""
    found = []
    for path in sorted(p for p in (bundle / "grader").rglob("*.py") if p.name != "__main__.py"):  # __main__ runs the CLI
        parts = path.relative_to(bundle).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        try:
            module = importlib.import_module(name)
        except Exception as error:  # noqa: BLE001 - reported, not fatal
            print(f"{path.relative_to(bundle)}: cannot be imported ({type(error).__name__}: {error})", file=sys.stderr)
            continue
        for attribute, value in sorted(vars(module).items()):
            if inspect.isfunction(value) and value.__module__ == name:
                found.append((path.relative_to(bundle).as_posix(), value.__code__.co_firstlineno, f"{name}.{attribute}", value))
    return found


def callable_with(function: Callable, count: int) -> bool:
    try:
        inspect.signature(function).bind(*range(count))
        return True
    except (TypeError, ValueError):
        return False


def stub(*args: Any, **kwargs: Any) -> Any:
    """What an untouched exercise function does."""
    from grader.model import STUB_MESSAGE

    raise NotImplementedError(STUB_MESSAGE)


def passed_checks(function: Callable, name: str, checks: list) -> list[str]:
    """The checks that pass with `function` as the exercise function `name` and got at least one value back."""
    from grader.model import Returned
    from grader.runner import InProcessRunner, judge_check

    module = types.ModuleType("candidate")
    setattr(module, name, function)
    passed = []
    for check in checks:
        outcomes = InProcessRunner(timeout=PROBE_SECONDS).run_loaded(module, check.probes)
        if any(isinstance(o, Returned) for o in outcomes) and judge_check(check, outcomes).status == "passed":
            passed.append(check.name)
    return passed


def in_child(work: Callable[[], Any], seconds: float = TRY_SECONDS) -> Any:
    """`work()` in a forked child, its JSON result read back; None when it died, exited or ran out of time."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read)
        try:
            data = json.dumps(work()).encode()
        except BaseException:  # noqa: BLE001 - whatever a candidate does, the child only reports
            data = b"null"
        os.write(write, data)
        os._exit(0)
    os.close(write)
    chunks, ready = [], select.select([read], [], [], seconds)[0]
    while ready:
        chunk = os.read(read, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(read)
    if not ready:
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    try:
        return json.loads(b"".join(chunks) or b"null")
    except ValueError:
        return None


def audit(bundle: Path) -> list[str]:
    from grader.checks import load_checks

    targets = []  # (exercise, function, (required, total), its public checks)
    for exercise, functions in exercise_functions(bundle).items():
        checks = load_checks(exercise, seed=0)
        for name, arity in functions.items():
            relevant = [c for c in checks if c.probes and all(p.function == name for p in c.probes)]
            if relevant:
                targets.append((exercise, name, arity, relevant))

    def tries(function: Callable) -> Callable[[], list]:
        """Every exercise function `function` can be called like, and the checks it passes there."""
        usable = [(e, n, r) for e, n, (required, total), r in targets if callable_with(function, total) or callable_with(function, required)]
        return lambda: [[e, n, check] for e, n, r in usable for check in passed_checks(function, n, r)]

    stub_passes = {tuple(t) for t in in_child(tries(stub), TRY_SECONDS * len(targets)) or ()}
    problems = []
    for file, line, qualified, function in candidates(bundle):
        for exercise, name, check in in_child(tries(function), TRY_SECONDS * 4) or ():
            if (exercise, name, check) not in stub_passes:
                problems.append(f"{file}:{line}: {qualified}, used as {exercise}.{name}, passes the public check {check} (clause c)")
    return problems


def main(argv: list[str]) -> int:
    bundle = Path(argv[1]).resolve()
    os.chdir(bundle)
    if importlib.util.find_spec("grader.instructor") is not None:  # the audit would judge with the instructor's checks
        print(f"RuntimeError: grader.instructor is importable here ({importlib.util.find_spec('grader.instructor').origin}); "
              "the audit must see the bundle's package alone", file=sys.stderr)
        return 2
    for line in audit(bundle):
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.path[:] = [p for p in sys.path if Path(p).resolve() != Path(__file__).resolve().parent]  # the script's folder
    sys.exit(main(sys.argv))
