"""The benchmarks keep running: a smoke run of bench/grading.py (3 students, 2 exercises, no nbgrader), and its class
generator makes the mix it promises. Timings are printed by the script, never asserted here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))


def test_class_mixes_correct_mistaken_and_stuck_students():
    import grading

    exercises = ["ex01_linear_model", "ex02_derivative", "ex04_cost_loss_sgd"]
    students = grading.make_class(50, exercises, seed=3)
    kinds = [s.kind for s in students]
    assert kinds.count("stuck") == 1 and kinds.count("mistake") == 10
    solutions = {e: text for e, text in grading.sample.available_solutions().items() if e in exercises}
    for student in students:
        assert set(student.files) == set(exercises)
        assert not any("### BEGIN SOLUTION" in source for source in student.files.values())
        changed = [e for e in exercises if student.files[e] != grading.sample.fill_in(solutions[e], {})]
        if student.kind == "stuck":
            assert changed and ("while True" in student.note or "never ends" in student.note or "loops forever" in student.note)
        if student.kind == "correct" and student.name.endswith("verbatim"):
            assert changed == []
    assert any(s.kind == "mistake" and "->" in s.note for s in students), "some mistakes are textual mutations"


def test_mutation_changes_one_answer_line():
    import random

    import grading

    source = (ROOT / "solutions" / "ex01_linear_model.py").read_text()
    mutated, what = grading.mutate(source, random.Random(0))
    before, after = source.splitlines(), mutated.splitlines()
    assert len(before) == len(after)
    assert sum(a != b for a, b in zip(before, after)) == 1 and "->" in what


@pytest.mark.slow
def test_smoke_run_prints_every_row():
    done = subprocess.run([sys.executable, "bench/grading.py", "--smoke"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    for expected in ("grader grade (", "students/min", "peak memory", "a stuck student", "naive baseline",
                     "scores agree", "kit vs naive", "nbgrader: skipped"):
        assert expected in out, f"{expected!r} missing from:\n{out}"
