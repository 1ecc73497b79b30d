"""Every solution scores full marks on every check (several seeds); every untouched stub scores 0, cleanly."""

from __future__ import annotations

import pytest

from conftest import EXERCISES_DIR, SOLUTIONS, grade_file
from grader.checks import EXERCISES

PRESENT = [e for e in EXERCISES if (SOLUTIONS / f"{e}.py").exists()]


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("exercise", PRESENT)
def test_solution_scores_full_marks(exercise, seed):
    results = grade_file(exercise, SOLUTIONS / f"{exercise}.py", seed=seed)
    assert results, f"{exercise} has no checks"
    problems = {name: r.output for name, r in results.items() if r.status == "failed"}
    assert not problems


@pytest.mark.parametrize("exercise", PRESENT)
def test_stub_scores_zero_with_not_implemented_message(exercise):
    results = grade_file(exercise, EXERCISES_DIR / f"{exercise}.py")
    for name, result in results.items():
        if result.status == "skipped":
            continue
        assert result.status == "failed" and result.score == 0, name
        assert "not implemented yet" in result.message, (name, result.message)
        assert "Traceback" not in result.message


@pytest.mark.parametrize("exercise", PRESENT)
def test_every_check_has_points_and_a_known_visibility(exercise):
    from grader.checks import load_checks

    for check in load_checks(exercise, seed=0, hidden=True):
        assert check.points > 0 and check.visibility in {"public", "hidden"} and check.probes
