"""Attacks a red-team round got through (issue 12), each as a submission: it must gain nothing, change nothing
outside its scratch folder, and cost the class nothing but its own grade. Real child processes throughout."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest

from grader.model import Lost, Raised, Returned, call
from grader.sandbox import Limits, SandboxRunner

SECRET = f"instructor-token-{secrets.token_hex(8)}"

ATTACKS = '''
import ctypes, os, socket


def initial_stack():
    """The bytes from argv[0] to the top of the initial stack: the argument and environment strings."""
    libc = ctypes.CDLL(None, use_errno=True)
    address = ctypes.c_void_p.in_dll(libc, "program_invocation_name").value
    reader, writer = os.pipe()
    seen = b""
    while len(seen) < 1 << 20:
        count = libc.write(writer, ctypes.c_void_p(address), 4096 - address % 4096)
        if count <= 0:
            break  # EFAULT: past the top of the stack
        seen += os.read(reader, count)
        address += count
    return seen.decode("latin-1")


def read(path):
    with open(path) as stream:
        return stream.read()[:40]
'''


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    """One runner for every attack here, started with a planted secret in the grader's environment."""
    os.environ["GRADER_TEST_SECRET"] = SECRET
    try:
        runner = SandboxRunner(Limits(timeout=5.0))
        runner.warm_up()
    finally:
        del os.environ["GRADER_TEST_SECRET"]
    with runner:
        yield runner


@pytest.fixture(scope="module")
def attacker(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mallory")
    (folder / "ex01_linear_model.py").write_text(ATTACKS)
    return folder / "ex01_linear_model.py"


def run(sandbox, path, *probes):
    return sandbox.run(path.stem, path, probes)


def test_the_graders_environment_never_reaches_the_zygote_or_a_submission(sandbox, attacker):
    assert SECRET.encode() not in Path(f"/proc/{sandbox._zygote.process.pid}/environ").read_bytes()
    stack, = run(sandbox, attacker, call("initial_stack"))
    assert isinstance(stack, Returned) and "grader.sandbox_child" in stack.value  # the scan reached the strings
    assert SECRET not in stack.value
