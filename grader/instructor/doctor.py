"""`grader doctor`: what an exercise still lacks, one line per finding, each saying what to do next.

The static findings (`findings`) need a second or two: every exercise registered in `EXERCISES` has a solution, a
stub in sync with it (`release.drifted`), a public checks module that returns checks, and a test file of wrong
submissions; no such file exists for an exercise that is not registered; every probe names a recipe that exists
and is registered in `grader.probes.RECIPE_MODULES`; the sample class's generator lists every exercise.

`--caught` (`uncaught`) also runs the check tests (tests/checks) with tests/conftest.py recording every submission
they grade (`graded_submissions`, which tools/hint_coverage.py reads too) and names every check that no wrong
submission failed. A failure counts only where the submission answered: a check that fails because a function is
still a stub, or a submission that passes no check at all (a stub file, a file that does not import), proves
nothing about that check.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from grader.model import STUB_DESCRIPTION

ROOT = Path(__file__).resolve().parents[2]
CHECKS = ROOT / "grader" / "instructor" / "checks"
CHECK_TESTS = ROOT / "tests" / "checks"
SAMPLE_CLASS_TOOL = ROOT / "tools" / "make_sample_class.py"
RECORD_VARIABLE = "GRADER_HINT_COVERAGE"  # tests/conftest.py appends one JSON line per graded submission to this file
STUBBED = STUB_DESCRIPTION  # in the message of a check failed by an unwritten function
GUIDE = "CONTRIBUTING.md"


def places(exercise: str) -> dict[str, Path]:
    """The files an exercise is made of, by what they are."""
    return {"solution": ROOT / "solutions" / f"{exercise}.py", "checks": CHECKS / f"{exercise}.py",
            "tests": CHECK_TESTS / f"test_{exercise}.py"}


NEXT_STEP = {
    "solution": f"write it, the answers between solution markers ({GUIDE}, step 1)",
    "checks": f"write its public checks ({GUIDE}, step 4)",
    "tests": f"write a wrong submission that each check catches ({GUIDE}, step 5)",
}


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


# ------------------------------------------------------------------------------------------------- static findings


def findings() -> list[str]:
    """Everything an exercise of this kit lacks, one line each (empty when every exercise is complete)."""
    from grader.checks import EXERCISES

    found = [*missing_files(EXERCISES), *unregistered(EXERCISES), *stale_stubs(), *sample_class_gaps(EXERCISES)]
    for exercise in EXERCISES:
        if places(exercise)["checks"].is_file():
            found += check_findings(exercise)
    return found


def missing_files(exercises: Iterable[str]) -> list[str]:
    return [f"{exercise}: {relative(path)} is missing: {NEXT_STEP[kind]}"
            for exercise in exercises for kind, path in places(exercise).items() if not path.is_file()]


def unregistered(exercises: Iterable[str]) -> list[str]:
    """Exercises that have files but are not in `EXERCISES`."""
    files = defaultdict(list)
    for folder, prefix in ((ROOT / "solutions", ""), (ROOT / "exercises", ""), (CHECKS, ""), (CHECKS / "hidden", ""),
                           (CHECK_TESTS, "test_")):
        for path in sorted(folder.glob(f"{prefix}ex*.py")):
            files[path.stem.removeprefix(prefix)].append(relative(path))
    return [f"{exercise} is not registered (it has {', '.join(paths)}): add it to EXERCISES in grader/checks/__init__.py"
            for exercise, paths in sorted(files.items()) if exercise not in exercises]


def stale_stubs() -> list[str]:
    """Stubs that differ from what `grader release --exercises` makes of the solutions (release's own verification)."""
    from grader.instructor.release import drifted

    found = []
    for name in drifted():
        stub, solution = ROOT / "exercises" / name, ROOT / "solutions" / name
        if not solution.is_file():
            found.append(f"{relative(stub)} has no solution: write {relative(solution)}, or delete the stub")
        elif not stub.is_file():
            found.append(f"{relative(stub)} is missing: run `grader release --exercises`")
        else:
            found.append(f"{relative(stub)} is out of date with {relative(solution)}: run `grader release --exercises`")
    return found


def sample_class_gaps(exercises: Sequence[str]) -> list[str]:
    """The sample class's generator repeats `EXERCISES` (it runs without the kit): the two lists must agree."""
    if not SAMPLE_CLASS_TOOL.is_file():
        return []
    listed = next((ast.literal_eval(node.value) for node in ast.parse(SAMPLE_CLASS_TOOL.read_text()).body
                   if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "EXERCISES" for t in node.targets)), ())
    tool = relative(SAMPLE_CLASS_TOOL)
    return ([f"{tool} does not list {e}: add it to its EXERCISES, then run `python {tool}`" for e in exercises if e not in listed]
            + [f"{tool} lists {e}, which is not registered: remove it, or register {e}" for e in listed if e not in exercises])


def check_findings(exercise: str) -> list[str]:
    """An exercise's checks: they load, the public ones are not empty, every probe's recipe can run."""
    from grader.checks import load_checks

    try:
        public = load_checks(exercise, seed=0)
        every = load_checks(exercise, seed=0, hidden=True)
    except Exception as error:  # a check module that does not import, or a check the loader refuses
        return [f"{exercise}: loading its checks raised {type(error).__name__}: {error}; fix "
                f"{relative(places(exercise)['checks'])} (or its hidden/ module)"]
    found = [] if public else [f"{exercise}: {relative(places(exercise)['checks'])} returns no checks: {NEXT_STEP['checks']}"]
    for check in every:
        problems = {recipe_problem(probe.recipe) for probe in check.probes} - {None}
        found += [f"{check.qualified_name}: {problem}" for problem in sorted(problems)]
    return found


