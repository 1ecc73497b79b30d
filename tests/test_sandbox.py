"""The sandbox on its own: what a child may touch, and what comes back. Real child processes throughout."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.model import Lost, Raised, Returned, call
from grader.instructor.sandbox import Limits, SandboxRunner

ROOT = Path(__file__).resolve().parent.parent

PROBING = '''
import os, socket

def read(path):
    with open(path) as stream:
        return stream.read()[:20]

def write(path):
    with open(path, "w") as stream:
        stream.write("x")
    return "written"

def environment():
    return sorted(os.environ)

def connect(port):
    socket.create_connection(("127.0.0.1", port), timeout=1)
    return "connected"

def huge():
    return "x" * (2 * 1024 * 1024)

def loop():
    while True:
        pass
'''


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    outside = tmp_path_factory.mktemp("out")
    with SandboxRunner(Limits(timeout=2.0, answer_size=1024 * 1024), forbidden=[outside]) as sandbox:
        yield sandbox, outside


@pytest.fixture(scope="module")
def student(tmp_path_factory):
    folder = tmp_path_factory.mktemp("student")
    (folder / "ex01_linear_model.py").write_text(PROBING)
    (folder / "notes.txt").write_text("mine")
    return folder / "ex01_linear_model.py"


def run(runner, student, *probes):
    sandbox, _ = runner
    return sandbox.run("ex01_linear_model", student, probes)


def test_reads_only_its_own_folder_the_kit_public_parts_and_python(runner, student):
    outside = runner[1]
    (outside / "gradebook.csv").write_text("student,total\n")
    outcomes = run(runner, student,
                   call("read", str(student.parent / "notes.txt")),
                   call("read", str(ROOT / "exercises" / "ex01_linear_model.py")),
                   call("read", str(ROOT / "solutions" / "ex01_linear_model.py")),
                   call("read", str(ROOT / "grader" / "instructor" / "checks" / "hidden" / "ex01_linear_model.py")),
                   call("read", str(ROOT / "grader" / "instructor" / "checks" / "ex01_linear_model.py")),
                   call("read", str(outside / "gradebook.csv")),
                   call("read", "/etc/passwd"))
    assert outcomes[0] == Returned("mine")
    assert isinstance(outcomes[1], Returned)
    for denied in outcomes[2:]:
        assert isinstance(denied, Raised) and denied.type_name == "PermissionError", denied


def test_writes_only_in_its_scratch_folder(runner, student):
    outside = runner[1]
    outcomes = run(runner, student, call("write", "scratch.txt"), call("write", str(outside / "gradebook.csv")),
                   call("write", str(student.parent / "ex01_linear_model.py")), call("write", str(ROOT / "pwned.txt")))
    assert outcomes[0] == Returned("written")
    assert all(isinstance(o, Raised) and o.type_name == "PermissionError" for o in outcomes[1:]), outcomes
    assert not (ROOT / "pwned.txt").exists()


def test_the_environment_is_scrubbed_and_the_network_closed(runner, student):
    environment, connection = run(runner, student, call("environment"), call("connect", 9))
    assert environment == Returned(["HOME", "LANG", "MKL_NUM_THREADS", "OMP_NUM_THREADS", "PATH", "TMPDIR"])
    assert isinstance(connection, Raised) and connection.type_name in {"OSError", "PermissionError", "ConnectionRefusedError"}


def test_an_oversized_answer_is_lost_and_the_next_probe_runs(runner, student):
    outcomes = run(runner, student, call("huge"), call("environment"))
    assert outcomes[0] == Lost("sent back more than 1 MiB")
    assert isinstance(outcomes[1], Returned)


def test_a_stuck_function_costs_its_timeout_once(runner, student):
    import time

    started = time.monotonic()
    outcomes = run(runner, student, call("loop"), call("loop"), call("environment"))
    assert time.monotonic() - started < 4.5
    assert outcomes[:2] == [Lost("timed out after 2 s"), Lost("not run: loop timed out earlier")]
    assert isinstance(outcomes[2], Returned)


def test_every_mechanism_is_in_force_or_named_in_the_notes(runner, student):
    from grader.instructor import confine

    run(runner, student, call("environment"))
    notes = runner[0].notes
    if confine.landlock_abi() >= 1:
        assert not any("Landlock is unavailable" in n for n in notes)
    assert all(isinstance(n, str) and n for n in notes)


LEAVES_TRACES = '''
import builtins, os, time

os.environ["LEFT_BY_EX01"] = "1"
builtins.left_by_ex01 = True
if os.fork() == 0:  # a daemon that keeps writing in the scratch folder, long after this exercise
    while True:
        with open("daemon.txt", "w") as stream:
            stream.write("still here")
        time.sleep(0.02)

def noop():
    return "ex01 done"
'''

SEES_TRACES = '''
import builtins, os, time

def traces():
    if os.path.exists("daemon.txt"):
        os.remove("daemon.txt")
    time.sleep(0.3)
    return [os.environ.get("LEFT_BY_EX01"), hasattr(builtins, "left_by_ex01"), os.path.exists("daemon.txt")]
'''


def test_each_exercise_of_a_student_starts_from_a_clean_process(runner, tmp_path):
    """One confined child per student, but each exercise in a fresh process: nothing ex01 left reaches ex02."""
    (tmp_path / "ex01_linear_model.py").write_text(LEAVES_TRACES)
    (tmp_path / "ex02_derivative.py").write_text(SEES_TRACES)
    with runner[0].session(tmp_path) as session:
        assert session.run("ex01_linear_model", tmp_path / "ex01_linear_model.py", [call("noop")]) == [Returned("ex01 done")]
        assert session.run("ex02_derivative", tmp_path / "ex02_derivative.py", [call("traces")]) == [Returned([None, False, False])]


def test_a_process_that_dies_mid_exercise_is_replaced_for_the_next_probe(runner, tmp_path):
    (tmp_path / "ex01_linear_model.py").write_text("import os\n\ndef leave():\n    os._exit(3)\n\ndef stay():\n    return 'here'\n")
    with runner[0].session(tmp_path) as session:
        outcomes = session.run("ex01_linear_model", tmp_path / "ex01_linear_model.py", [call("leave"), call("stay"), call("leave"), call("stay")])
    assert outcomes == [Lost("exited with status 3"), Returned("here"), Lost("exited with status 3"), Returned("here")]
