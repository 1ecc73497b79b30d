"""`grader grade --shard K/N` into one shared OUT, and `grader report OUT`: real `grader` processes on a tiny class.

The class has four students spread over three shards by the hash of their names (cat and fay in 1/3, dan in 2/3, ann
in 3/3); cat's file never finishes importing, so shard 1/3 is still at work when the test kills it.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.instructor import shards
from grader.instructor.batch import in_shard
from grader.instructor.shards import Locks, Shard, StaleWatch, agreed_seed, shard_of
from grader.instructor.submissions import Submission

ROOT = Path(__file__).resolve().parent.parent
SEED = 11
TIMEOUT = "2"
SLICES = {"cat": 1, "fay": 1, "dan": 2, "ann": 3}
RUN_LIMIT = 300  # seconds for one grader process; each takes about ten on an idle machine


def grader(*arguments: str, **popen) -> subprocess.Popen:
    command = [sys.executable, "-m", "grader", *arguments]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **popen)


def grade(submissions: Path, out: Path, *options: str, seed: int | None = SEED, **popen) -> subprocess.Popen:
    """`grader grade` with one worker (so that a shard grades its students one after another, in name order)."""
    seeded = () if seed is None else ("--seed", str(seed))
    return grader("grade", str(submissions), "--out", str(out), *seeded, "--timeout", TIMEOUT, "--quiet", "--workers", "1",
                  *options, **popen)


def finish(process: subprocess.Popen) -> tuple[int, str]:
    output, _ = process.communicate(timeout=RUN_LIMIT)
    return process.returncode, output


def student_files(out: Path, students) -> dict[str, tuple[int, int]]:
    """Every file of these students: (inode, modification time), to tell whether anything rewrote them."""
    return {str(p): (p.stat().st_ino, p.stat().st_mtime_ns) for s in students for p in sorted((out / s).iterdir())}


def record_results(out: Path, student: str) -> list[dict]:
    return json.loads((out / student / "record.json").read_text())["results"]


@pytest.fixture(scope="module")
def submissions(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("class") / "submissions"
    solution = {e: (ROOT / "solutions" / f"{e}.py").read_text() for e in ("ex01_linear_model", "ex02_derivative")}
    files = {"ann": {"ex01_linear_model.py": solution["ex01_linear_model"]},
             "cat": {"ex01_linear_model.py": solution["ex01_linear_model"] + "\nwhile True:\n    pass\n"},
             "dan": {"ex02_derivative.py": solution["ex02_derivative"]},
             "fay": {"ex01_linear_model.py": (ROOT / "exercises" / "ex01_linear_model.py").read_text()}}
    for student, contents in files.items():
        for name, text in contents.items():
            (folder / student).mkdir(parents=True, exist_ok=True)
            (folder / student / name).write_text(text)
    return folder


@pytest.fixture(scope="module")
def single_run(submissions, tmp_path_factory) -> Path:
    """The class graded by one unsharded run: the gradebook every sharded run must end with."""
    out = tmp_path_factory.mktemp("single") / "out"
    code, output = finish(grade(submissions, out))
    assert code == 0, output
    return out


# ------------------------------------------------------------------------------------------ slices and seed


def test_the_slices_cover_the_class_once_and_stay_put_when_students_come_and_go():
    names = [f"student{i:03d}" for i in range(300)]
    slices = [in_shard([Submission(n, "f") for n in names], Shard(k, 4)) for k in range(1, 5)]
    assert sorted(s.student for part in slices for s in part) == names
    assert all(45 <= len(part) <= 105 for part in slices), [len(p) for p in slices]  # a hash, not a fixed split
    fewer = [Submission(n, "f") for n in names[::3]] + [Submission("newcomer", "f")]
    for k, part in enumerate(slices, start=1):
        kept = {s.student for s in in_shard(fewer, Shard(k, 4))} - {"newcomer"}
        assert kept == {s.student for s in part} & set(names[::3])
    assert {student: shard_of(student, 3) for student in SLICES} == SLICES


@pytest.mark.parametrize("text", ["0/3", "4/3", "3", "a/b", "1/0", "-1/2"])
def test_a_bad_shard_is_refused_with_what_to_give(text, tmp_path):
    with pytest.raises(ValueError, match="--shard"):
        Shard.parse(text)
    code, output = finish(grader("grade", str(tmp_path), "--out", str(tmp_path / "out"), f"--shard={text}"))
    assert code == 2 and "argument --shard" in output and ("3/8" in output or "N, the number of shards" in output
                                                           or "between 1 and N" in output), output


def _propose(out: str, proposal: int, start: float, answers) -> None:
    time.sleep(max(0.0, start - time.time()))
    answers.put((proposal, agreed_seed(Path(out), proposal)))


def test_shards_starting_together_on_an_empty_out_agree_on_one_seed(tmp_path):
    """Eight processes propose eight seeds at the same moment: exactly one proposal wins, and all of them use it."""
    context = multiprocessing.get_context("fork")
    answers = context.Queue()
    start = time.time() + 0.5
    racers = [context.Process(target=_propose, args=(str(tmp_path), 1000 + i, start, answers)) for i in range(8)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(30)
    agreed = [answers.get(timeout=5) for _ in racers]
    seeds = {seed for _, seed in agreed}
    assert len(seeds) == 1 and seeds <= {proposal for proposal, _ in agreed}, agreed
    assert json.loads((tmp_path / "_class" / "seed.json").read_text()) == {"seed": seeds.pop()}
    assert not [p.name for p in (tmp_path / "_class").iterdir() if p.name != "seed.json"]  # no temporary file left


# ------------------------------------------------------------------------------------------------- locks


def _hold_and_die(folder: str) -> None:
    Locks(Path(folder)).take("ann")
    os._exit(0)  # no release: as if the process were killed


def test_a_lock_is_exclusive_and_a_dead_owner_on_this_host_loses_it_at_once(tmp_path):
    mine, other = Locks(tmp_path), Locks(tmp_path)
    assert mine.take("bob") is not None
    assert other.take("bob") is None  # a live process (this one) holds it
    other.release("bob")  # not its lock: nothing happens
    assert mine.holds("bob")
    mine.release("bob")
    assert other.take("bob") is not None
    other.release_all()
    child = multiprocessing.get_context("fork").Process(target=_hold_and_die, args=(str(tmp_path),))
    child.start()
    child.join(30)
    assert json.loads((tmp_path / "ann.lock").read_text())["pid"] == child.pid
    taker = Locks(tmp_path)
    assert taker.take("ann") is not None and taker.holds("ann")
    taker.release_all()
    assert not list(tmp_path.glob("*.lock*"))


def test_another_hosts_lock_is_taken_over_only_once_it_stops_being_refreshed(tmp_path):
    path = tmp_path / "ann.lock"
    path.write_text(json.dumps({"host": "node-elsewhere", "pid": 1, "token": "theirs"}))
    locks = Locks(tmp_path, StaleWatch(after=0.6))
    assert locks.take("ann") is None
    for _ in range(3):  # its owner keeps refreshing it
        time.sleep(0.4)
        os.utime(path, ns=(time.time_ns(), path.stat().st_mtime_ns + 10**9))
        assert locks.take("ann") is None
    time.sleep(0.8)  # its owner went silent
    assert locks.take("ann") is not None
    assert json.loads(path.read_text())["token"] != "theirs"
    locks.release_all()


def test_a_live_owner_keeps_its_lock_fresh_so_another_machine_never_takes_it(tmp_path, monkeypatch):
    monkeypatch.setattr(shards, "HEARTBEAT", 0.1)
    owner = Locks(tmp_path)
    assert owner.take("ann") is not None
    monkeypatch.setattr(shards, "MACHINE", "another machine")  # the waiter below judges the lock by its age
    waiter = Locks(tmp_path, StaleWatch(after=0.5))
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        assert waiter.take("ann") is None
        time.sleep(0.1)
    assert owner.holds("ann")
    owner.release_all()
    assert waiter.take("ann") is not None
    waiter.release_all()


# --------------------------------------------------------------------------------------- whole processes


@pytest.mark.slow
def test_shards_in_any_order_with_one_killed_and_rerun_end_with_the_single_runs_gradebook(submissions, single_run, tmp_path):
    out = tmp_path / "out"
    first = grade(submissions, out, "--shard", "1/3", start_new_session=True)
    others = [grade(submissions, out, "--shard", f"{k}/3") for k in (3, 2)]
    locks = out / "_class" / "locks"
    deadline = time.monotonic() + RUN_LIMIT
    while not (locks / "cat.lock").exists() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)  # cat's lock, not just any: the other shards take theirs at the same time
    assert (locks / "cat.lock").exists(), "shard 1/3 never took cat's lock"
    os.killpg(first.pid, signal.SIGKILL)  # the grader, its sandbox and its children, mid-student
    first.communicate()
    for process in others:
        code, output = finish(process)
        assert code == 0, output
    assert [p.stem for p in locks.glob("*.lock")] == ["cat"]  # the killed shard's lock is left behind

    code, output = finish(grader("report", str(out)))
    assert code == 1, output
    assert "2 of 4 students graded" in output and "cat: not graded" in output and "fay: not graded" in output
    assert "--shard K/N` for K/N in 1/3" in output and "shard 1/3 (host" in output and "stopped before its end" in output
    assert "cat" in (out / "summary.html").read_text() and not (out / "cat" / "record.json").exists()

    untouched = student_files(out, ["ann", "dan"])
    code, output = finish(grade(submissions, out, "--shard", "1/3", seed=None))  # the class's seed, read from OUT
    assert code == 0, output
    assert f"--seed {SEED}" in output
    assert "shard 1/3: 2 students in this slice; this run graded 2" in output
    assert student_files(out, ["ann", "dan"]) == untouched  # no shard rewrites another's students
    assert (out / "gradebook.csv").read_bytes() == (single_run / "gradebook.csv").read_bytes()
    for student in SLICES:
        assert record_results(out, student) == record_results(single_run, student)
    code, output = finish(grader("report", str(out)))
    assert code == 0 and "4 of 4 students graded" in output, output
    assert (out / "gradebook.csv").read_bytes() == (single_run / "gradebook.csv").read_bytes()
    assert not list(locks.glob("*"))


@pytest.mark.slow
def test_two_runs_of_the_same_shard_share_the_work_and_leave_every_student_whole(submissions, single_run, tmp_path):
    """Both runs reach their students while this test holds every student's lock; once it lets go they race for the
    same four students from the same start, and each student must be graded by exactly one of them."""
    out = tmp_path / "out"
    held = Locks(out / "_class" / "locks")
    assert all(held.take(student) for student in SLICES)
    runs = []
    for _ in range(2):
        runs.append(grade(submissions, out, "--shard", "1/1"))
        wait_until(lambda: (json.loads((out / "_class" / "shard-1-of-1.json").read_text()).get("pid") == runs[-1].pid))
    held.release_all()
    outputs = []
    for process in runs:
        code, output = finish(process)
        assert code == 0, output
        outputs.append(output)
    graded_here = [int(o.split("this run graded ")[1].split()[0].rstrip(",")) for o in outputs]
    assert sum(graded_here) == len(SLICES), outputs  # each student graded by exactly one of the two
    assert all("from another process that graded them meanwhile" in o for o in outputs if "graded 4" not in o), outputs
    for student in SLICES:
        record = json.loads((out / student / "record.json").read_text())
        results = json.loads((out / student / "results.json").read_text())
        assert record["seed"] == SEED and record["results"] == record_results(single_run, student)
        assert results["score"] == pytest.approx(sum(r["score"] for r in record["results"]))
    assert (out / "gradebook.csv").read_bytes() == (single_run / "gradebook.csv").read_bytes()


def wait_until(condition, limit: float = RUN_LIMIT) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.02)
    raise AssertionError(f"still not so after {limit} s")


def test_a_shard_given_another_seed_than_the_classs_is_refused_before_grading(submissions, tmp_path):
    """(A shard given no seed takes the class's: the rerun of the killed shard above does.)"""
    out = tmp_path / "out"
    (out / "_class").mkdir(parents=True)
    (out / "_class" / "seed.json").write_text(json.dumps({"seed": SEED + 1}))
    code, output = finish(grade(submissions, out, "--shard", "2/3"))
    assert code == 2 and f"graded with --seed {SEED + 1}" in output and "same seed" in output, output
    assert not (out / "dan").exists()


# ------------------------------------------------------------------------------------------- grader report


@pytest.mark.slow
def test_report_rebuilds_a_runs_gradebook_and_names_missing_outdated_and_failed_students(single_run, tmp_path, capsys):
    from grader.instructor.class_report import report_class

    out = tmp_path / "out"
    shutil.copytree(single_run, out)
    (out / "gradebook.csv").unlink()
    assert report_class(out) == 0
    assert (out / "gradebook.csv").read_bytes() == (single_run / "gradebook.csv").read_bytes()
    assert "4 of 4 students graded; gradebook.csv and summary.html rebuilt" in capsys.readouterr().out

    (out / "dan" / "record.json").unlink()
    (out / "fay" / "record.json").unlink()
    run_file = out / "_class" / "shard-1-of-1.json"
    run = json.loads(run_file.read_text())
    run["roster"]["ann"] = "0" * 64  # ann's files changed since they were graded
    run["failed"] = {"fay": "fay could not be graded (OSError: disk full)", "cat": "an old failure, since graded"}
    run_file.write_text(json.dumps(run))
    assert report_class(out) == 1
    output = capsys.readouterr().out
    assert "1 of 4 students graded" in output
    assert "dan: not graded" in output and "ann: its results are for other files" in output
    assert "failed (1):\n  fay: fay could not be graded (OSError: disk full)" in output
    assert f"to finish: run `grader grade SUBMISSIONS --out {out}` again" in output
    rows = (out / "gradebook.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in rows[1:]] == ["cat"]
    summary = (out / "summary.html").read_text()
    assert "fay could not be graded" in summary and "3 of 4 students are not graded yet" not in summary
    assert "2 of 4 students are not graded yet: ann, dan" in summary


@pytest.mark.slow
def test_report_during_a_shard_says_it_is_still_running(submissions, tmp_path):
    """The shard file names the process by its start ticks; the shard's own wall-clock start must not replace them."""
    out = tmp_path / "out"
    held = Locks(out / "_class" / "locks")
    assert held.take("ann")  # shard 1/2 holds ann: it waits for her lock until this test lets go
    assert shard_of("ann", 2) == 1
    run = grade(submissions, out, "--shard", "1/2", start_new_session=True)
    try:
        wait_until(lambda: json.loads((out / "_class" / "shard-1-of-2.json").read_text()).get("pid") == run.pid)
        code, output = finish(grader("report", str(out)))
        assert code == 1 and "shard 1/2 (host" in output and "still running" in output, output
        assert "stopped before its end" not in output, output
    finally:
        os.killpg(run.pid, signal.SIGKILL)
        run.communicate()
        held.release_all()


def test_report_on_a_folder_without_a_graded_class_says_what_to_give(tmp_path, capsys):
    from grader.instructor.class_report import report_class

    assert report_class(tmp_path / "nowhere") == 2
    assert report_class(tmp_path) == 2
    assert "give the --out folder of `grader grade`" in capsys.readouterr().err


@pytest.mark.slow
def test_report_on_an_out_from_before_rosters_rebuilds_what_it_holds_and_says_what_it_cannot_know(single_run, tmp_path, capsys):
    from grader.instructor.class_report import report_class

    out = tmp_path / "out"
    shutil.copytree(single_run, out)
    shutil.rmtree(out / "_class")
    (out / "gradebook.csv").unlink()
    assert report_class(out) == 0
    assert (out / "gradebook.csv").read_bytes() == (single_run / "gradebook.csv").read_bytes()
    assert "missing students cannot be named" in capsys.readouterr().out
