"""The parent side of the sandbox: run a submission's probes in confined child processes, judge nothing there.

`SandboxRunner` is a `ProbeRunner` (see `grader.runner`). For each exercise of each student it asks a zygote
that has already imported numpy, sympy, torch and the probe recipes for a fresh child (`grader.sandbox_child`),
which confines itself and loads the student's file. Requests and answers are length-prefixed JSON on a socket; the
parent never unpickles anything a child sends, enforces every time limit itself with a deadline, and kills the
child's whole process tree (its PID namespace) when a probe runs too long. When a child dies, the probe in flight is
`Lost` with what happened, and the remaining probes go on in a fresh child.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from grader.model import Lost, Outcome, Probe, Raised
from grader.runner import DEFAULT_TIMEOUT, outcome_from_wire, probe_request

KIT_ROOT = Path(__file__).resolve().parent.parent
MiB, GiB = 1 << 20, 1 << 30


@dataclass(frozen=True)
class Limits:
    """What one child may use: seconds per probe, address space above the warm interpreter, file and answer sizes."""

    timeout: float = DEFAULT_TIMEOUT
    memory: int = 2 * GiB
    file_size: int = 16 * MiB
    processes: int = 256  # tasks (processes and threads) in the child's cgroup
    answer_size: int = 64 * MiB


class ChildGone(Exception):
    """The child stopped answering; `reason` says how (timed out, exited, crashed)."""

    def __init__(self, reason: str, timed_out: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.timed_out = timed_out


class Zygote:
    """A warm process (`python -m grader.sandbox_child`) that forks the children; it never runs a student's code."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        environment = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(KIT_ROOT), os.environ.get("PYTHONPATH")])))
        self.process = subprocess.Popen([sys.executable, "-m", "grader.sandbox_child", str(theirs.fileno())],
                                        pass_fds=[theirs.fileno()], cwd=KIT_ROOT, env=environment, stdin=subprocess.DEVNULL)
        theirs.close()
        self.control = ours
        self.lock = threading.Lock()

    def fork(self, spec: dict, fds: Sequence[int]) -> int:
        """A new keeper process running `spec`, holding `fds` (channel, status); returns its pid."""
        with self.lock:
            socket.send_fds(self.control, [json.dumps(spec).encode()], list(fds))
            answer = b""
            while len(answer) < 4:
                chunk = self.control.recv(4 - len(answer))
                if not chunk:
                    raise RuntimeError("the sandbox's zygote process died; see the messages above")
                answer += chunk
        return struct.unpack("!i", answer)[0]

    def close(self) -> None:
        self.control.close()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def size_text(size: int) -> str:
    return f"{size / GiB:g} GiB" if size >= GiB else f"{size / MiB:g} MiB"


