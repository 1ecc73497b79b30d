"""Confinement of a sandbox child: namespaces, resource limits, a process-count cgroup and Landlock.

Each function applies one mechanism to the calling process and returns a note (a sentence for the class summary)
when the mechanism is unavailable here, or None when it is in force. Nothing here raises for a missing mechanism:
the grader goes on with the others and says what it could not do.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import sys
from pathlib import Path
from typing import Iterable

from grader.instructor import syscalls
from grader.instructor.syscall_numbers import NUMBERS

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long

CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x08000000, 0x10000000, 0x20000000, 0x40000000
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS, PR_SET_CHILD_SUBREAPER = 1, 38, 36
GiB = 1 << 30


def _error(what: str) -> str:
    number = ctypes.get_errno()
    return f"{what} ({os.strerror(number)})"


def prctl(option: int, value: int) -> bool:
    return _libc.prctl(option, ctypes.c_ulong(value), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0)) == 0


# ----------------------------------------------------------------------------------------------------- namespaces


def enter_namespaces() -> str | None:
    """Move into new user, PID, network and IPC namespaces; the next fork becomes PID 1 of the new PID namespace.

    When PID 1 of a namespace dies, the kernel kills every process left in it: detached daemons included.
    """
    uid, gid = os.geteuid(), os.getegid()
    if _libc.unshare(CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC) != 0:
        return _error("user, PID and network namespaces are unavailable: detached processes are killed by process group only, and the network is open")
    try:
        Path("/proc/self/setgroups").write_text("deny")
        Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
        Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")
    except OSError as error:
        return f"could not map the user in the sandbox's user namespace ({error})"
    return None


def die_with_parent() -> None:
    """Ask the kernel to SIGKILL this process when its parent dies."""
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def become_subreaper() -> str | None:
    """Orphaned descendants are re-parented to this process instead of leaving the process tree."""
    return None if prctl(PR_SET_CHILD_SUBREAPER, 1) else _error("PR_SET_CHILD_SUBREAPER failed")


KEYCTL_JOIN_SESSION_KEYRING = 1
_KEYCTL = {"x86_64": 250, "aarch64": 219}


def own_session_keyring() -> str | None:
    """Join a new, empty session keyring: no key of the grader's session (an instructor's credentials) is reachable
    from here, whatever a later filter allows. keyctl itself is off the allow-list."""
    number = _KEYCTL.get(os.uname().machine)
    if number is None or _libc.syscall(ctypes.c_long(number), ctypes.c_int(KEYCTL_JOIN_SESSION_KEYRING), None) < 0:
        return _error("could not give the sandbox a session keyring of its own")
    return None


# ----------------------------------------------------------------------------------------------------- limits


def address_space() -> int:
    """Bytes of virtual address space this process uses now (VmSize)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    return 0


def set_limits(*, memory: int | None, file_size: int, processes: int) -> list[str]:
    """RLIMIT_AS (current use + `memory`, unless None), RLIMIT_FSIZE, RLIMIT_CORE = 0 and RLIMIT_NPROC; notes for
    those not in force."""
    notes = []
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversized write fails with an error instead of killing
    limits = [
        (resource.RLIMIT_FSIZE, file_size, "file size"),
        (resource.RLIMIT_CORE, 0, "core dumps"),
    ]
    if memory is not None:
        limits.insert(0, (resource.RLIMIT_AS, address_space() + memory, "memory"))
    if os.getuid() != 0:  # the kernel exempts root from RLIMIT_NPROC; the cgroup covers that case
        limits.append((resource.RLIMIT_NPROC, _processes_of_user() + processes, "processes"))
    for kind, value, name in limits:
        try:
            resource.setrlimit(kind, (value, value))
        except (ValueError, OSError) as error:
            notes.append(f"could not limit {name} ({error})")
    return notes


def _processes_of_user() -> int:
    uid = os.getuid()
    count = 0
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and entry.stat().st_uid == uid:
                count += int((entry / "status").read_text().split("Threads:")[1].split()[0])
        except (OSError, IndexError, ValueError):
            continue
    return count


