"""Attacks a red-team round got through (issue 12), each as a submission: it must gain nothing, change nothing
outside its scratch folder, and cost the class nothing but its own grade. Real child processes throughout."""

from __future__ import annotations

import os
import secrets
import socket
import zipfile
from pathlib import Path

import pytest

from grader.model import Lost, Raised, Returned, call
from grader.instructor.batch import MAX_TEXT
from grader.instructor.confine import kit_secrets
from grader.instructor.sandbox import Limits, MiB, SandboxRunner

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


def metadata(path):
    """Try every metadata write on `path`; the name of each that was not refused."""
    attempts = {"chmod": lambda: os.chmod(path, 0o6777), "chown": lambda: os.chown(path, 1, 1),
                "utime": lambda: os.utime(path, (0, 0)), "xattr": lambda: os.setxattr(path, "user.pwned", b"1"),
                "capability": lambda: os.setxattr(path, "security.capability", bytes(20)),
                "removexattr": lambda: os.removexattr(path, "user.kept")}
    succeeded = []
    for name, attempt in attempts.items():
        try:
            attempt()
            succeeded.append(name)
        except OSError:  # refused (EPERM), or unmappable in a user namespace (EINVAL for another uid)
            pass
    return succeeded


def capabilities():
    """The effective, permitted and inheritable capability sets of this process (capget)."""
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)
    data = (ctypes.c_uint32 * 6)()
    ctypes.CDLL(None).capget(header, data)
    return list(data)


def unix_connect(path):
    client = socket.socket(socket.AF_UNIX)
    client.connect(path)
    return "connected"


def huge_integer():
    import sympy
    return sympy.Integer(10**1200 + 7) + sympy.Symbol("x")


def huge_power():
    import sympy
    return sympy.Pow(3, 3 * 10**7, evaluate=False)


def many_lists():
    """A frame of millions of empty lists on every socket this process holds (the grader's channel among them)."""
    import stat, struct
    frame = b"[" + b"[]," * 5_000_000 + b"[]]"
    for fd in range(3, 64):
        try:
            if stat.S_ISSOCK(os.fstat(fd).st_mode):
                os.write(fd, struct.pack("!i", len(frame)) + frame)
        except OSError:
            pass
    return "sent"


def fill_scratch(files, size):
    """Write `files` files of `size` bytes in the scratch folder; how many were written, and the error that stopped it."""
    for index in range(files):
        try:
            with open(f"filler{index}", "wb") as stream:
                stream.write(b"x" * size)
        except OSError as error:
            return [index, error.strerror]
    return [files, None]


