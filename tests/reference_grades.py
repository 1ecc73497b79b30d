"""What `grader grade` gives a class of .py submissions, per student and exercise: the yardstick of the front ends."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from conftest import mutate
from grader.instructor.release import without_derivations

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
EXERCISES_DIR = ROOT / "exercises"


def per_exercise(results: dict) -> dict[str, float]:
    """{exercise: score} from a Gradescope results.json."""
    scores: dict[str, float] = defaultdict(float)
    for test in results["tests"]:
        scores[test["name"].split(".")[0]] += float(test["score"])
    return dict(scores)


def grader_grade(submissions: Path, out: Path, seed: int) -> dict[str, dict[str, float]]:
    """{student: {exercise: score}} from `grader grade SUBMISSIONS --out OUT --seed SEED`."""
    command = [sys.executable, "-m", "grader", "grade", str(submissions), "--out", str(out), "--seed", str(seed),
               "--workers", "2", "--quiet", "--force"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    return {folder.name: per_exercise(json.loads((folder / "results.json").read_text()))
            for folder in sorted(out.iterdir()) if (folder / "results.json").is_file()}


def write_class(folder: Path, exercises: list[str]) -> dict[str, dict[str, str]]:
    """Two students as .py files: `correct` (the solutions) and `mistakes` (ex01's cost sums instead of averaging,
    the second exercise left as the stub, the rest solved), each file the exercise text with the answers filled in
    (no worked derivations). Returns {student: {exercise: source}}."""
    correct = {e: without_derivations((SOLUTIONS / f"{e}.py").read_text()) for e in exercises}
    mistakes = dict(correct)
    mistakes["ex01_linear_model"] = mutate(correct["ex01_linear_model"],
                                           ("return sum(loss(x, y, w) for x, y in zip(xs, ys)) / len(xs)",
                                            "return sum(loss(x, y, w) for x, y in zip(xs, ys))"))
    if len(exercises) > 1:
        mistakes[exercises[1]] = (EXERCISES_DIR / f"{exercises[1]}.py").read_text()
    students = {"correct": correct, "mistakes": mistakes}
    for student, files in students.items():
        (folder / student).mkdir(parents=True)
        for exercise, source in files.items():
            (folder / student / f"{exercise}.py").write_text(source)
    return students
