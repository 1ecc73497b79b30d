"""Grading one class in slices, on many machines that share one `OUT` folder (a network file system).

A student belongs to shard `1 + h mod N`, where h is a hash of their name: the slices never overlap, cover the class,
and stay put when other students are added or removed. Every shard grades with the class's one seed. Shards
coordinate only through files under `OUT/_class/` (a student's name cannot begin with `_`):

- `seed.json`: the class's seed, created by whichever run comes first (an exclusive create: exactly one of several
  racing shards wins, and every shard then uses the winner's seed);
- `shard-K-of-N.json`: what the last run of shard K/N saw (every student's fingerprint), and whether it finished,
  which students it could not grade and why;
- `locks/<student>.lock`: held while a process grades that student (owner host, pid and a token); the owner
  refreshes it every few seconds. A lock whose owner died is taken over: at once when the owner ran on this machine
  and its process is gone, else once the lock has not been refreshed for `STALE_AFTER` seconds;
- `class.lock`: held while a process rebuilds `gradebook.csv` and `summary.html` from the students' records (the
  last shard to end does, and `grader report`).
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from grader.instructor.files import atomic_write_json, exclusive_write_bytes

CLASS_FOLDER = "_class"
SEED_FILE = "seed.json"
HEARTBEAT = 5.0  # seconds between refreshes of the locks a process holds
STALE_AFTER = 60.0  # seconds without a refresh after which a lock from another machine is taken over
HOST = socket.gethostname()


def _machine() -> str:
    """Where a pid means this process table: this kernel's boot and this PID namespace (containers on one host share
    a host name, not their processes)."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        return f"{boot}:{os.readlink('/proc/self/ns/pid')}"
    except OSError:
        return HOST


MACHINE = _machine()


# --------------------------------------------------------------------------------------------------- slices


@dataclass(frozen=True)
class Shard:
    """Shard `index` of `count` (1 <= index <= count)."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> "Shard":
        """`K/N` as in `--shard 3/8`; a ValueError says what is expected."""
        try:
            index, count = (int(part) for part in text.split("/"))
        except ValueError:
            raise ValueError(f"--shard takes K/N, e.g. 3/8 for the third of eight shards (got {text!r})") from None
        if count < 1:
            raise ValueError(f"--shard {text}: N, the number of shards, must be at least 1")
        if not 1 <= index <= count:
            raise ValueError(f"--shard {text}: K must be between 1 and N (the shards are 1/{count} to {count}/{count})")
        return cls(index, count)

    def holds(self, student: str) -> bool:
        return shard_of(student, self.count) == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def shard_of(student: str, count: int) -> int:
    """The shard (1..count) a student belongs to: from a hash of the name, not its position in the class."""
    return 1 + int.from_bytes(hashlib.sha256(student.encode()).digest()[:8], "big") % count


def class_folder(out: Path) -> Path:
    return Path(out) / CLASS_FOLDER


# ----------------------------------------------------------------------------------------------------- seed


class SeedConflict(ValueError):
    """A shard was given a seed other than the one the class in OUT is graded with."""


def stored_seed(out: Path) -> int | None:
    """The seed recorded in OUT, if any run recorded one."""
    try:
        seed = json.loads((class_folder(out) / SEED_FILE).read_text()).get("seed")
    except (OSError, ValueError, AttributeError):
        return None
    return seed if isinstance(seed, int) and not isinstance(seed, bool) else None


def agreed_seed(out: Path, proposal: int) -> int:
    """The class's seed: the one OUT holds, else `proposal` recorded there by the first of any racing runs."""
    path = class_folder(out) / SEED_FILE
    for _ in range(50):
        seed = stored_seed(out)
        if seed is not None:
            return seed
        if exclusive_write_bytes(path, json.dumps({"seed": proposal}).encode() + b"\n"):
            return proposal
        time.sleep(0.05)  # another run created it a moment ago, or it is unreadable
    raise OSError(f"{path} exists but holds no seed; delete it, or grade into another --out")


def record_seed(out: Path, seed: int) -> None:
    """Make `seed` the class's seed (an unsharded run given --seed regrades the class with it)."""
    if stored_seed(out) != seed:
        atomic_write_json(class_folder(out) / SEED_FILE, {"seed": seed})


# ---------------------------------------------------------------------------------------------------- locks


def _start_time(pid: int) -> str | None:
    """When process `pid` started (clock ticks since boot), to tell it from a later process given the same pid."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def process_alive(pid: int, started: str | None) -> bool:
    """Whether process `pid` of this machine, started at `started` (None: any start), is still running."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return started is None or _start_time(pid) in (None, started)


def this_process() -> dict:
    """Who is writing: host, pid and the process's start time (a lock's owner adds a token)."""
    return {"host": HOST, "machine": MACHINE, "pid": os.getpid(), "started": _start_time(os.getpid())}


def read_owner(path: Path) -> dict | None:
    try:
        owner = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return owner if isinstance(owner, dict) else None