def held_together(processes, size):
    """How many of `processes` forked processes hold `size` bytes each at the same time, once each has either said
    it holds them or died; "undecided" when the machine is too loaded to tell within 8 s."""
    import select, signal, time
    reader, writer = os.pipe()
    children = []
    for _ in range(processes):
        pid = os.fork()
        if pid == 0:
            held = b"\x01" * size
            os.write(writer, os.getpid().to_bytes(4, "little"))
            time.sleep(60)
            os._exit(len(held) and 0)
        children.append(pid)
    alive, holding, deadline = set(children), set(), time.monotonic() + 8
    while not alive <= holding and time.monotonic() < deadline:
        if select.select([reader], [], [], 0.05)[0]:
            data = os.read(reader, 4)
            holding.add(int.from_bytes(data, "little"))
        alive = {pid for pid in alive if os.waitpid(pid, os.WNOHANG) == (0, 0)}
    result = len(alive) if alive <= holding else "undecided"
    for pid in alive:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    return result


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
    (system / "link_to_checks").symlink_to(kit / "grader" / "instructor" / "checks")
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
        limits = Limits(timeout=10.0, memory=512 * MiB, scratch_size=8 * MiB, scratch_files=200)
        runner = SandboxRunner(limits, forbidden=[Path("submissions"), Path("out"), *kit_secrets(places["kit"])],
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
    assert isinstance(stack, Returned) and "grader.instructor.sandbox_child" in stack.value  # the scan reached the strings
    assert SECRET not in stack.value


def denied(outcome) -> bool:
    return isinstance(outcome, Raised) and outcome.type_name == "PermissionError"


def test_hidden_checks_and_solutions_are_unreadable_in_a_kit_installed_under_a_system_root(sandbox, attacker, places):
    kit, system = places["kit"], places["system"]
    public, other_package, *secret = run(sandbox, attacker,
                                         call("read", str(kit / "grader" / "public.py")),
                                         call("read", str(kit / "numpy_like" / "core.py")),
                                         call("read", str(kit / "grader" / "instructor" / "checks" / "hidden" / "ex01_linear_model.py")),
                                         call("read", str(kit / "solutions" / "hidden" / "ex01_linear_model.py")),
                                         call("read", str(system / "link_to_checks" / "hidden" / "ex01_linear_model.py")))
    assert public == Returned("PUBLIC = 1\n") and other_package == Returned("CORE = 1\n")
    assert all(denied(o) for o in secret), secret


def test_relative_submissions_and_out_stay_forbidden_under_a_readable_root(sandbox, attacker, places):
    """The course folder is on PYTHONPATH: holding OUT and the submissions, it is left out whole."""
    course = places["course"]
    (course / "answer_key.txt").write_text("the instructor's own file\n")
    outcomes = run(sandbox, attacker, call("read", str(course / "submissions" / "alice" / "ex01_linear_model.py")),
                   call("read", str(course / "out" / "gradebook.csv")), call("read", str(course / "answer_key.txt")))
    assert all(denied(o) for o in outcomes), outcomes


@pytest.fixture
def victim(tmp_path):
    """A root-owned file outside every sandbox path, with an extended attribute to lose."""
    path = tmp_path / "host_binary"
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    os.setxattr(path, "user.kept", b"1")
    return path


def test_no_metadata_write_reaches_a_file_outside_the_sandbox(sandbox, attacker, victim):
    before = victim.stat()
    succeeded, = run(sandbox, attacker, call("metadata", str(victim)))
    assert succeeded == Returned([])
    after = victim.stat()
    assert (after.st_mode, after.st_uid, after.st_mtime_ns) == (before.st_mode, before.st_uid, before.st_mtime_ns)
    assert os.listxattr(victim) == ["user.kept"]


def test_the_child_holds_no_capability(sandbox, attacker):
    assert run(sandbox, attacker, call("capabilities")) == [Returned([0] * 6)]


def test_a_pathname_unix_socket_outside_is_not_reached(sandbox, attacker, tmp_path):
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(tmp_path / "agent.sock"))
    listener.listen()
    listener.setblocking(False)
    try:
        outcome, = run(sandbox, attacker, call("unix_connect", str(tmp_path / "agent.sock")))
        assert denied(outcome), outcome
        with pytest.raises(BlockingIOError):
            listener.accept()
    finally:
        listener.close()


def test_as_a_normal_user_the_filter_refuses_changing_ones_own_files(tmp_path):
    """What a non-root grader's child is: the owner of OUT. Landlock does not cover chmod; the filter does."""
    from grader.instructor import confine

    owned = tmp_path / "out"
    owned.mkdir()
    os.chown(owned, 65534, 65534)
    pid = os.fork()
    if pid == 0:  # an unprivileged process, as the sandboxed child of a normal user's grader is
        try:
            os.setgid(65534)
            os.setuid(65534)
            code = 3 if confine.allow_listed_system_calls() else 0
            for change in (lambda: os.chmod(owned, 0o500), lambda: os.utime(owned, (0, 0)), lambda: socket.socket(socket.AF_UNIX)):
                try:
                    change()
                    code = code or 1
                except PermissionError:
                    pass
        finally:
            os._exit(locals().get("code", 2))
    _, state = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(state) == 0
    assert owned.stat().st_mode & 0o777 != 0o500


def test_answers_too_large_to_judge_are_refused_when_decoded(sandbox, attacker):
    integer, power = run(sandbox, attacker, call("huge_integer"), call("huge_power"))
    assert integer == Lost("the probe sent back data the grader cannot read (a number of more than 60 digits)")
    assert power == Lost("the probe sent back data the grader cannot read (a power that evaluates to a number of more than 400 digits)")


def test_a_frame_of_millions_of_lists_is_refused_before_the_parent_parses_it(sandbox, attacker):
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    flooded, after_flood = run(sandbox, attacker, call("many_lists"), call("read", str(attacker)))
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert flooded == Lost("sent back more than 100000 lists and objects")
    assert isinstance(after_flood, Returned)  # the next probe runs in a fresh child
    assert grown < 100 * 1024, f"the parent grew by {grown} KiB"  # parsed, the frame would take ~350 MB


def test_filling_the_scratch_folder_fills_only_this_students_own(sandbox, attacker):
    space, inodes = run(sandbox, attacker, call("fill_scratch", 20, 1 * MiB), call("fill_scratch", 1000, 0))
    assert isinstance(space, Returned) and space.value[1] == "No space left on device" and space.value[0] <= 8, space
    assert isinstance(inodes, Returned) and inodes.value[1] == "No space left on device" and inodes.value[0] <= 200, inodes


