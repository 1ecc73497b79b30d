"""The system calls a sandboxed child may make: an allow-list, by group. Every call not named here fails with EPERM.

This is the first thing a security reviewer reads. The list holds what CPython, numpy, sympy, torch (CPU and CUDA)
and the grader's own child need, found by running the solutions and the sample class with the filter in audit
mode (`python tools/syscall_audit.py`) on a CPU and on a GPU host. Paths are Landlock's business: a call that
takes a path is allowed here because Landlock decides which paths it may reach.

Left out on purpose (a submission never needs them; each was an attack or a step towards one):
creating sockets (`socket`, `socketpair`: unix sockets on the host, D-Bus, docker.sock); `io_uring_*` (it performs
the calls below without passing this filter: SETXATTR, SOCKET, CONNECT); `keyctl`, `add_key`, `request_key` (the
instructor's keyring); `memfd_create`, `execve`, `execveat` (running a program); `unshare`, `setns`, namespace
flags of `clone` (nested user namespaces); `name_to_handle_at`, `open_by_handle_at` (opening files by handle,
around Landlock); every metadata write (chmod, chown, utime, xattrs: a mode or an ACL on a grader's file);
`ptrace`, `process_vm_*`, `pidfd_*`, `kcmp` (other processes); `mount` and friends, `chroot`, `pivot_root`;
`bpf`, `perf_event_open`, `userfaultfd`, `inotify`/`fanotify`, `mknod`, module, clock and host settings.
"""

from __future__ import annotations

ALLOWED: dict[str, tuple[str, ...]] = {
    # Memory: the allocator, numpy's and torch's buffers, the CUDA driver's mappings.
    "memory": ("brk", "mmap", "munmap", "mprotect", "mremap", "madvise", "msync", "mincore", "membarrier",
               "get_mempolicy", "mlock", "munlock"),
    # Open files by path (Landlock limits the paths: reads to Python, the kit's public parts and the student's
    # folder, writes to the scratch folder) and use open descriptors.
    "files": ("read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "preadv2",
              "pwritev2", "open", "openat", "openat2", "creat", "close", "close_range", "lseek", "fstat", "stat",
              "lstat", "newfstatat", "statx", "statfs", "fstatfs", "access", "faccessat", "faccessat2",
              "getdents", "getdents64", "getcwd", "chdir", "fchdir", "readlink", "readlinkat", "mkdir", "mkdirat",
              "rmdir", "unlink", "unlinkat", "rename", "renameat", "renameat2", "link", "linkat", "symlink",
              "symlinkat", "truncate", "ftruncate", "fallocate", "fsync", "fdatasync", "flock", "fcntl", "dup",
              "dup2", "dup3", "pipe", "pipe2", "fadvise64", "sendfile", "umask"),
    # Device and terminal control. `ioctl` is narrowed by its request (`IOCTL_TYPES`, `IOCTL_REQUESTS`); Landlock
    # (ABI 5 and later) limits device ioctls to the device files the sandbox admits (/dev/null, the GPU's nodes).
    "ioctl": ("ioctl",),
    # Threads and child processes of the student's own (no namespace flags: `CLONE_NAMESPACES`), waiting, exiting.
    "processes": ("clone", "fork", "vfork", "wait4", "waitid", "exit", "exit_group", "set_tid_address",
                  "set_robust_list", "get_robust_list", "rseq", "futex", "futex_waitv", "sched_yield",
                  "sched_getaffinity", "sched_setaffinity", "sched_getparam", "sched_getscheduler",
                  "sched_get_priority_max", "sched_get_priority_min", "arch_prctl", "prctl"),
    # Who and where this process is; its own limits (lowered only: no capability is left to raise them).
    "identity": ("getpid", "getppid", "gettid", "getuid", "geteuid", "getgid", "getegid", "getgroups",
                 "getresuid", "getresgid", "getpgrp", "getpgid", "getsid", "setpgid", "setsid", "uname", "sysinfo",
                 "getrandom", "capget", "getrlimit", "setrlimit", "prlimit64", "getrusage", "times", "getcpu"),
    # Clocks, sleeping and timers (the probes' time limit is SIGALRM from setitimer).
    "time": ("clock_gettime", "clock_getres", "clock_nanosleep", "nanosleep", "gettimeofday", "time", "alarm",
             "setitimer", "getitimer", "timer_create", "timer_settime", "timer_gettime", "timer_getoverrun",
             "timer_delete", "timerfd_create", "timerfd_settime", "timerfd_gettime"),
    # Signals to the student's own processes (Landlock ABI 6 scopes them to the sandbox).
    "signals": ("rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending", "rt_sigtimedwait",
                "rt_sigsuspend", "sigaltstack", "pause", "kill", "tkill", "tgkill"),
    # Waiting on descriptors; the grader's channel is a socket the child inherits, used but never created.
    "events": ("poll", "ppoll", "select", "pselect6", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait",
               "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2", "recvfrom", "sendto", "recvmsg", "sendmsg",
               "shutdown", "getsockname", "getpeername", "getsockopt"),
    # Landlock itself: a process may only restrict itself further (each exercise's own scratch folder).
    "landlock": ("landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self"),
}

# clone3 passes its flags in memory, where a filter cannot read them: it fails with ENOSYS, and the C library then
# falls back to clone, whose flags the filter checks.
ENOSYS_CALLS = ("clone3",)
CLONE_NAMESPACES = 0x7E020000  # CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET

# ioctl requests by type (bits 8–15): 'T' terminals and FIO* (isatty, FIONREAD, FIOCLEX), 'F' the NVIDIA driver.
IOCTL_TYPES = (ord("T"), ord("F"))
# The NVIDIA unified-memory driver numbers its requests plainly: UVM_INITIALIZE and below 0x100.
IOCTL_REQUESTS = (0x30000001, 0x30000002)
IOCTL_SMALL = 0x100


def allowed_names() -> list[str]:
    return sorted({name for group in ALLOWED.values() for name in group})
