"""`grader grade` on a class of hostile submissions, with real sandboxed child processes.

Every fixture in tests/fixtures/sandbox/ is the ex01 reference solution with one addition (a function redefined,
or code at import). Each must score what it earned and nothing more, the batch must finish in bounded time, and a
correct student graded beside them must get exactly the results it gets alone.
"""

from __future__ import annotations

import _thread
import dataclasses
import json
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from grader.instructor.batch import grade
from grader.checks import load_checks

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "sandbox"
EXERCISE = "ex01_linear_model"
SEED = 7
TIMEOUT = 2.0
CHECKS = load_checks(EXERCISE, seed=SEED, hidden=True)
FULL = sum(c.points for c in CHECKS)
LOSS_CURVE = {c.name for c in CHECKS if any(p.function == "loss_curve" for p in c.probes)}
WITHOUT_LOSS_CURVE = FULL - sum(c.points for c in CHECKS if c.name in LOSS_CURVE)
PROCESS_NAME = "gt" + secrets.token_hex(5)  # fits the 15 characters of a process name


def fill(text: str, out: Path, marker: Path) -> str:
    return (text.replace("@TARGET@", str(out / "gradebook.csv")).replace("@KIT@", str(ROOT))
            .replace("@MARKER@", str(marker)).replace("@NAME@", PROCESS_NAME))


def survivors() -> list[int]:
    """Processes a submission started that are still alive."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == PROCESS_NAME:
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def results(out: Path, student: str) -> dict[str, dict]:
    """The student's ex01 results by check name (the other exercises are not submitted)."""
    return {r["name"]: r for r in json.loads((out / student / "record.json").read_text())["results"] if r["exercise"] == EXERCISE}


def score(out: Path, student: str) -> float:
    return sum(r["score"] for r in results(out, student).values())


@pytest.fixture(scope="module")
def hostile_class(tmp_path_factory):
    """The whole class graded once: (submissions, out, marker, seconds, gradebook text right after grading)."""
    base = tmp_path_factory.mktemp("hostile")
    submissions, out, marker = base / "submissions", base / "out", base / "marker"
    solution = (ROOT / "solutions" / f"{EXERCISE}.py").read_text()
    for fixture in sorted(FIXTURES.glob("*.py")):
        folder = submissions / fixture.stem
        folder.mkdir(parents=True)
        (folder / f"{EXERCISE}.py").write_text(solution + "\n\n" + fill(fixture.read_text(), out, marker))
    (submissions / "passes_all").mkdir()
    (submissions / "passes_all" / f"{EXERCISE}.py").write_text(solution)
    (submissions / "submits_nothing").mkdir()
    started = time.monotonic()
    code = grade(submissions=submissions, out=out, workers=2, timeout=TIMEOUT, force=False, seed=SEED, progress=False)
    seconds = time.monotonic() - started
    assert code == 0
    return submissions, out, marker, seconds, (out / "gradebook.csv").read_text()


def test_the_batch_is_bounded_in_time(hostile_class):
    *_, seconds, _ = hostile_class
    assert seconds < 45


def test_a_correct_student_gets_full_marks_and_exactly_what_it_gets_alone(hostile_class, tmp_path):
    submissions, out, *_ = hostile_class
    alone = tmp_path / "alone"
    (alone / "passes_all").mkdir(parents=True)
    (alone / "passes_all" / f"{EXERCISE}.py").write_text((submissions / "passes_all" / f"{EXERCISE}.py").read_text())
    assert grade(submissions=alone, out=tmp_path / "out", workers=1, timeout=TIMEOUT, force=False, seed=SEED, progress=False) == 0
    assert score(out, "passes_all") == FULL
    assert results(out, "passes_all") == results(tmp_path / "out", "passes_all")


@pytest.mark.parametrize("student, reason", [
    ("loops_forever", "timed out after 2 s"),
    ("os_exit_in_probe", "exited with status 0"),
    ("segfaults", "crashed with signal SIGSEGV"),
    ("floods_stdout", "timed out after 2 s"),
    ("eats_memory", "killed: memory limit 2 GiB"),
])
def test_a_broken_function_fails_with_what_happened_and_the_rest_is_graded(hostile_class, student, reason):
    out = hostile_class[1]
    graded = results(out, student)
    assert score(out, student) == WITHOUT_LOSS_CURVE
    assert {name for name, r in graded.items() if r["status"] == "failed"} == LOSS_CURVE
    messages = [graded[name]["message"] for name in sorted(LOSS_CURVE)]
    assert any(reason in m for m in messages), messages