def recipe_problem(name: str) -> str | None:
    """Why the probe recipe `name` cannot run (None where it can): no such module or function, or not registered."""
    from grader.probes import RECIPE_MODULES, resolve_recipe

    if name == "call":
        return None
    module, _, function = name.partition(".")
    path = f"grader/probes/{module}.py"
    if not (ROOT / path).is_file():
        return f"its probe recipe {name!r} names {path}, which does not exist: write the recipe there, or fix the name"
    if module not in RECIPE_MODULES:
        return f"its probe recipe {name!r} is in a module that is not registered: add {module!r} to RECIPE_MODULES in grader/probes/__init__.py"
    try:
        resolve_recipe(name)
    except (KeyError, AttributeError, ImportError):
        return f"its probe recipe {name!r} is not a function of {path}: define {function}() there, or fix the name"
    return None


# ------------------------------------------------------------------------------------------------- --caught


@dataclass(frozen=True)
class GradedRun:
    """A run of the check tests: pytest's exit status, its output, and one record per submission the tests graded."""

    status: int
    output: str
    records: list[dict]


def graded_submissions(pytest_args: Sequence[str] = ()) -> GradedRun:
    """Run tests/checks (without the every-seed sweep, which grades only solutions) with the recording on.

    Each record is `{"test", "exercise", "failed", "hinted", "passed", "stubbed", "skipped"}`: the test that graded
    the submission, and the names of its checks by outcome (`stubbed`: failed by a function that is still a stub).
    """
    with tempfile.TemporaryDirectory() as folder:
        record = Path(folder) / "graded.jsonl"
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(CHECK_TESTS),
                   "--ignore", str(CHECK_TESTS / "test_solutions_every_seed.py"), *pytest_args]
        run = subprocess.run(command, cwd=ROOT, env={**os.environ, RECORD_VARIABLE: str(record)},
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        records = [json.loads(line) for line in record.read_text().splitlines()] if record.exists() else []
    return GradedRun(run.returncode, run.stdout, records)


@dataclass
class Coverage:
    """What the recorded submissions of one exercise did to its checks."""

    caught: set[str]  # failed by a submission that answered: not a stub's failure, not a submission that passed nothing
    ran: set[str]  # passed or failed somewhere (not skipped everywhere)
    skipped: set[str]


def coverage(records: Iterable[dict]) -> dict[str, Coverage]:
    """Exercise -> its `Coverage`, for every exercise some record graded."""
    found: dict[str, Coverage] = defaultdict(lambda: Coverage(set(), set(), set()))
    for record in records:
        seen = found[record["exercise"]]
        if record["passed"]:
            seen.caught |= set(record["failed"]) - set(record["stubbed"])
        seen.ran |= set(record["passed"]) | set(record["failed"])
        seen.skipped |= set(record["skipped"])
    return dict(found)


def uncaught(records: list[dict], exercises: Sequence[str]) -> tuple[list[str], list[str]]:
    """(findings, notes) for `exercises`: each check that no recorded wrong submission caught; a check skipped in
    every submission on this machine (it needs a GPU) is a note, not a finding."""
    from grader.checks import load_checks

    graded = coverage(records)
    found, notes = [], []
    for exercise in exercises:
        test_file = relative(places(exercise)["tests"])
        if exercise not in graded:
            found.append(f"{exercise}: no test graded a submission of it: {NEXT_STEP['tests']} in {test_file}")
            continue
        seen = graded[exercise]
        for check in load_checks(exercise, seed=0, hidden=True):
            if check.name in seen.caught:
                continue
            if check.name in seen.skipped - seen.ran:
                notes.append(f"note: {check.qualified_name} needs {check.requires} and was skipped on this machine: "
                             f"run `grader doctor --caught` where it runs to know whether a test catches it")
            else:
                found.append(f"{check.qualified_name}: no wrong submission fails it: add one to {test_file} "
                             f"(grade_mutant, then assert the check fails)")
    return found, notes


class NothingGraded(ValueError):
    """`--caught` with pytest arguments that select no test grading a submission."""


def caught_findings(pytest_args: Sequence[str]) -> tuple[list[str], list[str]]:
    """`uncaught` over a real run of the check tests; with `pytest_args`, only the exercises that run graded."""
    from grader.checks import EXERCISES

    run = graded_submissions(pytest_args)
    if pytest_args and not run.records:
        raise NothingGraded(f"{' '.join(pytest_args)} selects no test that grades a submission: nothing to judge "
                            f"(test names look like tests/checks/test_ex01_linear_model.py::test_...)")
    graded = {record["exercise"] for record in run.records}
    found, notes = uncaught(run.records, [e for e in EXERCISES if e in graded] if pytest_args else EXERCISES)
    if run.status not in (0, 5):  # 5: no test selected
        last = run.output.strip().splitlines()[-1:] or ["(no output)"]
        found.insert(0, f"the check tests failed ({last[0]}): run `python -m pytest tests/checks` and fix them first")
    return found, notes


# ------------------------------------------------------------------------------------------------- the command


def doctor(*, caught: bool = False, pytest_args: Sequence[str] = ()) -> int:
    """Print every finding (then notes) and return 1, or print that every exercise is complete and return 0."""
    from grader.checks import EXERCISES

    found, notes = findings(), []
    if caught:
        try:
            more, notes = caught_findings(pytest_args)
        except NothingGraded as error:
            print(f"grader doctor: {error}", file=sys.stderr)
            return 2
        found += more
    for line in [*found, *notes]:
        print(line)
    if found:
        print(f"{len(found)} finding{'s' if len(found) != 1 else ''}; {GUIDE} says how to add an exercise", file=sys.stderr)
        return 1
    every = "; every check is caught by a wrong submission" if caught else ""
    print(f"all {len(EXERCISES)} exercises complete{every}")
    return 0