def cgroup_folder(controller: str, name: str) -> Path | None:
    """Where the cgroup called `name` for `controller` ("pids", "memory") goes (cgroup v1 or v2), if there is one."""
    v1 = Path("/sys/fs/cgroup") / controller
    if (v1 / "cgroup.procs").exists():
        return v1 / name
    v2 = Path("/sys/fs/cgroup")
    try:
        if controller in (v2 / "cgroup.subtree_control").read_text().split():
            return v2 / name
    except OSError:
        pass
    return None


def _join(controller: str, name: str, settings: dict[str, str]) -> str | None:
    """Create the cgroup, write `settings` (the first is required, the others where this kernel has them), join it."""
    folder = cgroup_folder(controller, name)
    if folder is None:
        return f"no writable {controller} cgroup"
    try:
        folder.mkdir(exist_ok=True)
        for index, (setting, value) in enumerate(settings.items()):
            if index == 0 or (folder / setting).exists():
                (folder / setting).write_text(value)
        (folder / "cgroup.procs").write_text(str(os.getpid()))
    except OSError as error:
        return f"could not create a {controller} cgroup ({error})"
    return None


def join_cgroups(name: str, processes: int, memory: int) -> list[str]:
    """Put this process (and so all its descendants) into new cgroups: at most `processes` tasks and `memory` bytes
    in all (swap included), whatever the number of processes. Notes for the limits not in force."""
    notes = []
    missing = _join("pids", name, {"pids.max": str(processes)})
    if missing:
        notes.append(f"{missing}: the number of processes and threads is limited by RLIMIT_NPROC only (which does not bind root)")
    v1 = {"memory.limit_in_bytes": str(memory), "memory.memsw.limit_in_bytes": str(memory)}
    v2 = {"memory.max": str(memory), "memory.swap.max": "0"}
    folder = cgroup_folder("memory", name)
    missing = _join("memory", name, v2 if folder is not None and folder.parent == Path("/sys/fs/cgroup") else v1)
    if missing:
        notes.append(f"{missing}: memory is limited per process (RLIMIT_AS), so several processes of one student may together use more")
    return notes


def in_cgroup(controller: str, name: str) -> bool:
    """Whether this process is in the cgroup `name` of `controller` (so that its limit binds)."""
    folder = cgroup_folder(controller, name)
    try:
        return folder is not None and str(os.getpid()) in (folder / "cgroup.procs").read_text().split()
    except OSError:
        return False


def remove_cgroup(name: str) -> None:
    """Remove the emptied cgroups (the kernel refuses while tasks remain; they are being killed, so retry briefly)."""
    import time

    for controller in ("pids", "memory"):
        folder = cgroup_folder(controller, name)
        if folder is None or not folder.exists():
            continue
        for _ in range(100):
            try:
                for pid in (folder / "cgroup.procs").read_text().split():
                    os.kill(int(pid), signal.SIGKILL)  # a straggler (no PID namespace here) goes too
            except (OSError, ValueError):
                pass
            try:
                folder.rmdir()
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.02)


# ----------------------------------------------------------------------------------------------------- scratch


CLONE_NEWNS, MS_NOSUID, MS_NODEV, MS_REC, MS_PRIVATE = 0x00020000, 2, 4, 1 << 14, 1 << 18


def private_scratch(scratch: Path, size: int, files: int) -> str | None:
    """Mount a tmpfs of `size` bytes and `files` inodes on `scratch`, seen only by this process and its children (a
    new mount namespace): a student who fills it fills their own, not the disk the class shares."""
    if _libc.unshare(CLONE_NEWNS) != 0:
        return _error("no mount namespace: scratch folders share the grader's disk (a submission can fill it; files are limited by size only)")
    if _libc.mount(b"none", b"/", None, ctypes.c_ulong(MS_REC | MS_PRIVATE), None) != 0:
        return _error("could not make the sandbox's mounts private, so its scratch folder is not size-limited")
    options = f"size={size},nr_inodes={files},mode=0700".encode()
    if _libc.mount(b"tmpfs", str(scratch).encode(), b"tmpfs", ctypes.c_ulong(MS_NOSUID | MS_NODEV), options) != 0:
        return _error("could not mount a size-limited scratch folder: scratch folders share the grader's disk")
    return None


MS_NOEXEC = 8


