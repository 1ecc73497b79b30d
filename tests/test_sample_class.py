"""The sample class that ships with the kit: it is up to date with solutions/, and `grader grade` gives each
synthetic student exactly the outcome their submission deserves (stated relative to the reference student)."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from grader.checks import EXERCISES
from gradescope_schema import GRADESCOPE_SCHEMA

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_class"
GRADE_TIMEOUT = 900  # seconds for the whole class; the batch itself bounds every probe


def generator():
    """tools/make_sample_class.py as a module."""
    if "make_sample_class" not in sys.modules:
        spec = importlib.util.spec_from_file_location("make_sample_class", ROOT / "tools" / "make_sample_class.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
    return sys.modules["make_sample_class"]


def test_sample_class_is_regenerated_from_the_solutions():
    make = generator()
    assert make.on_disk(SAMPLE) == make.build(), "sample_class/ is stale: run `python tools/make_sample_class.py`"


def test_every_exercise_is_in_the_sample_class():
    solved = sorted(p.stem for p in (ROOT / "solutions").glob("ex*.py"))
    assert solved == list(EXERCISES), "a solution is missing, so the sample class lacks that exercise"
    assert sorted(p.name for p in (SAMPLE / "ada_lovelace").iterdir()) == [f"{e}.py" for e in EXERCISES]


def test_students_hand_in_exercise_text_without_the_worked_derivations():
    from grader.instructor.release import regions

    for exercise in EXERCISES:
        derivations = [r.text for r in regions((ROOT / "solutions" / f"{exercise}.py").read_text()) if r.kind == "markdown"]
        handed_in = (SAMPLE / "ada_lovelace" / f"{exercise}.py").read_text()
        assert not any(text in handed_in for text in derivations), exercise
        assert "BEGIN SOLUTION" not in handed_in, exercise


# --------------------------------------------------------------------------------------- grading the class


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> Path:
    """`grader grade sample_class --out OUT`, run once as the README runs it."""
    out = tmp_path_factory.mktemp("graded")
    command = [sys.executable, "-m", "grader", "grade", str(SAMPLE), "--out", str(out), "--seed", "0",
               "--workers", "2", "--quiet"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=GRADE_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"grading the sample class took more than {GRADE_TIMEOUT} s")
    assert process.returncode == 0, output.decode(errors="replace")[-4000:]
    return out


@pytest.fixture(scope="module")
def book(graded) -> dict[str, dict[str, float]]:
    with (graded / "gradebook.csv").open(newline="") as stream:
        rows = list(csv.DictReader(stream))
    return {row["student"]: {key: float(value) for key, value in row.items() if key != "student"} for row in rows}


def outputs(graded: Path, student: str, exercise: str) -> str:
    """Everything results.json tells `student` about `exercise`."""
    tests = json.loads((graded / student / "results.json").read_text())["tests"]
    return "\n".join(t["output"] for t in tests if t["name"].startswith(exercise + "."))


CORRECT = ["ada_lovelace", "ben_vectorised", "chloe_chatty", "dev_zip_folder"]
# student -> (the exercise they got wrong, what they lose)
BROKEN = {
    "emma_sum_cost": ("ex01_linear_model", "some"),
    "felix_no_two": ("ex02_derivative", "some"),
    "grace_last_tie": ("ex01_linear_model", "some"),
    "leo_sequential": ("ex03_quadratic", "some"),
    "hugo_missing_file": ("ex02_derivative", "all"),
    "iris_syntax_error": ("ex01_linear_model", "all"),
    "jonas_endless_loop": ("ex01_linear_model", "all"),
}


@pytest.mark.slow
def test_every_student_has_a_row_and_the_same_maximum(book):
    make = generator()
    assert sorted(book) == sorted(s.name for s in make.STUDENTS) == sorted(CORRECT + list(BROKEN) + ["kim_zip_stubs"])
    full = book["ada_lovelace"]
    assert full["max_total"] > 0
    assert {row["max_total"] for row in book.values()} == {full["max_total"]}


@pytest.mark.slow
@pytest.mark.parametrize("student", CORRECT)
def test_correct_students_get_every_point(book, student):
    assert book[student]["total"] == book[student]["max_total"]
    assert all(book[student][e] == book["ada_lovelace"][e] > 0 for e in EXERCISES)


@pytest.mark.slow
@pytest.mark.parametrize("student", sorted(BROKEN))
def test_a_broken_exercise_costs_only_its_own_points(book, student):
    broken, loses = BROKEN[student]
    full = book["ada_lovelace"]
    for exercise in EXERCISES:
        if exercise != broken:
            assert book[student][exercise] == full[exercise], exercise
    if loses == "all":
        assert book[student][broken] == 0
    else:
        assert 0 < book[student][broken] < full[broken]
    assert book[student]["total"] == full["total"] - (full[broken] - book[student][broken])


@pytest.mark.slow
def test_untouched_stubs_score_nothing(book):
    assert book["kim_zip_stubs"]["total"] == 0


@pytest.mark.slow
def test_feedback_names_what_went_wrong(graded):
    from grader.instructor.checks import ex01_linear_model, ex02_derivative, ex03_quadratic

    assert "file not submitted" in outputs(graded, "hugo_missing_file", "ex02_derivative")
    broken_line = next(number for number, line in enumerate(
        (SAMPLE / "iris_syntax_error" / "ex01_linear_model.py").read_text().splitlines(), start=1) if generator().SYNTAX_MARK in line)
    assert f"line {broken_line}" in outputs(graded, "iris_syntax_error", "ex01_linear_model")
    assert "timed out" in outputs(graded, "jonas_endless_loop", "ex01_linear_model").lower()
    assert f"Hint: {ex01_linear_model.SUM_NOT_MEAN.hint}" in outputs(graded, "emma_sum_cost", "ex01_linear_model")
    assert f"Hint: {ex02_derivative.MISSING_TWO}" in outputs(graded, "felix_no_two", "ex02_derivative")
    assert "keep the first one" in outputs(graded, "grace_last_tie", "ex01_linear_model")
    assert f"Hint: {ex03_quadratic.SEQUENTIAL}" in outputs(graded, "leo_sequential", "ex03_quadratic")


@pytest.mark.slow
def test_results_follow_gradescope_format_and_match_the_gradebook(graded, book):
    for student, row in book.items():
        data = json.loads((graded / student / "results.json").read_text())
        jsonschema.validate(data, GRADESCOPE_SCHEMA)
        assert data["score"] == pytest.approx(row["total"])
        assert sum(t["max_score"] for t in data["tests"]) == pytest.approx(row["max_total"])
        assert (graded / student / "feedback.html").is_file()
    assert (graded / "summary.html").is_file()
