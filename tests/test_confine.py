"""The seccomp program as data: every jump lands inside it, on both architectures, and an unknown one is named."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from grader.instructor import confine, syscalls
from grader.instructor.syscall_numbers import NUMBERS

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("machine", sorted(NUMBERS))
def test_every_jump_of_the_filter_lands_inside_it_and_it_ends_refusing(machine):
    program = confine.seccomp_program(machine)
    assert program[0] == (confine._LD_ABS, 0, 0, 4)  # the architecture first
    assert program[1][3] == confine.AUDIT_ARCH[machine]
    assert program[-1] == (confine._RET, 0, 0, confine._EPERM)
    for index, (code, jt, jf, _) in enumerate(program):
        if code in (confine._JEQ, confine._JGE, confine._JSET):
            assert index + 1 + max(jt, jf) < len(program) and max(jt, jf) <= 255
    compared = {k for code, _, _, k in program if code == confine._JEQ}
    assert set(NUMBERS[machine].values()) <= compared
    assert len(program) < 4096  # the kernel's limit


@pytest.mark.parametrize("machine", sorted(NUMBERS))
def test_every_allowed_name_is_a_system_call_of_one_of_the_architectures(machine):
    known = set(NUMBERS["x86_64"]) | set(NUMBERS["aarch64"])
    assert set(syscalls.allowed_names()) <= known
    assert {"open", "stat"}.isdisjoint(NUMBERS["aarch64"]) and "openat" in NUMBERS["aarch64"]


def test_the_committed_numbers_are_libseccomps():
    pytest.importorskip("ctypes")
    import ctypes.util

    if ctypes.util.find_library("seccomp") is None:
        pytest.skip("libseccomp is not installed here (Debian: libseccomp2)")
    assert subprocess.run([sys.executable, "tools/syscall_numbers.py", "--check"], cwd=ROOT).returncode == 0


def test_a_machine_without_a_filter_is_named_in_the_notes():
    note = confine.allow_listed_system_calls("riscv64")
    assert note.startswith("no seccomp filter for riscv64") and "io_uring" in note
