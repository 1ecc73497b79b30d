"""Attacks of the third red-team round (issue 17) that the allow-list and the per-exercise confinement close, each
as a submission run in real sandboxed children. Each test fails with its fix reverted."""

from __future__ import annotations

import ctypes
import os
import py_compile
import importlib.util
from pathlib import Path

import pytest

from grader.instructor import confine
from grader.instructor.sandbox import Limits, SandboxRunner
from grader.instructor.syscall_numbers import NUMBERS
from grader.model import Lost, Returned, call

MACHINE = os.uname().machine
pytestmark = pytest.mark.skipif(MACHINE not in NUMBERS, reason=f"no seccomp filter for {MACHINE}")

ATTACKS = r'''
import ctypes, errno, os

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


def errno_of(result):
    return "ok" if result >= 0 else errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno()))


def not_refused(allowed, kernels_own):
    """Every system call number below 470 off the allow-list, with zero arguments: those not refused with EPERM."""
    own = os.open("own_stdio", os.O_CREAT | os.O_RDWR)
    for fd in (0, 1, 2):  # with the filter broken, fchmod(0, 0) and friends must hit a file of the student's own
        os.dup2(own, fd)
    through = []
    for number in range(470):
        if number in allowed or number in kernels_own:
            continue
        ctypes.set_errno(0)
        result = libc.syscall(ctypes.c_long(number), 0, 0, 0, 0, 0, 0)
        if result != -1 or ctypes.get_errno() != errno.EPERM:
            through.append(number)
    return through


def named(numbers):
    """The attacks of the red-team round, by name: what each call gave."""
    buffer = ctypes.create_string_buffer(256)
    handle = ctypes.create_string_buffer(136)
    ctypes.memmove(handle, (128).to_bytes(4, "little"), 4)
    mount_id = ctypes.c_int()
    results = {
        "io_uring_setup": libc.syscall(numbers["io_uring_setup"], 4, ctypes.byref(ctypes.create_string_buffer(120))),
        "keyctl_read_session": libc.syscall(numbers["keyctl"], 11, -3, buffer, 256),  # KEYCTL_READ @s
        "add_key": libc.syscall(numbers["add_key"], b"user", b"planted", b"x", 1, -3),
        "memfd_create": libc.syscall(numbers["memfd_create"], b"program", 0),
        "execveat": libc.syscall(numbers["execveat"], -100, b"/bin/true", None, None, 0),
        "unshare_user": libc.syscall(numbers["unshare"], 0x10000000),
        "clone_new_user": libc.syscall(numbers["clone"], 0x10000000 | 17, 0, 0, 0, 0),
        "name_to_handle_at": libc.syscall(numbers["name_to_handle_at"], -100, b"/", handle, ctypes.byref(mount_id), 0),
        "socket": libc.syscall(numbers["socket"], 1, 1, 0),
        "chattr": libc.ioctl(os.open("own", os.O_CREAT | os.O_RDWR), 0x40086602, ctypes.byref(ctypes.c_long(0x10))),
    }
    if results["clone_new_user"] == 0:  # a child of a successful clone leaves at once
        libc.syscall(numbers["exit_group"], 0)
    return {name: errno_of(result) for name, result in results.items()}


def threads_and_processes():
    """What a correct submission may do: threads, fork, a pipe, isatty."""
    import threading, sys
    out = []
    thread = threading.Thread(target=lambda: out.append("thread"))
    thread.start()
    thread.join()
    pid = os.fork()
    if pid == 0:
        os._exit(7)
    out.append(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
    out.append(sys.stdout.isatty())
    return out


def leave(text):
    """Write `text` where a later exercise might look: the working folder, HOME and TMPDIR."""
    for folder in {".", os.environ["HOME"], os.environ["TMPDIR"]}:
        with open(os.path.join(folder, "left.txt"), "w") as stream:
            stream.write(text)
    return os.getcwd()


def look(earlier):
    """Everything readable of an earlier exercise's scratch folder and its neighbours."""
    seen = []
    for folder in (earlier, os.path.dirname(os.getcwd()), "."):
        try:
            for name in os.listdir(folder):
                seen.append(name)
                try:
                    with open(os.path.join(folder, name, "left.txt") if os.path.isdir(os.path.join(folder, name)) else os.path.join(folder, name)) as stream:
                        seen.append(stream.read())
                except OSError:
                    pass
        except OSError:
            pass
    return seen


def imported(name):
    import importlib
    try:
        return importlib.import_module(name).VALUE
    except ImportError as error:
        return type(error).__name__


def exits():
    os._exit(3)
'''


@pytest.fixture(scope="module")
def sandbox():
    with SandboxRunner(Limits(timeout=5.0)) as runner:
        yield runner


@pytest.fixture
def attacker(tmp_path):
    for exercise in ("ex01_linear_model", "ex02_derivative"):
        (tmp_path / f"{exercise}.py").write_text(ATTACKS)
    return tmp_path


def run(sandbox, folder, *probes, exercise="ex01_linear_model"):
    return sandbox.run(exercise, folder / f"{exercise}.py", probes)


def test_every_call_off_the_allow_list_is_refused(sandbox, attacker):
    allowed = sorted(NUMBERS[MACHINE].values())
    # x86_64's uretprobe and uprobe (Linux 6.11+) bypass every filter by design and raise SIGILL outside the kernel's
    # own trampoline: they give nothing to a caller
    kernels_own = [335, 336] if MACHINE == "x86_64" else []
    outcome, = run(sandbox, attacker, call("not_refused", allowed, kernels_own))
    assert outcome == Returned([]), outcome


