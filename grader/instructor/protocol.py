"""The sandbox's channel, written once: framing, exact reads and the messages both sides exchange.

A frame is a 4-byte big-endian length, then that many bytes of JSON holding one object. The parent
(`grader.instructor.sandbox`) and the child (`grader.instructor.sandbox_child`) both use `send` and `receive` from here; only the parent
passes a deadline and a size limit, because only the child's side can lie.

    direction                 message                                   meaning
    zygote  <- parent         spec JSON + 2 fds (control socket)         fork a keeper for one student
    zygote  -> parent         4-byte pid (control socket)                the keeper's pid
    child   -> parent         {"ready": [note, ...]}                     confined; notes name missing mechanisms
    parent  -> child          {"load": {"exercise": e, "path": p}}      fork a fresh exercise process, import p
    exercise -> parent        {"loaded": true}                           imported; probes may follow
    exercise -> parent        {"load_failed": reason}                    the import failed (the process then ends)
    parent  -> exercise       {"id": n, "probe": request}                run one probe (`grader.runner.probe_request`)
    exercise -> parent        {"id": n, "answer": {"returned"|"raised"|"lost": ...}}
    parent  -> exercise       {"stop": true}                             end the exercise's process
    child   -> parent (ends)  {"ended": {"exit": code} | {"signal": n}}  the exercise's process is gone
    keeper  -> parent (status){"exit": code} | {"signal": n}             the whole child is gone

The exercise process runs the student's code and holds the channel, so anything it sends is suspect. `ended` and
the keeper's report therefore travel on pipes of their own, closed in the exercise process before the student's
file is imported: a student cannot forge them.
"""

from __future__ import annotations

import json
import os
import select
import struct
import time

READY, LOAD, LOADED, LOAD_FAILED, PROBE, ANSWER, STOP, ENDED = (
    "ready", "load", "loaded", "load_failed", "probe", "answer", "stop", "ended")
HEADER = struct.Struct("!i")
CHUNK = 1 << 20
MAX_CONTAINERS = 100_000  # lists and objects in one frame the parent parses (the sample class sends at most ~300)


class FrameTooLarge(ValueError):
    """A frame announced more bytes than the reader accepts."""

    def __init__(self, size: int) -> None:
        super().__init__(f"a frame of {size} bytes")
        self.size = size


class FrameTooComplex(ValueError):
    """A frame holds more lists and objects than the reader parses (parsed, each costs the reader ~60 bytes)."""


def encode(message: object) -> bytes:
    """One frame holding `message` as JSON (NaN and infinities are refused: JSON has none)."""
    payload = message if isinstance(message, bytes) else json.dumps(message, allow_nan=False).encode()
    return HEADER.pack(len(payload)) + payload


def send(fd: int, message: object, deadline: float | None = None) -> None:
    """Write one frame (`message` as JSON, or bytes already JSON); TimeoutError past `deadline`, EOFError if closed."""
    data = memoryview(encode(message))
    while data:
        _wait(fd, deadline, writing=True)
        try:
            data = data[os.write(fd, data):]
        except BlockingIOError:
            continue
        except (BrokenPipeError, ConnectionError):
            raise EOFError from None


def read_exactly(fd: int, count: int, deadline: float | None = None) -> bytes:
    """Exactly `count` bytes, however the kernel splits them; EOFError if the other end closes first."""
    chunks, missing = [], count
    while missing:
        _wait(fd, deadline, writing=False)
        try:
            chunk = os.read(fd, min(missing, CHUNK))
        except BlockingIOError:
            continue
        except ConnectionError:
            raise EOFError from None
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


def receive_bytes(fd: int, deadline: float | None = None, limit: int | None = None) -> bytes:
    """One frame's payload; FrameTooLarge (before reading it) when it announces more than `limit` bytes."""
    size, = HEADER.unpack(read_exactly(fd, HEADER.size, deadline))
    if size < 0 or (limit is not None and size > limit):
        raise FrameTooLarge(size)
    return read_exactly(fd, size, deadline)


def receive(fd: int, deadline: float | None = None, limit: int | None = None) -> object:
    """One frame, parsed as JSON (ValueError when it is not). With a `limit`, a frame of more than MAX_CONTAINERS
    lists and objects is refused before parsing (brackets inside strings count too: an upper bound)."""
    payload = receive_bytes(fd, deadline, limit)
    if limit is not None and payload.count(b"[") + payload.count(b"{") > MAX_CONTAINERS:
        raise FrameTooComplex(f"more than {MAX_CONTAINERS} lists and objects")
    return json.loads(payload)


def ready(fd: int, timeout: float) -> bool:
    """Whether `fd` has something to read (or is closed) within `timeout` seconds."""
    return bool(select.select([fd], [], [], max(0.0, timeout))[0])


def _wait(fd: int, deadline: float | None, writing: bool) -> None:
    """Block until `fd` can be read or written; TimeoutError when the deadline passes first."""
    if deadline is None:
        return
    waiting = ([], [fd], []) if writing else ([fd], [], [])
    if not any(select.select(*waiting, max(0.0, deadline - time.monotonic()))):
        raise TimeoutError
