"""The GPU, seen from a process that forks: asked about without a CUDA context, used only by the children.

A process that has initialised CUDA (or run torch's autograd on a CUDA build, which starts a thread per device)
cannot hand CUDA to a forked child: "Cannot re-initialize CUDA in forked subprocess". So every forking parent (the
sandbox's zygote, `grader check`, a notebook's `check`) asks NVML, the driver's management library, how many GPUs
there are, and never torch; the child that runs a probe on `cuda` is the one that initialises CUDA, and when it
cannot, it says why and the check is skipped rather than failed (`unusable_here`).
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

# What the CUDA user-space stack opens: the device nodes (read and write, with their ioctls) and what it reads.
DEVICE_PATTERNS = ("nvidiactl", "nvidia[0-9]*", "nvidia-uvm*", "nvidia-caps/*")
DRIVER_READABLE = ("/proc/driver/nvidia", "/sys/devices", "/sys/bus/pci", "/sys/module/nvidia", "/usr/local/nvidia",
                   "/usr/local/cuda", "/etc/nvidia")
DISABLE_VARIABLE = "GRADER_NO_GPU"  # set by `--no-gpu`: no child touches a GPU, and CUDA checks are skipped
RUNNER = "the process running the checks"  # how messages name the child; the sandbox calls itself "the sandbox"

_settings: dict = {"off": False, "memory": 0}  # set in a sandboxed child by `configure`, inherited by its forks
_usable: dict[str, str | None] = {}


def configure(*, enabled: bool, memory: int, runner: str) -> None:
    """In a child about to fork processes for a student: whether they may use the GPU, and how many bytes of it."""
    global RUNNER
    _settings.update(off=not enabled, memory=memory)
    RUNNER = runner


def disabled() -> bool:
    return (_settings["off"] or bool(os.environ.get(DISABLE_VARIABLE))
            or os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"))


def device_count() -> int:
    """GPUs the NVIDIA driver reports, by NVML (no CUDA context, so a fork after this can still use CUDA); 0 when
    there is no driver."""
    try:
        nvml = ctypes.CDLL("libnvidia-ml.so.1")
    except OSError:
        return 0
    count = ctypes.c_uint(0)
    if nvml.nvmlInit_v2() != 0:
        return 0
    try:
        return count.value if nvml.nvmlDeviceGetCount_v2(ctypes.byref(count)) == 0 else 0
    finally:
        nvml.nvmlShutdown()


def cuda_built() -> bool:
    """Whether the installed torch was built with CUDA (answered without initialising anything)."""
    try:
        import torch
    except ImportError:
        return False
    return torch.version.cuda is not None


def available() -> bool:
    """Whether checks that require "cuda" should be sent to a child: a CUDA build of torch, a GPU the driver reports,
    and no `--no-gpu`. The child still decides whether it can use it."""
    return not disabled() and cuda_built() and device_count() > 0


def device_nodes(dev: Path = Path("/dev")) -> list[Path]:
    """The NVIDIA device files that exist here (none on a machine without the driver)."""
    return sorted({path for pattern in DEVICE_PATTERNS for path in dev.glob(pattern)})


def context_initialised() -> bool:
    """Whether this process holds a CUDA context (then a forked child cannot use CUDA)."""
    torch = sys.modules.get("torch")
    return torch is not None and torch.cuda.is_initialized()


def refuse_fork_with_context(who: str) -> None:
    """Raise before a fork that would leave every child without CUDA: the forking parent initialised it."""
    if context_initialised():
        raise RuntimeError(f"{who} initialised CUDA before forking, so no child could use the GPU: ask gpu.available() "
                           "(NVML) instead of torch.cuda, and leave CUDA to the children")


def unusable_here() -> str | None:
    """In the child about to run a probe on `cuda`: None when CUDA works here, else why not (asked once per process).

    Initialises CUDA, caps this process's share of the device's memory at the configured bytes before anything is
    allocated, and allocates a tensor.
    """
    if "reason" not in _usable:
        _usable["reason"] = _try_cuda()
    return _usable["reason"]


def _try_cuda() -> str | None:
    if disabled():
        return "the GPU is switched off for this run (--no-gpu)"
    try:
        import torch

        torch.cuda.init()
        cap = _settings["memory"]
        if cap:
            total = torch.cuda.get_device_properties(0).total_memory
            torch.cuda.set_per_process_memory_fraction(min(1.0, cap / total))
        torch.zeros(1, device="cuda").item()
    except Exception as error:  # noqa: BLE001 - any failure means no GPU here, said in a line
        first = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
        return f"{type(error).__name__}: {first}" if first else type(error).__name__
    return None


class Slots:
    """At most `count` students on the GPU at once, on this machine, across processes (shards) and threads: one lock
    file per slot in the temporary folder, taken with `flock` (released by the kernel if the holder dies)."""

    def __init__(self, count: int, folder: Path | None = None) -> None:
        self.count = max(1, count)
        self.folder = folder or Path(tempfile.gettempdir()) / f"grader-gpu-slots-{os.getuid()}"
        self.folder.mkdir(mode=0o700, exist_ok=True)
        self._local = threading.Semaphore(self.count)

    @contextmanager
    def held(self) -> Iterator[int]:
        """Wait for a free slot and hold it for the block; yields its number."""
        with self._local:
            while True:
                for number in range(self.count):
                    handle = os.open(self.folder / f"slot-{number}.lock", os.O_CREAT | os.O_RDWR, 0o600)
                    try:
                        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        os.close(handle)
                        continue
                    try:
                        yield number
                    finally:
                        fcntl.flock(handle, fcntl.LOCK_UN)
                        os.close(handle)
                    return
                time.sleep(0.05)