def test_io_uring_keyrings_programs_namespaces_and_handles_are_refused(sandbox, attacker):
    numbers = {"x86_64": {"io_uring_setup": 425, "keyctl": 250, "add_key": 248, "memfd_create": 319, "execveat": 322,
                          "unshare": 272, "clone": 56, "name_to_handle_at": 303, "socket": 41, "exit_group": 231},
               "aarch64": {"io_uring_setup": 425, "keyctl": 219, "add_key": 217, "memfd_create": 279, "execveat": 281,
                           "unshare": 97, "clone": 220, "name_to_handle_at": 264, "socket": 198, "exit_group": 94}}
    outcome, = run(sandbox, attacker, call("named", numbers[MACHINE]))
    assert isinstance(outcome, Returned), outcome
    assert outcome.value == {name: "EPERM" for name in outcome.value}, outcome.value


def test_what_a_correct_submission_does_is_allowed(sandbox, attacker):
    assert run(sandbox, attacker, call("threads_and_processes")) == [Returned(["thread", 7, False])]


def test_a_child_gets_a_session_keyring_of_its_own():
    """Defence in depth behind the filter: the instructor's session keyring is not the child's."""
    libc = ctypes.CDLL(None, use_errno=True)
    keyctl = {"x86_64": 250, "aarch64": 219}[MACHINE]
    get_id = lambda: libc.syscall(ctypes.c_long(keyctl), 0, -3, 1)  # KEYCTL_GET_KEYRING_ID @s, create
    ours = get_id()
    if ours < 0:
        pytest.skip(f"keyctl is refused to this test process itself ({os.strerror(ctypes.get_errno())}): a container's own filter")
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:
        note = confine.own_session_keyring()
        os.write(writer, f"{note}|{get_id()}".encode())
        os._exit(0)
    os.waitpid(pid, 0)
    note, theirs = os.read(reader, 4096).decode().split("|")
    assert note == "None" and int(theirs) > 0 and int(theirs) != ours


def test_an_exercise_sees_nothing_an_earlier_exercise_wrote(sandbox, attacker):
    """ex01's code records a hidden check's input; ex02 must not find it to print in a visible check's message."""
    with sandbox.session(attacker) as session:
        earlier, = session.run("ex01_linear_model", attacker / "ex01_linear_model.py", [call("leave", "hidden input 4.25")])
        assert isinstance(earlier, Returned)
        seen, = session.run("ex02_derivative", attacker / "ex02_derivative.py", [call("look", earlier.value)])
    assert isinstance(seen, Returned) and "hidden input 4.25" not in seen.value, seen


def test_bytecode_handed_in_is_never_imported(sandbox, attacker):
    """An unchecked-hash .pyc compiled from right answers in __pycache__, and a lone .pyc: neither runs."""
    (attacker / "answer.py").write_text("VALUE = 'source'\n")
    right = attacker / "right.py"
    right.write_text("VALUE = 'bytecode'\n")
    cached = importlib.util.cache_from_source(str(attacker / "answer.py"))
    py_compile.compile(str(right), cfile=cached, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    py_compile.compile(str(right), cfile=str(attacker / "sourceless.pyc"))
    right.unlink()
    assert run(sandbox, attacker, call("imported", "answer"), call("imported", "sourceless")) == [
        Returned("source"), Returned("ModuleNotFoundError")]


def test_a_function_that_keeps_ending_the_process_is_not_called_again(sandbox, attacker):
    """Each early end costs a fresh process and a re-import: after a few, the function's later probes are not run,
    and the exercise's other functions still are."""
    ends = sandbox.limits.function_ends
    outcomes = run(sandbox, attacker, *[call("exits") for _ in range(ends + 3)], call("imported", "os"))
    assert outcomes[:ends] == [Lost("exited with status 3")] * ends
    assert outcomes[ends:-1] == [Lost(f"not run: exits ended the exercise's process {ends} times")] * 3
    assert isinstance(outcomes[-1], Lost) is False


def test_an_exercise_whose_process_keeps_ending_costs_a_bounded_time(attacker):
    """Every function ends the process: after `exercise_ends` ends, the exercise's later probes are not run."""
    names = [f"exits_{index}" for index in range(6)]
    (attacker / "ex01_linear_model.py").write_text("import os\n" + "".join(f"\ndef {n}():\n    os._exit(3)\n" for n in names))
    with SandboxRunner(Limits(timeout=5.0, exercise_ends=3)) as runner:
        outcomes = run(runner, attacker, *[call(n) for n in names])
    assert outcomes[:3] == [Lost("exited with status 3")] * 3
    assert outcomes[3:] == [Lost("not run: the exercise's process ended 3 times")] * 3


def test_a_student_whose_code_uses_its_whole_budget_runs_no_more(attacker):
    (attacker / "ex01_linear_model.py").write_text("import time\n\ndef slow():\n    time.sleep(0.6)\n    return 1\n")
    with SandboxRunner(Limits(timeout=5.0, budget=1.0)) as runner:
        outcomes = run(runner, attacker, *[call("slow") for _ in range(6)])
    assert Returned(1) in outcomes and outcomes[-1] == Lost("not run: this student's code used its 1 s in all"), outcomes
