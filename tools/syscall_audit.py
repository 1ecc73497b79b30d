"""Which system calls would the sandbox's allow-list refuse while the sample class is graded?

    python tools/syscall_audit.py [SUBMISSIONS]   # default: sample_class

Grades the class with the filter in audit mode (a call off the list is allowed and logged by the kernel instead of
refused), then reads the kernel log and names each logged call. Run it as root (the log is root's to read), after
a new library or a new exercise, on a CPU and on a GPU host; add what a correct solution needs to
`grader/instructor/syscalls.py`, with its reason. Exit status 1 when a call was logged.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}


def kernel_log() -> list[str]:
    return subprocess.run(["dmesg"], capture_output=True, text=True, check=True).stdout.splitlines()


def name_of(number: int) -> str:
    library = ctypes.util.find_library("seccomp")
    if library is None:
        return str(number)
    seccomp = ctypes.CDLL(library)
    seccomp.seccomp_syscall_resolve_num_arch.restype = ctypes.c_char_p
    name = seccomp.seccomp_syscall_resolve_num_arch(ctypes.c_uint32(AUDIT_ARCH[os.uname().machine]), number)
    return name.decode() if name else str(number)


def main(submissions: Path) -> int:
    before = len(kernel_log())
    with tempfile.TemporaryDirectory() as out:
        environment = os.environ | {"GRADER_SECCOMP_AUDIT": "1"}
        subprocess.run([sys.executable, "-m", "grader", "grade", str(submissions), "--out", out, "--quiet"],
                       env=environment, cwd=ROOT, check=False)
    logged: dict[str, set[str]] = {}
    for line in kernel_log()[before:]:
        if "type=1326" in line and "code=0x7ffc0000" in line:
            number = int(re.search(r" syscall=(\d+)", line).group(1))
            logged.setdefault(name_of(number), set()).add(re.search(r'comm="([^"]*)"', line).group(1))
    for name, programs in sorted(logged.items()):
        print(f"{name}: called by {', '.join(sorted(programs))}")
    print(f"{len(logged)} call(s) off the allow-list" if logged else "every call made is on the allow-list")
    return 1 if logged else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "sample_class"))