def test_processes_of_one_student_share_one_memory_limit(sandbox, attacker):
    """Four processes of 300 MiB each fit a 512 MiB limit per process, not one of 512 MiB in all."""
    alive, = run(sandbox, attacker, call("held_together", 4, 300 * MiB))
    if alive == Returned("undecided"):
        pytest.skip("the machine was too loaded for the four processes to allocate within 8 s")
    assert alive == Returned(1) or alive == Returned(0), alive


# ------------------------------------------------------------------------------------------- a whole class

MALLORY = r'''

def forward(x, w):
    """Forges an ending on every socket it holds (the grader's channel among them), then answers."""
    import json, stat, struct
    frame = json.dumps({"ended": {"signal": "not a number"}}).encode()
    for fd in range(3, 64):
        try:
            if stat.S_ISSOCK(os.fstat(fd).st_mode):
                os.write(fd, struct.pack("!i", len(frame)) + frame)
        except OSError:
            pass
    return x * w


def loss(x, y, w):
    raise ValueError("bad \ud800 value")


def cost(xs, ys, w):
    return type("x" * (10 * 2**20), (), {})()  # its type's name crosses the wire and into the message
'''


@pytest.fixture(scope="module")
def hostile_names(tmp_path_factory):
    """A class whose names and answers attack the class's outputs, graded twice (the second run regrades all)."""
    from grader.instructor.batch import grade

    root = Path(__file__).resolve().parent.parent
    solution = (root / "solutions" / "ex01_linear_model.py").read_text()
    base = tmp_path_factory.mktemp("names")
    submissions, out = base / "submissions", base / "out"
    for student, text in {"alice": solution, "gradebook.csv": solution, "mallory": "import os\n" + solution + MALLORY}.items():
        (submissions / student).mkdir(parents=True)
        (submissions / student / "ex01_linear_model.py").write_text(text)
    with zipfile.ZipFile(submissions / "alice.zip", "w") as archive:
        archive.writestr("ex01_linear_model.py", "raise SystemExit('not alice')\n")
    with zipfile.ZipFile(submissions / "summary.html.zip", "w") as archive:
        archive.writestr("ex01_linear_model.py", solution)
    (submissions / "refused name").mkdir()  # not a safe file name: refused, with a row of its own
    codes = [grade(submissions=submissions, out=out, workers=2, timeout=5.0, force=True, seed=7, progress=False) for _ in range(2)]
    return out, codes


def ex01_points(out: Path, folder: str) -> float:
    import json

    return sum(r["score"] for r in json.loads((out / folder / "record.json").read_text())["results"] if r["exercise"] == "ex01_linear_model")


def test_students_named_like_the_class_files_are_graded_beside_them(hostile_names):
    import csv

    out, codes = hostile_names
    assert codes == [0, 0]
    assert (out / "gradebook.csv").is_file() and (out / "summary.html").is_file()
    rows = {row["student"]: row for row in csv.DictReader((out / "gradebook.csv").open())}
    assert set(rows) - {"alice", "gradebook.csv", "mallory", "summary.html"} == {next(r for r in rows if r.startswith("refused_"))}
    full = ex01_points(out, "alice")
    assert full > 0
    for student in ("gradebook.csv", "summary.html"):
        assert ex01_points(out, f"{student}~student") == full
        assert float(rows[student]["ex01_linear_model"]) == full


def test_a_zip_beside_a_folder_of_the_same_name_is_ignored_and_said_so(hostile_names):
    out, _ = hostile_names
    assert "not alice" not in (out / "alice" / "record.json").read_text()
    assert "alice.zip was ignored: the folder alice/ beside it was graded" in (out / "summary.html").read_text()


def test_forged_endings_lone_surrogates_and_huge_answers_cost_only_their_own_checks(hostile_names):
    import json

    out, _ = hostile_names
    record = json.loads((out / "mallory" / "record.json").read_text())
    assert ex01_points(out, "mallory") > 0  # the checks of her untouched functions passed
    messages = {r["name"]: r["message"] for r in record["results"] if r["exercise"] == "ex01_linear_model"}
    assert "sent back malformed data" in messages["forward"]
    assert "\\ud800" in messages["loss"]
    assert messages["cost"].endswith("more characters cut]") and len(messages["cost"]) < MAX_TEXT + 100
    for name in ("record.json", "results.json", "feedback.html"):
        assert (out / "mallory" / name).stat().st_size < 1 << 20


def test_a_refused_student_has_the_same_maximum_as_the_class(hostile_names):
    """Checks this machine skips (CUDA) count in no one's maximum, a refused student's included."""
    import csv

    out, _ = hostile_names
    rows = list(csv.DictReader((out / "gradebook.csv").open()))
    refused = next(r for r in rows if r["student"].startswith("refused_"))
    assert float(refused["total"]) == 0
    assert {r["max_total"] for r in rows} == {refused["max_total"]}