def own_proc() -> str | None:
    """As PID 1 of a new PID namespace (in a mount namespace of its own): mount a /proc that shows this namespace's
    processes only. The CUDA driver cannot start without it: through the host's /proc, a process in a PID namespace
    looks itself up under the wrong number."""
    if _libc.mount(b"proc", b"/proc", b"proc", ctypes.c_ulong(MS_NOSUID | MS_NODEV | MS_NOEXEC), None) != 0:
        return _error("could not mount a /proc of the sandbox's own, so CUDA cannot start in it (GPU checks are skipped)")
    return None


# ----------------------------------------------------------------------------------------------------- seccomp

# The filter allows the calls `grader.instructor.syscalls` lists and fails every other one with EPERM: a call this
# kit never heard of (io_uring, keyctl, the next one) is refused, not let through. Another architecture's calls
# (32-bit, x32) are refused whole: their numbers mean other calls.
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
X32_SYSCALL_BIT = 0x40000000
_LD_ABS, _JEQ, _JGE, _JSET, _RET, _RSH, _AND = 0x20, 0x15, 0x35, 0x45, 0x06, 0x74, 0x54
_ALLOW, _EPERM, _ENOSYS, _LOG = 0x7FFF0000, 0x00050000 | 1, 0x00050000 | 38, 0x7FFC0000
_NR, _ARCH, _ARG0, _ARG1 = 0, 4, 16, 24  # offsets in struct seccomp_data (the low halves of args, little-endian)
PR_SET_SECCOMP, SECCOMP_MODE_FILTER, PR_CAPBSET_DROP, PR_CAP_AMBIENT = 22, 2, 24, 47
AUDIT_VARIABLE = "GRADER_SECCOMP_AUDIT"  # set (by tools/syscall_audit.py): refused calls are logged and allowed


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def seccomp_program(machine: str, refuse: int = _EPERM) -> list[tuple[int, int, int, int]]:
    """A classic-BPF program (code, jt, jf, k): allow the listed calls on `machine`, `refuse` every other one.

    Each allowed call is a compare and a return, so every jump is short. `ioctl` and `clone` look at an argument
    first: an ioctl request of an allowed type, clone flags without a namespace.
    """
    numbers = NUMBERS[machine]
    refused = (_RET, 0, 0, refuse)
    program = [(_LD_ABS, 0, 0, _ARCH), (_JEQ, 1, 0, AUDIT_ARCH[machine]), refused, (_LD_ABS, 0, 0, _NR)]
    if machine == "x86_64":
        program += [(_JGE, 0, 1, X32_SYSCALL_BIT), refused]
    ioctl = [(_LD_ABS, 0, 0, _ARG1), (_JGE, 1, 0, syscalls.IOCTL_SMALL), (_RET, 0, 0, _ALLOW)]
    ioctl += [step for request in syscalls.IOCTL_REQUESTS for step in ((_JEQ, 0, 1, request), (_RET, 0, 0, _ALLOW))]
    ioctl += [(_RSH, 0, 0, 8), (_AND, 0, 0, 0xFF)]
    ioctl += [step for kind in syscalls.IOCTL_TYPES for step in ((_JEQ, 0, 1, kind), (_RET, 0, 0, _ALLOW))] + [refused]
    clone = [(_LD_ABS, 0, 0, _ARG0), (_JSET, 0, 1, syscalls.CLONE_NAMESPACES), refused, (_RET, 0, 0, _ALLOW)]
    checked = {"ioctl": ioctl, "clone": clone}
    for name in syscalls.allowed_names():
        if name in numbers:
            then = checked.get(name, [(_RET, 0, 0, _ALLOW)])
            program += [(_JEQ, 0, len(then), numbers[name]), *then]
    for name in syscalls.ENOSYS_CALLS:
        program += [(_JEQ, 0, 1, numbers[name]), (_RET, 0, 0, _ENOSYS)]
    return program + [refused]


SECCOMP_UNFILTERED = "every system call is allowed (io_uring, keyctl, sockets, chmod and ptrace among them)"


def seccomp_note(machine: str | None = None) -> str | None:
    """Why no filter can be installed here, or None."""
    machine = machine or os.uname().machine
    return None if machine in NUMBERS else f"no seccomp filter for {machine}: {SECCOMP_UNFILTERED}"


