"""The parent side of the sandbox: run a submission's probes in confined child processes, judge nothing there.

`SandboxRunner.session(folder)` is a `ProbeRunner` (see `grader.runner`) for one student. It asks a zygote that has
already imported numpy, sympy, torch and the probe recipes for a child (`grader.instructor.sandbox_child`), which holds
the student's limits and namespaces; each exercise then runs in a fresh fork of that child that confines itself (its
own scratch folder under Landlock, the allow-list filter), so no exercise sees what another left behind. One
submission cannot multiply the class's time: restarts per function and per exercise, and a student's whole time, are
bounded (`Limits`). Exercises with probes on the GPU hold a GPU slot (`grader.gpu.Slots`). Requests and answers are length-prefixed JSON (`grader.instructor.protocol`); the parent never unpickles anything a child
sends, enforces every time limit itself with a deadline, and kills the child's whole process tree (its PID
namespace) when a probe runs too long. When an exercise's process dies, the probe in flight is `Lost` with what
happened, and the remaining probes go on in a fresh one.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from grader.instructor import confine, protocol
from grader import gpu
from grader.model import Lost, Outcome, Probe, Raised, Unavailable
from grader.probes import wants_cuda
from grader.runner import DEFAULT_TIMEOUT, IMPORT_HINT, outcome_from_wire, probe_request_json

KIT_ROOT = Path(__file__).resolve().parents[2]
MiB, GiB = 1 << 20, 1 << 30
ZYGOTE_VARIABLES = ("PATH", "LANG", "LC_ALL", "LD_LIBRARY_PATH", "CUDA_VISIBLE_DEVICES", confine.AUDIT_VARIABLE)


@dataclass(frozen=True)
class Limits:
    """What one child may use: seconds per probe; memory (address space above the warm interpreter per process, and
    all its processes together); file, scratch and answer sizes."""

    timeout: float = DEFAULT_TIMEOUT
    memory: int = 2 * GiB
    file_size: int = 16 * MiB
    processes: int = 256  # tasks (processes and threads) in the child's cgroup
    answer_size: int = 16 * MiB  # a frame; the sample class's largest is 80 KiB
    scratch_size: int = 64 * MiB
    scratch_files: int = 1000
    gpu: bool = True  # admit the GPU's device files (where there are any); `--no-gpu` says False
    gpu_memory: int = 4 * GiB  # GPU memory one exercise process may allocate (torch's per-process fraction)
    function_ends: int = 2  # early ends of the exercise's process one function may cause before it is not called again
    exercise_ends: int = 8  # early ends of one exercise's process before its later probes are not run
    budget: float | None = None  # seconds of one student's code in all; None: 12 timeouts

    @property
    def student_seconds(self) -> float:
        return self.budget if self.budget is not None else 12 * self.timeout


class ChildGone(Exception):
    """The child stopped answering; `reason` says how (timed out, exited, crashed)."""

    def __init__(self, reason: str, timed_out: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.timed_out = timed_out


class Zygote:
    """A warm process (`python -m grader.instructor.sandbox_child`) that forks the children; it never runs a student's code."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        self.process = subprocess.Popen([sys.executable, "-m", "grader.instructor.sandbox_child", str(theirs.fileno())],
                                        pass_fds=[theirs.fileno()], cwd=KIT_ROOT, env=zygote_environment(), stdin=subprocess.DEVNULL)
        theirs.close()
        self.control = ours
        self.lock = threading.Lock()
        self.forked = False

    def fork(self, spec: dict, fds: Sequence[int]) -> int:
        """A new keeper process running `spec`, holding `fds` (channel, ends, status); returns its pid."""
        with self.lock:
            self.forked = True
            socket.send_fds(self.control, [json.dumps(spec).encode()], list(fds))
            try:
                answer = protocol.read_exactly(self.control.fileno(), protocol.HEADER.size)
            except EOFError:
                raise RuntimeError("the sandbox's zygote process died; see the messages above") from None
        return protocol.HEADER.unpack(answer)[0]

    def close(self) -> None:
        self.control.close()
        if not self.forked:  # perhaps still warming up, and never needed: no reason to wait for it
            self.process.kill()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def zygote_environment() -> dict[str, str]:
    """The few variables the zygote needs; nothing else of the grader's environment (an instructor's tokens) is
    copied onto the initial stack of the processes that run students' code. PYTHONPATH entries are made absolute
    here, where relative ones mean what the instructor meant."""
    environment = {name: os.environ[name] for name in ZYGOTE_VARIABLES if name in os.environ}
    entries = [str(Path(p).resolve()) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    environment["PYTHONPATH"] = os.pathsep.join([str(KIT_ROOT), *entries])
    return environment


def size_text(size: int) -> str:
    return f"{size / GiB:g} GiB" if size >= GiB else f"{size / MiB:g} MiB"


class ExerciseEnded(Exception):
    """The exercise's process ended while a probe ran (the student's confined child is still there)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Child:
    """One student's confined process tree; it runs each exercise in a fresh fork of itself.

    Three descriptors lead to it: the channel (requests out, answers in; the student's code can write on it), `ends`
    (the sandboxed PID 1 reports each exercise process's ending) and `status` (the keeper reports the whole child's
    ending). Only the channel is ever open in a process running the student's code.
    """

    def __init__(self, zygote: Zygote, folder: Path, scratch: Path, limits: Limits, forbidden: Sequence[Path],
                 roots: Sequence[str]) -> None:
        self.limits, self.scratch = limits, scratch
        self.cgroup = f"grader-sandbox-{os.getpid()}-{id(self):x}"
        mine, theirs = socket.socketpair()
        ends_reader, ends_writer = os.pipe()
        status_reader, status_writer = os.pipe()
        spec = {"folder": str(folder), "scratch": str(scratch), "kit_root": str(KIT_ROOT),
                "forbidden": [str(p) for p in forbidden], "roots": list(roots), "cgroup": self.cgroup,
                "limits": dataclasses.asdict(limits)}  # rebuilt as `Limits` on the other side
        try:
            self.pid = zygote.fork(spec, [theirs.fileno(), ends_writer, status_writer])
        finally:
            theirs.close()
            os.close(ends_writer)
            os.close(status_writer)
        self.channel, self.ends, self.status = mine, ends_reader, status_reader
        self.fd = mine.fileno()
        os.set_blocking(self.fd, False)
        self.next_id = 0

    def receive(self, timeout: float, what: str) -> dict:
        """The next message within `timeout` seconds: from the channel, else an `ended` from the ends pipe."""
        deadline = time.monotonic() + timeout
        try:
            readable = select.select([self.fd, self.ends], [], [], timeout)[0]
            if not readable:
                raise TimeoutError
            if self.fd not in readable:
                return self._ending(deadline, what)
            message = protocol.receive(self.fd, deadline, self.limits.answer_size)
        except TimeoutError:
            raise ChildGone(f"timed out after {timeout:g} s{what}", timed_out=True) from None
        except EOFError:
            raise ChildGone(self._death(what)) from None
        except protocol.FrameTooLarge:
            raise ChildGone(f"sent back more than {size_text(self.limits.answer_size)}{what}") from None
        except protocol.FrameTooComplex as error:
            raise ChildGone(f"sent back {error}{what}") from None
        except (ValueError, RecursionError):
            raise ChildGone(f"sent back data the grader cannot read{what}") from None
        if not isinstance(message, dict) or protocol.ENDED in message:  # an ending on the channel is forged
            raise ChildGone(f"sent back malformed data{what}")
        return message

    def _ending(self, deadline: float, what: str) -> dict:
        """An exercise process's ending from the ends pipe; then whatever it left unread on the channel is dropped."""
        message = protocol.receive(self.ends, deadline, 4096)
        if not isinstance(message, dict) or protocol.ENDED not in message:
            raise ChildGone(f"the sandbox sent back malformed data{what}")
        try:
            while os.read(self.fd, protocol.CHUNK):
                pass
        except BlockingIOError:
            pass
        return message

    def _death(self, what: str) -> str:
        """How the sandboxed process ended, from the keeper's report."""
        report = None
        if protocol.ready(self.status, 2.0):
            try:
                report = protocol.receive(self.status, time.monotonic() + 1.0, 4096)
            except (OSError, EOFError, TimeoutError, ValueError):
                report = None
        return self.describe_ending(report, what)

    def describe_ending(self, report: object, what: str) -> str:
        """A sentence for a process's ending ({"signal": n} or {"exit": code})."""
        if isinstance(report, dict) and isinstance(report.get("signal"), int):
            number = report["signal"]
            if number == signal.SIGKILL:
                return f"killed (SIGKILL; the memory limit is {size_text(self.limits.memory)}){what}"
            try:
                name = signal.Signals(number).name
            except ValueError:
                name = f"signal {number}"
            return f"crashed with signal {name}{what}"
        if isinstance(report, dict) and isinstance(report.get("exit"), int):
            return f"exited with status {report['exit']}{what}"
        return f"the process running it died{what}"

    # ------------------------------------------------------------------------------------------ protocol

    def start(self) -> list[str]:
        """Wait for the child to confine itself; its notes on mechanisms missing here. `ChildGone` if it does not."""
        ready = self.receive(self.limits.timeout + 5.0, " while starting the sandbox")
        notes = ready.get(protocol.READY)
        return [str(n)[:300] for n in notes] if isinstance(notes, list) else []

    def _request(self, request: dict | bytes, timeout: float, what: str = "") -> None:
        try:
            protocol.send(self.fd, request, time.monotonic() + timeout)
        except TimeoutError:
            raise ChildGone(f"timed out after {timeout:g} s{what}", timed_out=True) from None
        except EOFError:
            raise ChildGone(self._death(what)) from None

    def load(self, exercise: str, path: Path, on_gpu: bool = False) -> str | None:
        """Fork a fresh process for `exercise` (starting CUDA in it first with `on_gpu`) and load the student's file in
        it: None, or why loading failed."""
        request = {"exercise": exercise, "path": str(path), "gpu": on_gpu}
        self._request({protocol.LOAD: request}, self.limits.timeout + (30.0 if on_gpu else 0.0), " during import")
        loaded = self.receive(self.limits.timeout + (30.0 if on_gpu else 0.0), " during import")
        if protocol.ENDED in loaded:
            return self.describe_ending(loaded[protocol.ENDED], " during import")
        if protocol.LOAD_FAILED in loaded:
            self._ended(" after a failed import")
            return str(loaded[protocol.LOAD_FAILED])[:2000]
        if loaded != {protocol.LOADED: True}:  # something the file wrote on the channel while it was imported
            raise ChildGone("wrote on the grader's channel during import (a file must not write to descriptors it did not open)")
        return None

    def ask(self, probe: Probe) -> Outcome:
        """Run one probe in the exercise's process; `ExerciseEnded` if it died, `ChildGone` if nothing answers."""
        timeout = probe.timeout or self.limits.timeout
        self.next_id += 1
        self._request(b'{"id": %d, "%s": %s}' % (self.next_id, protocol.PROBE.encode(), probe_request_json(probe)), timeout)
        message = self.receive(timeout, "")
        if protocol.ENDED in message:
            raise ExerciseEnded(self.describe_ending(message[protocol.ENDED], ""))
        if message.get("id") != self.next_id or protocol.ANSWER not in message:
            raise ChildGone("the probe sent back malformed data")
        return outcome_from_wire(message[protocol.ANSWER])

    def unload(self) -> None:
        """End the exercise's process (the child stays, ready for the student's next exercise)."""
        self._request({protocol.STOP: True}, self.limits.timeout)
        self._ended("")

    def _ended(self, what: str) -> None:
        message = self.receive(self.limits.timeout, f" while ending the exercise's process{what}")
        if protocol.ENDED not in message:
            raise ChildGone(f"the exercise's process sent back malformed data{what}")

    def stop(self) -> None:
        """Kill the child's whole tree (its PID namespace dies with it) and release everything it held."""
        for kill in (os.killpg, os.kill):
            try:
                kill(self.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.channel.close()
        os.close(self.ends)
        # the keeper's end of the status pipe closes when it is gone (its sandboxed child is gone before it)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and protocol.ready(self.status, deadline - time.monotonic()):
            if not os.read(self.status, 4096):
                break
        os.close(self.status)
        confine.remove_cgroup(self.cgroup)


class SandboxRunner:
    """Runs students' probes in confined, warm-started child processes; `notes` lists missing mechanisms.

    `session(folder)` gives the `ProbeRunner` for one student (one child for all their exercises); `run` is the
    same for a single exercise. `forbidden` adds paths no child may read (OUT, SUBMISSIONS) to the kit's secrets;
    `readable` adds roots a child may read (beside Python and the system libraries), forbidden paths carved out.
    """

    def __init__(self, limits: Limits | None = None, *, timeout: float | None = None, forbidden: Sequence[Path] = (),
                 scratch_root: Path | None = None, readable: Sequence[Path] = (), gpu_slots: int | None = None) -> None:
        limits = limits or Limits()
        self.limits = dataclasses.replace(limits, timeout=timeout) if timeout else limits
        # at most `gpu_slots` students on the GPU at once (default: one per device), where checks run on it here
        using_gpu = self.limits.gpu and gpu.available()
        self.gpu_slots = gpu.Slots(gpu_slots or gpu.device_count()) if using_gpu else None
        # resolved now: the child changes into its scratch folder before it reads them
        self.forbidden = [p.resolve() for p in (*confine.kit_secrets(KIT_ROOT), *forbidden)]
        self.roots = [*confine.SYSTEM_READABLE, *(str(p.resolve()) for p in readable)]
        self._zygote: Zygote | None = None  # started when the first child is needed
        self._scratch_root = Path(tempfile.mkdtemp(prefix="grader-scratch-", dir=scratch_root)).resolve()
        self._notes: dict[str, None] = {}
        self._lock = threading.Lock()
        self._live: set[Child] = set()
        self._counter = 0
        self.closed = False

    @property
    def notes(self) -> list[str]:
        return list(self._notes)

    def warm_up(self) -> None:
        """Start the zygote now (it takes seconds to import and warm torch), rather than for the first child."""
        with self._lock:
            if self._zygote is None:
                self._zygote = Zygote()

    def session(self, folder: Path) -> "Session":
        """The probe runner for the student whose files are in `folder`; close it (or use `with`) when done."""
        return Session(self, folder.resolve())

    def run(self, exercise: str, path: Path, probes: Sequence[Probe]) -> list[Outcome]:
        """One exercise of one student in a session of its own."""
        with self.session(path.parent) as session:
            return session.run(exercise, path, probes)

    def start_child(self, folder: Path) -> Child:
        """A new confined child for the student in `folder` (an absolute path); `ChildGone` if it cannot confine itself."""
        with self._lock:
            self._counter += 1
            scratch = self._scratch_root / f"{self._counter}"
        self.warm_up()
        scratch.mkdir()
        child = Child(self._zygote, folder, scratch, self.limits, self.forbidden, self.roots)
        with self._lock:
            self._live.add(child)
        try:
            notes = child.start()
        except ChildGone:
            self.stop_child(child)
            raise
        for note in notes:
            self._notes.setdefault(note)
        return child

    def stop_child(self, child: Child | None) -> None:
        if child is None:
            return
        child.stop()
        with self._lock:
            self._live.discard(child)
        shutil.rmtree(child.scratch, ignore_errors=True)

    def close(self) -> None:
        """Kill every child still running and remove the scratch folders."""
        self.closed = True
        with self._lock:
            live = list(self._live)
        for child in live:
            try:
                child.stop()
            except Exception:  # noqa: BLE001 - closing must reach every child
                pass
        if self._zygote is not None:
            self._zygote.close()
        shutil.rmtree(self._scratch_root, ignore_errors=True)

    def __enter__(self) -> "SandboxRunner":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Session:
    """A `ProbeRunner` for one student: one confined child, a fresh process of it for each exercise."""

    def __init__(self, sandbox: SandboxRunner, folder: Path) -> None:
        self.sandbox, self.folder = sandbox, folder
        self.child: Child | None = None
        self.started = time.monotonic()

    def run(self, exercise: str, path: Path, probes: Sequence[Probe]) -> list[Outcome]:
        """One outcome per probe (`_run`); an exercise with probes on `cuda` waits for a GPU slot and holds it."""
        slots = self.sandbox.gpu_slots
        if slots is None or not any(wants_cuda(p.params) for p in probes):
            return self._run(exercise, path, probes)
        with slots.held():
            outcomes = self._run(exercise, path, probes, on_gpu=True)
        for outcome in outcomes:
            if isinstance(outcome, Unavailable):
                self.sandbox._notes.setdefault(f"CUDA checks were skipped for a student: {outcome.reason}")
        return outcomes

    def _run(self, exercise: str, path: Path, probes: Sequence[Probe], on_gpu: bool = False) -> list[Outcome]:
        """One outcome per probe; a stuck function costs its timeout once, then its later probes fail at once.

        One submission cannot multiply the class's time (each early end of the exercise's process, a crash, an
        `os._exit`, a timeout, costs a fresh process and a re-import): a function that ended it
        `Limits.function_ends` times is not called again, after `Limits.exercise_ends` ends the exercise's later
        probes are not run, and once the student's code has used `Limits.student_seconds` in all, nothing more of
        theirs runs.
        """
        if self.sandbox.closed:
            return [Lost("not run: grading was interrupted")] * len(probes)
        if not path.is_file():
            return [Lost(f"file not submitted: {path.name} was not found", whole_file=True)] * len(probes)
        if path.resolve().parent != self.folder:
            raise ValueError(f"{path} is not in this session's folder {self.folder}")
        limits = self.sandbox.limits
        outcomes: list[Outcome] = []
        timed_out: set[str] = set()
        ended_by: Counter[str] = Counter()  # early ends of the exercise's process, by the function that caused them
        loaded, ends = False, 0
        try:
            for probe in probes:
                caller = probe.function or probe.recipe
                if probe.function in timed_out:
                    outcomes.append(Lost(f"not run: {probe.function} timed out earlier"))
                    continue
                if ended_by[caller] >= limits.function_ends:
                    outcomes.append(Lost(f"not run: {caller} ended the exercise's process {limits.function_ends} times"))
                    continue
                if ends >= limits.exercise_ends:
                    outcomes.append(Lost(f"not run: the exercise's process ended {ends} times"))
                    continue
                if time.monotonic() - self.started > limits.student_seconds:
                    outcomes.append(Lost(f"not run: this student's code used its {limits.student_seconds:g} s in all"))
                    continue
                if not loaded:
                    failure = self._load(exercise, path.resolve(), on_gpu)
                    if failure is not None:
                        return outcomes + [Lost(failure, whole_file=True)] * (len(probes) - len(outcomes))
                    loaded = True
                try:
                    outcome = self.child.ask(probe)
                except (ExerciseEnded, ChildGone) as ended:
                    outcome, loaded, ends = Lost(ended.reason), False, ends + 1
                    ended_by[caller] += 1
                    if isinstance(ended, ChildGone):
                        if ended.timed_out and probe.function:
                            timed_out.add(probe.function)
                        self._discard_child()
                if isinstance(outcome, Raised) and outcome.type_name == "MemoryError":
                    outcome = Lost(f"killed: memory limit {size_text(limits.memory)}")
                    self._unload()
                    loaded = False
                outcomes.append(outcome)
        finally:
            if loaded:
                self._unload()
        return outcomes

    def _load(self, exercise: str, path: Path, on_gpu: bool = False) -> str | None:
        """Load `exercise` in a fresh process of the child (started now if need be): None, or why it failed."""
        try:
            if self.child is None:
                self.child = self.sandbox.start_child(self.folder)
            return self.child.load(exercise, path, on_gpu)
        except ChildGone as gone:  # its reason names the phase: starting the sandbox, or the import
            self._discard_child()
            return f"{gone.reason}: {IMPORT_HINT}" if gone.timed_out and gone.reason.endswith(" during import") else gone.reason

    def _unload(self) -> None:
        """End the exercise's process."""
        try:
            if self.child is not None:
                self.child.unload()
        except ChildGone:
            self._discard_child()

    def _discard_child(self) -> None:
        child, self.child = self.child, None
        self.sandbox.stop_child(child)

    def close(self) -> None:
        self._discard_child()

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
