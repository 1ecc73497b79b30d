"""Attacks a red-team round got through (issue 12), each as a submission: it must gain nothing, change nothing
outside its scratch folder, and cost the class nothing but its own grade. Real child processes throughout."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest

from grader.model import Lost, Raised, Returned, call
from grader.sandbox import Limits, SandboxRunner, kit_secrets

SECRET = f"instructor-token-{secrets.token_hex(8)}"

ATTACKS = '''
import ctypes, os, socket


def initial_stack():
    """The bytes from argv[0] to the top of the initial stack: the argument and environment strings."""
    libc = ctypes.CDLL(None, use_errno=True)
    address = ctypes.c_void_p.in_dll(libc, "program_invocation_name").value
    reader, writer = os.pipe()
    seen = b""
    while len(seen) < 1 << 20:
        count = libc.write(writer, ctypes.c_void_p(address), 4096 - address % 4096)
        if count <= 0:
            break  # EFAULT: past the top of the stack
        seen += os.read(reader, count)
        address += count
    return seen.decode("latin-1")


def read(path):
    with open(path) as stream:
        return stream.read()[:40]
'''


@pytest.fixture(scope="module")
def places(tmp_path_factory):
    """A system-like root (on the list the child may read) with a copy of the kit installed in it, and a course
    folder on PYTHONPATH holding SUBMISSIONS and OUT, which the grader is given as relative paths."""
    system = tmp_path_factory.mktemp("usr_local_lib")
    kit = system / "python3" / "site-packages"
    for secret in kit_secrets(kit):
        (secret / "hidden").mkdir(parents=True)
        (secret / "hidden" / "ex01_linear_model.py").write_text("ANSWER = 'hidden'\n")
    (kit / "grader" / "public.py").write_text("PUBLIC = 1\n")
    (kit / "numpy_like").mkdir()
    (kit / "numpy_like" / "core.py").write_text("CORE = 1\n")
    (system / "link_to_checks").symlink_to(kit / "grader" / "checks")
    course = tmp_path_factory.mktemp("course")
    for name in ("submissions/alice", "out/alice"):
        (course / name).mkdir(parents=True)
    (course / "submissions" / "alice" / "ex01_linear_model.py").write_text("ALICE = 'mine'\n")
    (course / "out" / "gradebook.csv").write_text("student,total\nalice,158\n")
    return {"system": system, "kit": kit, "course": course}


@pytest.fixture(scope="module")
def sandbox(places):
    """One runner for every attack here, started with a planted secret in the grader's environment, from the
    course folder with relative SUBMISSIONS and OUT."""
    os.environ["GRADER_TEST_SECRET"] = SECRET
    os.environ["PYTHONPATH"], old_path = str(places["course"]), os.environ.get("PYTHONPATH")
    old_directory = os.getcwd()
    os.chdir(places["course"])
    try:
        runner = SandboxRunner(Limits(timeout=5.0), forbidden=[Path("submissions"), Path("out"), *kit_secrets(places["kit"])],
                               readable=[places["system"]])
        runner.warm_up()
    finally:
        os.chdir(old_directory)
        del os.environ["GRADER_TEST_SECRET"]
        if old_path is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = old_path
    with runner:
        yield runner


@pytest.fixture(scope="module")
def attacker(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mallory")
    (folder / "ex01_linear_model.py").write_text(ATTACKS)
    return folder / "ex01_linear_model.py"


def run(sandbox, path, *probes):
    return sandbox.run(path.stem, path, probes)


def test_the_graders_environment_never_reaches_the_zygote_or_a_submission(sandbox, attacker):
    assert SECRET.encode() not in Path(f"/proc/{sandbox._zygote.process.pid}/environ").read_bytes()
    stack, = run(sandbox, attacker, call("initial_stack"))
    assert isinstance(stack, Returned) and "grader.sandbox_child" in stack.value  # the scan reached the strings
    assert SECRET not in stack.value


def denied(outcome) -> bool:
    return isinstance(outcome, Raised) and outcome.type_name == "PermissionError"


def test_hidden_checks_and_solutions_are_unreadable_in_a_kit_installed_under_a_system_root(sandbox, attacker, places):
    kit, system = places["kit"], places["system"]
    public, other_package, *secret = run(sandbox, attacker,
                                         call("read", str(kit / "grader" / "public.py")),
                                         call("read", str(kit / "numpy_like" / "core.py")),
                                         call("read", str(kit / "grader" / "checks" / "hidden" / "ex01_linear_model.py")),
                                         call("read", str(kit / "solutions" / "hidden" / "ex01_linear_model.py")),
                                         call("read", str(system / "link_to_checks" / "hidden" / "ex01_linear_model.py")))
    assert public == Returned("PUBLIC = 1\n") and other_package == Returned("CORE = 1\n")
    assert all(denied(o) for o in secret), secret


def test_relative_submissions_and_out_stay_forbidden_under_a_readable_root(sandbox, attacker, places):
    course = places["course"]
    outcomes = run(sandbox, attacker, call("read", str(course / "submissions" / "alice" / "ex01_linear_model.py")),
                   call("read", str(course / "out" / "gradebook.csv")))
    assert all(denied(o) for o in outcomes), outcomes
