"""Writing results so that an interrupted run never leaves a half-written file."""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, fsync it, then rename it over `path`."""
    temporary = _complete_temporary(path, data)
    try:
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def exclusive_write_bytes(path: Path, data: bytes) -> bool:
    """Create `path` holding `data` unless something is there already; True when this call created it.

    The complete temporary file is hard-linked to `path`: a link is atomic and fails when the name exists, on a local
    disk and on NFS alike, so of several processes racing on one shared folder exactly one wins, and no reader ever
    sees the file half-written. (Over NFS a retried link may report EEXIST though it succeeded: the temporary file's
    link count tells.)
    """
    temporary = _complete_temporary(path, data)
    try:
        try:
            os.link(temporary, path)
        except FileExistsError:
            return os.stat(temporary).st_nlink == 2
        return True
    finally:
        Path(temporary).unlink(missing_ok=True)


def _complete_temporary(path: Path, data: bytes) -> str:
    """A temporary file beside `path` holding `data`, synced to disk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(handle, 0o666 & ~_umask())  # mkstemp makes 0600; results are meant to be shared
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return temporary


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def finite_json(data: Any) -> Any:
    """`data` with every NaN or infinity replaced by None: JSON has no such numbers, and a student's diverging
    training curve must not stop a batch."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {key: finite_json(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [finite_json(value) for value in data]
    return data


def atomic_write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(finite_json(data), indent=2, allow_nan=False) + "\n")