def test_a_function_that_timed_out_costs_its_timeout_once(hostile_class):
    graded = results(hostile_class[1], "loops_forever")
    messages = sorted(graded[name]["message"] for name in LOSS_CURVE)
    assert sum("timed out after 2 s" in m for m in messages) == 1
    assert any("not run: loss_curve timed out earlier" in m for m in messages)


@pytest.mark.parametrize("student, reason", [
    ("hangs_at_import", "timed out after 2 s during import"),
    ("sys_exit_at_import", "the file exited with status 0 during import"),
    ("os_exit_at_import", "exited with status 0 during import"),
    ("submits_nothing", "file not submitted"),
])
def test_a_file_that_cannot_be_loaded_scores_zero_with_the_reason(hostile_class, student, reason):
    graded = results(hostile_class[1], student)
    assert score(hostile_class[1], student) == 0
    assert all(reason in r["message"] for r in graded.values()), [r["message"] for r in graded.values()]


@pytest.mark.parametrize("student", ["forks_many", "detached_daemon", "writes_outside", "reads_solutions",
                                     "monkeypatches_grader", "lies_in_eq", "runs_code_when_unpickled"])
def test_tricks_earn_nothing(hostile_class, student):
    out = hostile_class[1]
    graded = results(out, student)
    assert score(out, student) == WITHOUT_LOSS_CURVE
    assert all(graded[name]["status"] == "failed" for name in LOSS_CURVE)


def test_forged_output_earns_nothing(hostile_class):
    out = hostile_class[1]
    graded = results(out, "forges_results")
    assert score(out, "forges_results") == 0  # it forged frames on the grader's channel at import: nothing it sent counts
    assert all("wrote on the grader's channel during import" in r["message"] for r in graded.values())


def test_no_process_a_submission_started_survives_and_the_gradebook_stays_intact(hostile_class):
    submissions, out, marker, _, gradebook = hostile_class
    assert survivors() == []
    time.sleep(2.5)  # the detached daemon would have rewritten the gradebook by now
    assert survivors() == []
    assert (out / "gradebook.csv").read_text() == gradebook
    assert not marker.exists()
    assert not (ROOT / "pwned.txt").exists()
    assert "pwned" not in (ROOT / "grader" / "__init__.py").read_text()
    assert not Path("/tmp/pwned-by-student.txt").exists()


def test_the_gradebook_has_a_row_per_student(hostile_class):
    submissions, out, *_ = hostile_class
    rows = (out / "gradebook.csv").read_text().splitlines()
    assert rows[0].startswith("student,ex01_linear_model,")
    assert sorted(r.split(",")[0] for r in rows[1:]) == sorted(p.name for p in submissions.iterdir())


def test_a_second_run_skips_unchanged_students_and_force_regrades(tmp_path, capsys):
    submissions, out = tmp_path / "s", tmp_path / "o"
    (submissions / "ann").mkdir(parents=True)
    (submissions / "ann" / f"{EXERCISE}.py").write_text((ROOT / "solutions" / f"{EXERCISE}.py").read_text())
    arguments = dict(submissions=submissions, out=out, workers=1, timeout=TIMEOUT, seed=None, progress=False)
    assert grade(force=False, **arguments) == 0
    first = (out / "ann" / "record.json").read_text()
    assert grade(force=False, **arguments) == 0
    assert (out / "ann" / "record.json").read_text() == first  # kept, not regraded
    assert "unchanged since the last run" in (out / "summary.html").read_text()
    kept = (out / "ann" / "record.json").stat().st_ino
    assert grade(force=True, **arguments) == 0
    assert (out / "ann" / "record.json").stat().st_ino != kept  # written anew: regraded
    assert json.loads((out / "ann" / "record.json").read_text())["seed"] == json.loads(first)["seed"]


def test_a_rerun_regrades_a_student_whose_only_change_is_a_swapped_pyc(tmp_path):
    """The fingerprint covers every file of the folder, __pycache__ included."""
    submissions, out = tmp_path / "s", tmp_path / "o"
    (submissions / "ann" / "__pycache__").mkdir(parents=True)
    (submissions / "ann" / f"{EXERCISE}.py").write_text((ROOT / "solutions" / f"{EXERCISE}.py").read_text())
    pyc = submissions / "ann" / "__pycache__" / f"{EXERCISE}.cpython-311.pyc"
    pyc.write_bytes(b"not the bytecode of the file beside it")
    arguments = dict(submissions=submissions, out=out, workers=1, timeout=TIMEOUT, seed=SEED, force=False, progress=False)
    assert grade(**arguments) == 0
    first = (out / "ann" / "record.json").stat().st_ino
    pyc.write_bytes(b"other bytes, the .py unchanged")
    assert grade(**arguments) == 0
    assert (out / "ann" / "record.json").stat().st_ino != first  # written anew: regraded