class Child:
    """One confined child process running one student's file for one exercise."""

    def __init__(self, zygote: Zygote, exercise: str, path: Path, scratch: Path, limits: Limits, forbidden: Sequence[Path]) -> None:
        self.limits, self.scratch = limits, scratch
        self.cgroup = f"grader-sandbox-{os.getpid()}-{id(self):x}"
        mine, theirs = socket.socketpair()
        status_reader, status_writer = os.pipe()
        spec = {"exercise": exercise, "path": str(path), "scratch": str(scratch), "kit_root": str(KIT_ROOT),
                "forbidden": [str(p) for p in forbidden], "memory": limits.memory, "file_size": limits.file_size,
                "processes": limits.processes, "cgroup": self.cgroup}
        try:
            self.pid = zygote.fork(spec, [theirs.fileno(), status_writer])
        finally:
            theirs.close()
            os.close(status_writer)
        self.channel, self.status = mine, status_reader
        self.fd = mine.fileno()
        os.set_blocking(self.fd, False)
        self.next_id = 0

    # ------------------------------------------------------------------------------------------ framing

    def _send(self, payload: bytes, deadline: float) -> None:
        data = struct.pack("!i", len(payload)) + payload
        while data:
            _, ready, _ = select.select([], [self.fd], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise TimeoutError
            try:
                data = data[os.write(self.fd, data):]
            except BlockingIOError:
                continue
            except OSError:
                raise EOFError from None

    def _read_exactly(self, count: int, deadline: float) -> bytes:
        chunks, missing = [], count
        while missing:
            ready, _, _ = select.select([self.fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise TimeoutError
            try:
                chunk = os.read(self.fd, min(missing, 1 << 20))
            except BlockingIOError:
                continue
            except OSError:
                raise EOFError from None
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            missing -= len(chunk)
        return b"".join(chunks)

    def receive(self, timeout: float, what: str) -> dict:
        """One JSON message from the child, within `timeout` seconds; `ChildGone` otherwise."""
        deadline = time.monotonic() + timeout
        try:
            size, = struct.unpack("!i", self._read_exactly(4, deadline))
            if size < 0 or size > self.limits.answer_size:
                raise ChildGone(f"sent back more than {size_text(self.limits.answer_size)}{what}")
            message = json.loads(self._read_exactly(size, deadline))
        except TimeoutError:
            raise ChildGone(f"timed out after {timeout:g} s{what}", timed_out=True) from None
        except EOFError:
            raise ChildGone(self._death(what)) from None
        except (ValueError, RecursionError):
            raise ChildGone(f"sent back data the grader cannot read{what}") from None
        if not isinstance(message, dict):
            raise ChildGone(f"sent back malformed data{what}")
        return message

    def _death(self, what: str) -> str:
        """How the sandboxed process ended, from the keeper's report."""
        report = None
        if select.select([self.status], [], [], 2.0)[0]:
            try:
                report = json.loads(os.read(self.status, 1024)[4:])
            except (OSError, ValueError):
                report = None
        if not isinstance(report, dict):
            return f"the process running it died{what}"
        if "signal" in report:
            number = int(report["signal"])
            if number == signal.SIGKILL:
                return f"killed (SIGKILL; the memory limit is {size_text(self.limits.memory)}){what}"
            try:
                name = signal.Signals(number).name
            except ValueError:
                name = f"signal {number}"
            return f"crashed with signal {name}{what}"
        return f"exited with status {report.get('exit')}{what}"

    # ------------------------------------------------------------------------------------------ protocol

    def start(self) -> tuple[list[str], str | None]:
        """Wait for the child to confine itself and load the file: (notes, None) or (notes, why loading failed)."""
        ready = self.receive(self.limits.timeout + 5.0, " while starting the sandbox")
        notes = [str(n)[:300] for n in ready.get("ready", [])] if isinstance(ready.get("ready"), list) else []
        loaded = self.receive(self.limits.timeout, " during import")
        if "load_failed" in loaded:
            return notes, str(loaded["load_failed"])[:2000]
        return notes, None

    def ask(self, probe: Probe) -> Outcome:
        """Run one probe in the child; `ChildGone` when it does not answer."""
        timeout = probe.timeout or self.limits.timeout
        self.next_id += 1
        request = probe_request(probe) | {"id": self.next_id, "timeout": None}
        try:
            self._send(json.dumps(request, allow_nan=False).encode(), time.monotonic() + timeout)
        except TimeoutError:
            raise ChildGone(f"timed out after {timeout:g} s", timed_out=True) from None
        except EOFError:
            raise ChildGone(self._death("")) from None
        message = self.receive(timeout, "")
        if message.get("id") != self.next_id or "answer" not in message:
            raise ChildGone("the probe sent back malformed data")
        return outcome_from_wire(message["answer"])

    def stop(self) -> None:
        """Kill the child's whole tree (its PID namespace dies with it) and release everything it held."""
        from grader import confine

        for kill in (os.killpg, os.kill):
            try:
                kill(self.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.channel.close()
        # the keeper's end of the status pipe closes when it is gone (its sandboxed child is gone before it)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and select.select([self.status], [], [], deadline - time.monotonic())[0]:
            if not os.read(self.status, 4096):
                break
        os.close(self.status)
        confine.remove_cgroup(self.cgroup)


class SandboxRunner:
    """A `ProbeRunner` whose probes run in confined, warm-started child processes; `notes` lists missing mechanisms."""

    def __init__(self, limits: Limits | None = None, *, timeout: float | None = None, forbidden: Sequence[Path] = (),
                 scratch_root: Path | None = None) -> None:
        limits = limits or Limits()
        self.limits = Limits(timeout, limits.memory, limits.file_size, limits.processes, limits.answer_size) if timeout else limits
        self.forbidden = [KIT_ROOT / "solutions", KIT_ROOT / "grader" / "checks", *forbidden]
        self._zygote: Zygote | None = None  # started when the first child is needed
        self._scratch_root = Path(tempfile.mkdtemp(prefix="grader-scratch-", dir=scratch_root))
        self._notes: dict[str, None] = {}
        self._lock = threading.Lock()
        self._live: set[Child] = set()
        self._counter = 0
        self._closed = False

    @property
    def notes(self) -> list[str]:
        return list(self._notes)

    def run(self, exercise: str, path: Path, probes: Sequence[Probe]) -> list[Outcome]:
        """One outcome per probe; a stuck function costs its timeout once, then its later probes fail at once."""
        if self._closed:
            return [Lost("not run: grading was interrupted")] * len(probes)
        if not path.is_file():
            return [Lost(f"file not submitted: {path.name} was not found")] * len(probes)
        outcomes: list[Outcome] = []
        timed_out: set[str] = set()
        child: Child | None = None
        try:
            for probe in probes:
                if probe.function in timed_out:
                    outcomes.append(Lost(f"not run: {probe.function} timed out earlier"))
                    continue
                if child is None:
                    child, failure = self._start(exercise, path)
                    if failure is not None:
                        return outcomes + [Lost(failure)] * (len(probes) - len(outcomes))
                try:
                    outcome = child.ask(probe)
                except ChildGone as gone:
                    outcome = Lost(gone.reason)
                    if gone.timed_out and probe.function:
                        timed_out.add(probe.function)
                    self._stop(child)
                    child = None
                if isinstance(outcome, Raised) and outcome.type_name == "MemoryError":
                    outcome = Lost(f"killed: memory limit {size_text(self.limits.memory)}")
                    self._stop(child)
                    child = None
                outcomes.append(outcome)
        finally:
            if child is not None:
                self._stop(child)
        return outcomes

    def _start(self, exercise: str, path: Path) -> tuple[Child | None, str | None]:
        with self._lock:
            self._counter += 1
            scratch = self._scratch_root / f"{self._counter}"
        scratch.mkdir()
        with self._lock:
            if self._zygote is None:
                self._zygote = Zygote()
        child = Child(self._zygote, exercise, path.resolve(), scratch, self.limits, self.forbidden)
        with self._lock:
            self._live.add(child)
        try:
            notes, failure = child.start()
        except ChildGone as gone:
            notes, failure = [], gone.reason if "import" in gone.reason or "sandbox" in gone.reason else f"{gone.reason} during import"
        for note in notes:
            self._notes.setdefault(note)
        if failure is not None:
            self._stop(child)
            return None, failure
        return child, None

    def _stop(self, child: Child | None) -> None:
        if child is None:
            return
        child.stop()
        with self._lock:
            self._live.discard(child)
        shutil.rmtree(child.scratch, ignore_errors=True)

    def close(self) -> None:
        """Kill every child still running and remove the scratch folders."""
        self._closed = True
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
