"""The nbgrader course: its notebooks' metadata, and an end-to-end run of the real nbgrader that must give every
student, per exercise, the score `grader grade` gives the same answers as .py files."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.checks import load_checks
from grader.instructor.nbgrader_course import build_course, gradable_exercises

from reference_grades import ROOT, SOLUTIONS, grader_grade, write_class

SEED = 20240
ASSIGNMENT = "gd"
# A subset keeps the run short: every notebook costs a kernel start and torch's import, per student.
PREFERRED = ["ex01_linear_model", "ex02_derivative", "ex03_quadratic", "ex06_matrix_calculus"]


def subset() -> list[str]:
    """PREFERRED, or every exercise with NBGRADER_ALL_EXERCISES=1 (a few minutes)."""
    available = gradable_exercises(SOLUTIONS)
    wanted = available if os.environ.get("NBGRADER_ALL_EXERCISES") == "1" else PREFERRED
    return [e for e in wanted if e in available and load_checks(e, seed=SEED, hidden=True)]


def nb_cells(path: Path):
    import nbformat

    return nbformat.read(path, as_version=4).cells


def test_notebook_has_answer_cells_and_one_graded_test_cell_per_check(tmp_path):
    pytest.importorskip("jupytext")
    [path] = build_course(course_dir=tmp_path / "course", assignment=ASSIGNMENT, seed=SEED,
                          exercises=["ex01_linear_model"], report=None)
    assert path == tmp_path / "course" / "source" / ASSIGNMENT / "ex01_linear_model.ipynb"
    assert "c.CourseDirectory.course_id" in (tmp_path / "course" / "nbgrader_config.py").read_text()
    cells = nb_cells(path)
    meta = [c.metadata.get("nbgrader") for c in cells]
    answers = [c for c, m in zip(cells, meta) if m and m["solution"]]
    tests = {m["grade_id"]: (c, m) for c, m in zip(cells, meta) if m and m["grade"]}
    assert answers and all("### BEGIN SOLUTION" in c.source for c in answers)
    assert not any("### BEGIN SOLUTION" in c.source for c, m in zip(cells, meta) if not (m and m["solution"]))
    checks = load_checks("ex01_linear_model", seed=SEED, hidden=True)
    assert set(tests) == {f"check_{c.name}" for c in checks}
    for check in checks:
        cell, m = tests[f"check_{check.name}"]
        assert m["points"] == check.points and m["locked"] and m["schema_version"] == 3 and not m["solution"]
        hidden = ", hidden=True" if check.visibility == "hidden" else ""
        assert f"run_check('ex01_linear_model', '{check.name}', globals(), seed={SEED}{hidden})" in cell.source
    markdown = [c for c in cells if c.cell_type == "markdown"]
    assert markdown and "# Exercise 1" in markdown[0].source
    # each test follows the cell that defines what it tests
    order = [c.source for c in cells]
    forward_cell = next(i for i, s in enumerate(order) if "def forward" in s)
    assert "'forward'" in order[forward_cell + 1]


def test_run_check_passes_on_a_namespace_and_fails_with_the_hint():
    from grader.notebook import run_check

    namespace: dict = {}
    exec(compile((SOLUTIONS / "ex01_linear_model.py").read_text(), "notebook", "exec"), namespace)
    run_check("ex01_linear_model", "cost", namespace, seed=SEED)
    namespace["cost"] = lambda xs, ys, w: sum((x * w - y) ** 2 for x, y in zip(xs, ys))
    with pytest.raises(AssertionError, match="Hint: the cost is the mean"):
        run_check("ex01_linear_model", "cost", namespace, seed=SEED)


def test_a_hidden_check_runs_only_under_nbgrader_autograde(monkeypatch, capsys):
    from grader.notebook import run_check

    namespace: dict = {}  # nothing defined: the check would fail if it ran
    hidden = next(c.name for c in load_checks("ex01_linear_model", seed=SEED, hidden=True) if c.visibility == "hidden")
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    run_check("ex01_linear_model", hidden, namespace, seed=SEED, hidden=True)
    assert "a hidden check; it runs when your notebook is graded" in capsys.readouterr().out
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(AssertionError):
        run_check("ex01_linear_model", hidden, namespace, seed=SEED, hidden=True)


def run(command: list[str], cwd: Path, env: dict) -> subprocess.CompletedProcess:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def submit(released: Path, student_source: str, target: Path) -> None:
    """The released notebook with the student's code in its answer cells (cells match one to one, tests aside)."""
    import jupytext
    import nbformat

    notebook = nbformat.read(released, as_version=4)
    own = jupytext.reads(student_source, fmt="py:percent").cells
    given = [c for c in notebook.cells if not c.metadata.get("nbgrader", {}).get("grade")]
    assert len(given) == len(own), f"{released.name}: {len(given)} cells released, {len(own)} in the student's file"
    for cell, mine in zip(given, own):
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = mine.source
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target)