class StaleWatch:
    """Judges whether a lock's owner is gone. On this machine (this boot, this PID namespace): its process has ended.
    Elsewhere: the lock's modification time has not changed for `after` seconds of this process's own clock (no two
    machines' clocks are compared)."""

    def __init__(self, after: float = STALE_AFTER) -> None:
        self.after = after
        self.seen: dict[Path, tuple[tuple, float]] = {}

    def stale(self, path: Path, owner: dict) -> bool:
        if owner.get("machine") == MACHINE and isinstance(owner.get("pid"), int):
            return not process_alive(owner["pid"], owner.get("started"))
        try:
            status = path.stat()
        except OSError:
            return False
        key, now = (status.st_ino, status.st_mtime_ns), time.monotonic()
        first_key, since = self.seen.setdefault(path, (key, now))
        if first_key != key:
            self.seen[path] = (key, now)
            return False
        return now - since > self.after


class Locks:
    """The locks one process holds in a folder, kept fresh by a heartbeat thread while any is held."""

    def __init__(self, folder: Path, watch: StaleWatch | None = None) -> None:
        self.folder = Path(folder)
        self.watch = watch or StaleWatch()
        self.held: dict[str, dict] = {}
        self._guard = threading.Lock()
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    def path(self, name: str) -> Path:
        return self.folder / f"{name}.lock"

    def take(self, name: str) -> dict | None:
        """The lock `name` (its owner record), or None while another live process holds it."""
        path = self.path(name)
        for _ in range(3):
            owner = {**this_process(), "token": uuid.uuid4().hex}
            if exclusive_write_bytes(path, json.dumps(owner).encode()):
                with self._guard:
                    self.held[name] = owner
                self._start_heartbeat()
                return owner
            holder = read_owner(path)
            if holder is None:
                if not path.exists():
                    continue  # released a moment ago
                holder = {}  # unreadable (damaged by hand?): judged by its age alone
            if not self.watch.stale(path, holder) or not self._break(path, holder):
                return None
        return None

    def _break(self, path: Path, holder: dict) -> bool:
        """Remove a stale lock, unless another process replaced it meanwhile (then put that one back)."""
        aside = path.with_name(f"{path.name}.stale-{uuid.uuid4().hex}")
        try:
            os.rename(path, aside)
        except FileNotFoundError:
            return True  # someone else removed it: try again
        moved = read_owner(aside)
        if moved is not None and moved.get("token") != holder.get("token"):
            try:
                os.link(aside, path)  # a fresh lock, taken after we judged the old one: it stays its owner's
            except FileExistsError:
                pass
            aside.unlink(missing_ok=True)
            return False
        aside.unlink(missing_ok=True)
        return True

    def holds(self, name: str) -> bool:
        """Whether this process still owns the lock `name` (nobody judged it stale and took it over)."""
        owner = self.held.get(name)
        current = read_owner(self.path(name))
        return owner is not None and current is not None and current.get("token") == owner["token"]

    def release(self, name: str) -> None:
        with self._guard:
            owner = self.held.pop(name, None)
        if owner is not None and (read_owner(self.path(name)) or {}).get("token") == owner["token"]:
            self.path(name).unlink(missing_ok=True)

    def release_all(self) -> None:
        for name in list(self.held):
            self.release(name)
        self._stop.set()

    def _start_heartbeat(self) -> None:
        if self._beat is None:
            self._beat = threading.Thread(target=self._refresh, name="grader-locks", daemon=True)
            self._beat.start()

    def _refresh(self) -> None:
        while not self._stop.wait(HEARTBEAT):
            with self._guard:
                names = list(self.held)
            for name in names:
                try:
                    if self.holds(name):
                        os.utime(self.path(name))
                except OSError:
                    pass


@contextmanager
def class_lock(out: Path, patience: float = 600.0) -> Iterator[bool]:
    """Hold `OUT/_class/class.lock` while rebuilding the class files; yields False when it could not be had within
    `patience` seconds (a live process kept it), in which case the caller leaves the class files alone."""
    locks = Locks(class_folder(out))
    deadline = time.monotonic() + patience
    while locks.take("class") is None:
        if time.monotonic() > deadline:
            yield False
            return
        time.sleep(0.2)
    try:
        yield True
    finally:
        locks.release_all()


# ---------------------------------------------------------------------------------------------- shard files


def shard_file(out: Path, shard: Shard) -> Path:
    return class_folder(out) / f"shard-{shard.index}-of-{shard.count}.json"


def write_shard_file(out: Path, shard: Shard, **state) -> None:
    """What this run of `shard` saw and did (see the module's docstring); replaces the previous run's."""
    atomic_write_json(shard_file(out, shard), {"shard": str(shard), **this_process(), "written": time.time(), **state})


def all_finished(out: Path, count: int) -> bool:
    """Whether the last runs of shards 1/count to count/count have all recorded their end.

    Each file is opened by name (not found by listing the folder): over NFS an open sees another machine's latest
    close, while a folder's listing may be cached for a while.
    """
    for index in range(1, count + 1):
        try:
            state = json.loads(shard_file(out, Shard(index, count)).read_text()).get("state")
        except (OSError, ValueError, AttributeError):
            return False
        if state != "finished":
            return False
    return True


def read_shard_files(out: Path) -> list[dict]:
    """Every shard file in OUT, oldest first."""
    found = []
    for path in sorted(class_folder(out).glob("shard-*-of-*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and isinstance(data.get("roster"), dict):
            found.append(data)
    return sorted(found, key=lambda d: d.get("written", 0))