def test_bad_input_exits_non_zero_with_a_clear_message(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert grade(submissions=empty, out=tmp_path / "o", workers=1, timeout=1, force=False, seed=0, progress=False) == 2
    assert f"expected {empty / '<student>'}/ex01_linear_model.py" in capsys.readouterr().err
    assert grade(submissions=tmp_path / "missing", out=tmp_path / "o", workers=1, timeout=1, force=False, seed=0, progress=False) == 2
    assert "no folder" in capsys.readouterr().err
    assert grade(submissions=empty, out=empty / "out", workers=1, timeout=1, force=False, seed=0, progress=False) == 2
    assert "inside" in capsys.readouterr().err


def test_a_diverging_training_curve_does_not_stop_the_batch(tmp_path):
    """A cost that runs off to -inf (a cube instead of a square) is a wrong answer, not a crash of the batch."""
    source = (ROOT / "solutions" / "ex05_torch_gd.py").read_text()
    line = "        cost = torch.mean((x_train * W - y_train) ** 2)\n"
    assert source.count(line) == 1
    (tmp_path / "in" / "diverges").mkdir(parents=True)
    (tmp_path / "in" / "diverges" / "ex05_torch_gd.py").write_text(source.replace(line, line.replace("** 2", "** 3")))
    (tmp_path / "in" / "fine").mkdir()
    (tmp_path / "in" / "fine" / "ex05_torch_gd.py").write_text(source)
    assert grade(submissions=tmp_path / "in", out=tmp_path / "out", workers=2, timeout=20, force=False, seed=6, progress=False) == 0
    rows = (tmp_path / "out" / "gradebook.csv").read_text().splitlines()
    assert len(rows) == 3
    records = {s: (tmp_path / "out" / s / "record.json").read_text() for s in ("diverges", "fine")}
    assert "null" in records["diverges"] and all(json.loads(text) for text in records.values())
    totals = {row.split(",")[0]: float(row.split(",")[-2]) for row in rows[1:]}
    assert totals["fine"] > totals["diverges"] > 0


def test_a_curve_matplotlib_cannot_draw_costs_the_picture_only_never_the_students_row(tmp_path):
    """A cost of ±1.7e308 makes matplotlib raise while the feedback page is drawn: the page says so, and the row,
    the record and a note in the summary are written all the same."""
    source = (ROOT / "solutions" / "ex03_quadratic.py").read_text()
    line = "        history.append((w1, w2, b, cost))\n"
    assert source.count(line) == 1
    (tmp_path / "in" / "huge_curve").mkdir(parents=True)
    (tmp_path / "in" / "huge_curve" / "ex03_quadratic.py").write_text(
        source.replace(line, line.replace("cost))", "1.7e308 if len(history) % 2 else -1.7e308))")))
    assert grade(submissions=tmp_path / "in", out=tmp_path / "out", workers=1, timeout=20, force=False, seed=2, progress=False) == 0
    out = tmp_path / "out"
    assert [row.split(",")[0] for row in (out / "gradebook.csv").read_text().splitlines()[1:]] == ["huge_curve"]
    record = json.loads((out / "huge_curve" / "record.json").read_text())
    assert record["notes"] and all("could not be drawn" in note and "\n" not in note for note in record["notes"])
    assert "Your curve could not be drawn" in (out / "huge_curve" / "feedback.html").read_text()
    assert record["notes"][0] in (out / "summary.html").read_text().replace("&#x27;", "'")


def test_a_student_the_grader_cannot_write_is_named_and_the_rest_are_graded(tmp_path, capsys):
    """A results path that cannot be written (here a folder in its place) costs that student only, and says so."""
    source = (ROOT / "solutions" / f"{EXERCISE}.py").read_text()
    for student in ("blocked", "fine"):
        (tmp_path / "in" / student).mkdir(parents=True)
        (tmp_path / "in" / student / f"{EXERCISE}.py").write_text(source)
    (tmp_path / "out" / "blocked" / "results.json").mkdir(parents=True)
    assert grade(submissions=tmp_path / "in", out=tmp_path / "out", workers=2, timeout=20, force=False, seed=1, progress=False) == 0
    assert "blocked could not be graded (IsADirectoryError" in capsys.readouterr().err
    rows = (tmp_path / "out" / "gradebook.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in rows[1:]] == ["fine"]
    assert "blocked could not be graded" in (tmp_path / "out" / "summary.html").read_text()


def test_the_default_workers_follow_the_cores_this_process_may_use():
    code = "import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); from grader.instructor.batch import default_workers; print(default_workers())"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "2", done.stderr  # one core allowed: one worker for it, one more to fill its waits


def test_notebooks_are_graded_like_their_modules_and_a_stub_notebook_beside_a_solved_module_is_not(tmp_path):
    """The bundle hands out every exercise as .py and .ipynb: a student may submit either, or both."""
    from grader.notebook import percent_to_notebook

    solved, stub = (ROOT / "solutions" / "ex02_derivative.py").read_text(), (ROOT / "exercises" / "ex02_derivative.py").read_text()
    (tmp_path / "in" / "nb").mkdir(parents=True)
    (tmp_path / "in" / "nb" / "ex02_derivative.ipynb").write_text(percent_to_notebook(solved))
    (tmp_path / "in" / "both").mkdir()
    (tmp_path / "in" / "both" / "ex02_derivative.py").write_text(solved)
    (tmp_path / "in" / "both" / "ex02_derivative.ipynb").write_text(percent_to_notebook(stub))
    (tmp_path / "in" / "py").mkdir()
    (tmp_path / "in" / "py" / "ex02_derivative.py").write_text(solved)
    assert grade(submissions=tmp_path / "in", out=tmp_path / "out", workers=2, timeout=TIMEOUT, force=False, seed=3, progress=False) == 0
    records = {student: json.loads((tmp_path / "out" / student / "record.json").read_text()) for student in ("nb", "both", "py")}
    ex02 = {student: {r["name"]: r["score"] for r in record["results"] if r["exercise"] == "ex02_derivative"}
            for student, record in records.items()}
    assert ex02["py"] and all(v > 0 for v in ex02["py"].values())
    assert ex02["nb"] == ex02["py"] == ex02["both"]


def test_grade_pending_returns_who_was_graded_reused_or_failed_and_the_interruption_and_changes_no_argument(tmp_path, monkeypatch):
    """ann is graded here; cat is held by another grader, which writes cat's results meanwhile: they are taken, not
    graded again; eve's results cannot be written: named in `problems`; dan stays held until Ctrl-C stops the run."""
    from grader.checks import EXERCISES
    from grader.instructor import batch
    from grader.instructor.sandbox import SandboxRunner
    from grader.instructor.shards import Locks, class_folder
    from grader.instructor.submissions import Submission
    from grader.model import CheckResult, Verdict

    monkeypatch.setattr(batch, "RETRY_LOCKED", 0.2)
    out = tmp_path / "out"
    checks = {exercise: list(CHECKS) if exercise == EXERCISE else [] for exercise in EXERCISES}
    signature = batch.checks_signature(checks)
    # refused submissions (a broken zip) are graded without a child process: no sandbox is started
    pending = [Submission(name, f"files of {name}", problem=f"{name}.zip is not a zip archive") for name in ("ann", "cat", "dan", "eve")]
    given_pending, given_checks = list(pending), {exercise: list(cs) for exercise, cs in checks.items()}
    (out / "eve" / "results.json").mkdir(parents=True)
    other_grader = Locks(class_folder(out) / "locks")
    assert other_grader.take("cat") and other_grader.take("dan")
    elsewhere = [CheckResult.of(check, Verdict.ok()) for check in CHECKS]

    def other_grader_finishes_cat() -> None:
        batch.write_student_outputs(out, pending[1], elsewhere, SEED, signature, seconds=1.0)
        other_grader.release("cat")

    finishing, stopping = threading.Timer(0.5, other_grader_finishes_cat), threading.Timer(6.0, _thread.interrupt_main)  # long after cat is taken, even on a loaded machine
    finishing.start()
    stopping.start()
    try:
        with SandboxRunner(timeout=TIMEOUT) as runner:
            run = batch.grade_pending(pending, checks, runner, out=out, seed=SEED, signature=signature, workers=2, progress=False)
    finally:
        finishing.join()
        stopping.cancel()
        other_grader.release_all()

    assert run.interrupted
    assert set(run.graded) == {"ann", "cat"} and run.reused == {"cat"} and run.graded_here == 1
    assert run.graded["cat"] == elsewhere  # taken as the other grader wrote them, not graded again (that would fail them)
    assert {r.status for r in run.graded["ann"]} == {"failed"} and run.graded["ann"][0].message == "ann.zip is not a zip archive"
    assert list(run.problems) == ["eve"] and "IsADirectoryError" in run.problems["eve"]
    assert pending == given_pending and checks == given_checks
    assert not list((class_folder(out) / "locks").glob("*.lock"))  # every lock this run took is released
    with pytest.raises(dataclasses.FrozenInstanceError):
        run.interrupted = False
