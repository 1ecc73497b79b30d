"""Shared helpers: grade a solution, a stub, or a mutant of a solution, in-process, and look at the results."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from grader.checks import load_checks
from grader.instructor.doctor import RECORD_VARIABLE, STUBBED
from grader.model import CheckResult
from grader.runner import InProcessRunner, grade_exercise

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
EXERCISES_DIR = ROOT / "exercises"


def solution_source(exercise: str) -> str:
    return (SOLUTIONS / f"{exercise}.py").read_text()


def mutate(source: str, *replacements: tuple[str, str]) -> str:
    """Apply text replacements, each of which must match exactly once (so a test cannot silently go stale)."""
    for old, new in replacements:
        count = source.count(old)
        assert count == 1, f"expected exactly one occurrence of {old!r}, found {count}"
        source = source.replace(old, new)
    return source


def grade_file(exercise: str, path: Path, *, seed: int = 0, hidden: bool = True) -> dict[str, CheckResult]:
    checks = load_checks(exercise, seed=seed, hidden=hidden)
    runner = InProcessRunner(timeout=120)  # generous: a loaded CI machine must not turn a slow probe into a failure
    return {r.name: r for r in grade_exercise(exercise, path, checks, runner)}


@pytest.fixture
def grade_source(tmp_path, request):
    """grade_source(exercise, source) -> {check name: CheckResult}, the source written as the student's file."""

    def grade(exercise: str, source: str, *, seed: int = 0, hidden: bool = True) -> dict[str, CheckResult]:
        path = tmp_path / f"{exercise}.py"
        path.write_text(source)
        results = grade_file(exercise, path, seed=seed, hidden=hidden)
        record_hints(request.node.nodeid, exercise, results)
        return results

    return grade


HINT_RECORD = os.environ.get(RECORD_VARIABLE)


def record_hints(test: str, exercise: str, results: dict[str, CheckResult]) -> None:
    """With GRADER_HINT_COVERAGE=FILE, append one JSON line per graded submission, its checks by outcome, for
    `grader doctor --caught` and tools/hint_coverage.py (`grader.instructor.doctor.graded_submissions`)."""
    if not HINT_RECORD:
        return
    by_status = {status: sorted(name for name, r in results.items() if r.status == status) for status in ("passed", "failed", "skipped")}
    line = {"test": test, "exercise": exercise, **by_status,
            "hinted": [n for n in by_status["failed"] if results[n].hint],
            "stubbed": [n for n in by_status["failed"] if STUBBED in results[n].message]}
    with open(HINT_RECORD, "a", encoding="utf-8") as out:
        out.write(json.dumps(line) + "\n")


@pytest.fixture
def grade_mutant(grade_source):
    """grade_mutant(exercise, (old, new), ...) grades the solution with those lines changed."""

    def grade(exercise: str, *replacements: tuple[str, str], seed: int = 0) -> dict[str, CheckResult]:
        return grade_source(exercise, mutate(solution_source(exercise), *replacements), seed=seed)

    return grade


def failed(results: dict[str, CheckResult]) -> set[str]:
    return {name for name, r in results.items() if r.status == "failed"}


def hint_of(results: dict[str, CheckResult], name: str) -> str:
    """The Hint line of check `name`, which must have failed ('' where it named no mistake)."""
    assert name in failed(results), name
    return results[name].hint or ""
