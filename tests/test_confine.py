"""The seccomp program as data: every jump lands inside it, on both architectures, and an unknown one is named."""

from __future__ import annotations

import pytest

from grader.instructor import confine


@pytest.mark.parametrize("machine", sorted(confine.DENIED_SYSCALLS))
def test_every_jump_of_the_filter_lands_inside_it_and_it_ends_allowing_then_denying(machine):
    program = confine.seccomp_program(machine)
    assert program[0] == (confine._LD_ABS, 0, 0, 4)  # the architecture first
    assert program[1][3] == confine.AUDIT_ARCH[machine]
    assert program[-2:] == [(confine._RET, 0, 0, confine._ALLOW), (confine._RET, 0, 0, confine._EPERM)]
    for index, (code, jt, jf, _) in enumerate(program):
        if code in (confine._JEQ, confine._JGE):
            assert index + 1 + max(jt, jf) < len(program) and max(jt, jf) <= 255
    deny = (confine._RET, 0, 0, confine._EPERM)
    denied = {k for index, (code, jt, _, k) in enumerate(program) if code == confine._JEQ and jt and program[index + 1 + jt] == deny}
    assert set(confine.DENIED_SYSCALLS[machine].values()) <= denied


def test_a_machine_without_a_filter_is_named_in_the_notes():
    note = confine.deny_system_calls("riscv64")
    assert note.startswith("no seccomp filter for riscv64") and "sockets" in note