def allow_listed_system_calls(machine: str | None = None, audit: bool = False) -> str | None:
    """Install the allow-list filter of `seccomp_program` on this process and its future children (with `audit`, a
    call off the list is logged by the kernel and allowed: `tools/syscall_audit.py`); None, or why not."""
    machine = machine or os.uname().machine
    if machine not in NUMBERS:
        return seccomp_note(machine)
    refuse = _LOG if audit else _EPERM
    instructions = seccomp_program(machine, refuse)
    table = (_SockFilter * len(instructions))(*(_SockFilter(*i) for i in instructions))
    program = _SockFprog(len(instructions), table)
    if not prctl(PR_SET_NO_NEW_PRIVS, 1):
        return _error(f"PR_SET_NO_NEW_PRIVS failed, so no seccomp filter: {SECCOMP_UNFILTERED}")
    if _libc.prctl(PR_SET_SECCOMP, ctypes.c_ulong(SECCOMP_MODE_FILTER), ctypes.byref(program), ctypes.c_ulong(0), ctypes.c_ulong(0)) != 0:
        return _error(f"seccomp is unavailable: {SECCOMP_UNFILTERED}")
    return None


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def drop_capabilities() -> str | None:
    """Drop every capability: the bounding set (so no later exec regains any), the ambient set, then the rest."""
    for capability in range(64):
        prctl(PR_CAPBSET_DROP, capability)  # EINVAL past the last capability this kernel knows
    _libc.prctl(PR_CAP_AMBIENT, ctypes.c_ulong(4), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0))  # CLEAR_ALL
    header, data = _CapHeader(0x20080522, 0), (_CapData * 2)()
    if _libc.capset(ctypes.byref(header), data) != 0:
        return _error("could not drop capabilities")
    return None


# ----------------------------------------------------------------------------------------------------- landlock