def nbgrader_env() -> tuple[str, dict]:
    """The nbgrader command, and an environment where its kernels import this kit."""
    nbgrader = shutil.which("nbgrader") or str(Path(sys.executable).parent / "nbgrader")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
               PATH=os.pathsep.join([str(Path(nbgrader).parent), os.environ.get("PATH", "")]))
    env.pop("GRADER_SEED", None)
    return nbgrader, env


@pytest.mark.nbgrader
@pytest.mark.slow
def test_an_untouched_release_keeps_every_checksum_and_hidden_checks_still_count(tmp_path):
    """nbgrader warns "Attribute 'checksum' ... has changed" when a locked cell differs from the one it recorded; an
    untouched copy of release/ must raise none (hidden-test markers made one per hidden check), while a solved copy
    still gets the hidden checks' points."""
    pytest.importorskip("nbgrader")
    from nbgrader.api import Gradebook
    from nbgrader.utils import compute_checksum

    from grader.instructor.release import without_derivations

    nbgrader, env = nbgrader_env()
    exercise, course = "ex01_linear_model", tmp_path / "course"
    build_course(course_dir=course, assignment=ASSIGNMENT, seed=SEED, exercises=[exercise], report=None)
    run([nbgrader, "generate_assignment", ASSIGNMENT], course, env)
    released = course / "release" / ASSIGNMENT / f"{exercise}.ipynb"
    source = {c.metadata["nbgrader"]["grade_id"]: compute_checksum(c) for c in nb_cells(course / "source" / ASSIGNMENT / released.name)
              if c.metadata.get("nbgrader", {}).get("grade")}
    assert {c.metadata["nbgrader"]["grade_id"]: compute_checksum(c) for c in nb_cells(released)
            if c.metadata.get("nbgrader", {}).get("grade")} == source
    untouched = course / "submitted" / "untouched" / ASSIGNMENT / released.name
    untouched.parent.mkdir(parents=True)
    shutil.copyfile(released, untouched)
    submit(released, without_derivations((SOLUTIONS / f"{exercise}.py").read_text()),
           course / "submitted" / "solved" / ASSIGNMENT / released.name)
    done = run([nbgrader, "autograde", ASSIGNMENT], course, env)
    assert "has changed" not in done.stdout + done.stderr, (done.stdout + done.stderr)[-3000:]
    checks = load_checks(exercise, seed=SEED, hidden=True)
    assert any(c.visibility == "hidden" for c in checks)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        assert gradebook.find_submission_notebook(exercise, ASSIGNMENT, "untouched").score == 0
        assert gradebook.find_submission_notebook(exercise, ASSIGNMENT, "solved").score == sum(c.points for c in checks)


@pytest.mark.nbgrader
@pytest.mark.slow
def test_nbgrader_scores_equal_grader_grade(tmp_path):
    pytest.importorskip("nbgrader")
    pytest.importorskip("jupytext")
    nbgrader, env = nbgrader_env()
    exercises = subset()
    assert "ex01_linear_model" in exercises
    course = tmp_path / "course"
    build_course(course_dir=course, assignment=ASSIGNMENT, seed=SEED, exercises=exercises, report=None)
    run([nbgrader, "generate_assignment", ASSIGNMENT], course, env)

    students = write_class(tmp_path / "submissions", exercises)
    for student, files in students.items():
        for exercise, source in files.items():
            submit(course / "release" / ASSIGNMENT / f"{exercise}.ipynb", source,
                   course / "submitted" / student / ASSIGNMENT / f"{exercise}.ipynb")
    run([nbgrader, "autograde", ASSIGNMENT], course, env)
    run([nbgrader, "export"], course, env)

    expected = grader_grade(tmp_path / "submissions", tmp_path / "out", SEED)
    with open(course / "grades.csv", newline="") as stream:
        exported = {row["student_id"]: float(row["raw_score"]) for row in csv.DictReader(stream)}
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student in students:
            scores = {e: gradebook.find_submission_notebook(e, ASSIGNMENT, student).score for e in exercises}
            assert scores == pytest.approx({e: expected[student][e] for e in exercises}), student
            assert exported[student] == pytest.approx(sum(scores.values()))
    assert expected["correct"]["ex01_linear_model"] > expected["mistakes"]["ex01_linear_model"] > 0
    assert expected["mistakes"][exercises[1]] == 0