_EXECUTE, _WRITE_FILE, _READ_FILE, _READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_REFER, _TRUNCATE, _IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_FILE_RIGHTS = _EXECUTE | _WRITE_FILE | _READ_FILE | _TRUNCATE | _IOCTL_DEV
READ = _EXECUTE | _READ_FILE | _READ_DIR


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock_abi() -> int:
    """Landlock's ABI version here, or 0 when the kernel has none."""
    version = _libc.syscall(ctypes.c_long(444), None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    return max(int(version), 0)


def all_fs_rights(abi: int) -> int:
    rights = (1 << 13) - 1
    if abi >= 2:
        rights |= _REFER
    if abi >= 3:
        rights |= _TRUNCATE
    if abi >= 5:
        rights |= _IOCTL_DEV
    return rights


def landlock_notes() -> list[str]:
    """What Landlock cannot do on this kernel (nothing when its ABI is 6 or later)."""
    abi = landlock_abi()
    if abi < 1:
        return ["Landlock is unavailable: a submission can read and write any file this user can (only namespaces and limits apply)"]
    if abi < 4:
        return [f"Landlock ABI {abi} cannot deny TCP (the network namespace still isolates it)"]
    return []


def landlock(readable: Iterable[Path], writable: Iterable[Path], devices: Iterable[Path] = (), listable: Iterable[Path] = ()) -> None:
    """Confine this process and its future children: read only `readable`, write only under `writable`, read, write
    and control the device files `devices`, list the entries (not read the files) beneath `listable`. Nothing to do
    where Landlock is unavailable (`landlock_notes` says so); `OSError` when it is there but cannot be applied.

    With ABI 4 and later TCP bind and connect are denied; with ABI 6 and later signals to processes outside the
    sandbox and abstract unix sockets are denied too.
    """
    abi = landlock_abi()
    if abi < 1:
        return
    everything = all_fs_rights(abi)
    attr = _RulesetAttr(everything, 3 if abi >= 4 else 0, 3 if abi >= 6 else 0)
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8
    ruleset = _libc.syscall(ctypes.c_long(444), ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        raise OSError(_error("Landlock ruleset could not be created"))
    try:
        for paths, rights in ((readable, READ), (writable, everything), (devices, _READ_FILE | _WRITE_FILE | _IOCTL_DEV), (listable, _READ_DIR)):
            for path in paths:
                _allow(int(ruleset), Path(path), rights & everything)
        if not prctl(PR_SET_NO_NEW_PRIVS, 1):
            raise OSError(_error("PR_SET_NO_NEW_PRIVS failed, so Landlock could not be applied"))
        if _libc.syscall(ctypes.c_long(446), ctypes.c_int(ruleset), ctypes.c_uint32(0)) != 0:
            raise OSError(_error("Landlock could not be applied"))
    finally:
        os.close(ruleset)


def _allow(ruleset: int, path: Path, rights: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # a path that does not exist here needs no rule
    try:
        if not path.is_dir():
            rights &= _FILE_RIGHTS
        rule = _PathBeneath(rights, fd)
        if _libc.syscall(ctypes.c_long(445), ctypes.c_int(ruleset), ctypes.c_int(1), ctypes.byref(rule), ctypes.c_uint32(0)) != 0:
            raise OSError(ctypes.get_errno(), f"Landlock rule for {path} failed")
    finally:
        os.close(fd)


SYSTEM_READABLE = ("/usr/lib", "/usr/lib64", "/lib", "/lib64", "/usr/local/lib", "/etc/ld.so.cache", "/etc/localtime",
                   "/usr/share/zoneinfo", "/dev/urandom", "/dev/zero")


def kit_secrets(kit_root: Path) -> list[Path]:
    """What no submission may read, wherever the kit is installed: the solutions and the checks (the loader, and the
    instructor's check modules with the hidden ones)."""
    return [kit_root / "solutions", kit_root / "grader" / "checks", kit_root / "grader" / "instructor" / "checks"]


def python_readable(kit_root: Path, forbidden: Iterable[Path], roots: Iterable[str | Path] = SYSTEM_READABLE) -> tuple[list[Path], list[Path]]:
    """(readable, listable): the interpreter, its packages, the system `roots` and the kit's public parts, but no
    forbidden path (hidden checks, solutions, OUT, other students), wherever it lies.

    Landlock only allows, so a root holding a forbidden path is not allowed whole: it becomes listable (names only)
    and each of its entries is allowed in turn, down to the forbidden path, which is left out (`_allow_around`).
    The interpreter's prefixes and the system roots are always carved so; a `sys.path` entry only around the kit's
    own secrets (an installed kit lies in site-packages beside numpy), and is left out whole when it holds OUT or
    students' files (a course folder on PYTHONPATH). A kit checkout (it has a pyproject.toml) contributes only
    `grader/*.py`, `grader/instructor/*.py`, `grader/probes/` and `exercises/`. Every path is resolved here, before
    anything changes directory.
    """
    forbidden = [Path(p).resolve() for p in forbidden]
    own = [p.resolve() for p in kit_secrets(kit_root)]
    checkout = [kit_root.resolve()] if (kit_root / "pyproject.toml").exists() else []
    system = {Path(p).resolve() for p in [Path(sys.executable).resolve().parent.parent, sys.base_prefix, sys.prefix, *roots]}
    packages = {Path(p).resolve() for p in sys.path if p and Path(p).is_dir()}
    readable: list[Path] = []
    listable: list[Path] = []
    for root in sorted(system | packages):
        if root in checkout or any(root == f or f in root.parents for f in forbidden):
            continue
        if root not in system and any(root in f.parents and f not in own for f in forbidden):
            continue
        _allow_around(root, forbidden + checkout, readable, listable)
    grader = kit_root.resolve() / "grader"
    modules = [p for folder in (grader, grader / "instructor") for p in [*folder.glob("*.py"), folder / "__pycache__"]]
    readable += modules + [grader / "probes", kit_root.resolve() / "exercises"]
    return readable, listable


def _allow_around(root: Path, forbidden: list[Path], readable: list[Path], listable: list[Path]) -> None:
    """Allow `root` whole, or, when a forbidden path lies beneath it, list it and allow its entries but that path."""
    if not any(root in f.parents for f in forbidden):
        readable.append(root)
        return
    listable.append(root)
    try:
        entries = list(root.iterdir())
    except OSError:
        return
    for entry in entries:
        target = entry.resolve()  # a rule follows a link to its target: judge the target
        if any(target == f or f in target.parents for f in forbidden):
            continue
        _allow_around(target, forbidden, readable, listable)
