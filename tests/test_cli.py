"""The command line as a student and an instructor run it: `python -m grader`, a real process, its output piped."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.checks import EXERCISES

ROOT = Path(__file__).resolve().parent.parent


def grader(*args: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # output to a pipe is buffered
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300)


def test_check_prints_everything_and_exits_0_when_all_pass():
    done = grader("check", "ex01", "ex02", "--path", "solutions", "--seed", "3")
    assert done.returncode == 0, done.stderr
    assert "ex01_linear_model." in done.stdout and "ex02_derivative." in done.stdout
    assert done.stdout.rstrip().endswith("(random inputs drawn with --seed 3)")  # flushed before the fast exit


def test_check_exits_1_when_a_check_fails():
    done = grader("check", "ex01", "--path", "exercises", "--seed", "3")
    assert done.returncode == 1
    assert "NotImplementedError" in done.stdout


@pytest.mark.parametrize("args, message", [
    (("check", "ex99"), "unknown exercise 'ex99'"),
    (("check", "--path", "no/such/folder"), "no folder no/such/folder"),
    (("grade", "no/such/folder", "--out", "out"), "no folder no/such/folder"),
    (("check", "--timeout"), "expected one argument"),
])
def test_bad_input_exits_2_with_what_to_do(args, message):
    done = grader(*args)
    assert done.returncode == 2
    assert message in done.stderr


def test_help_exits_0():
    done = grader("--help")
    assert done.returncode == 0 and "check" in done.stdout


@pytest.mark.parametrize("exercise", EXERCISES[:4])
def test_the_torch_free_exercises_are_checked_without_importing_torch(exercise):
    code = (f"import sys; from grader.cli import main; main(['check', '{exercise}', '--path', 'solutions', '--seed', '0']); "
            "print('torch imported' if 'torch' in sys.modules else 'no torch')")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.stdout.splitlines()[-1] == "no torch"


def test_nbgrader_without_its_extra_names_the_extra(tmp_path):
    # `-S`: no site-packages, so neither jupytext nor nbformat can be imported, as on a kit installed without the extra
    environment = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-S", "-m", "grader", "nbgrader", str(tmp_path / "course")], cwd=tmp_path,
                          env=environment, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "not installed; install the kit's nbgrader extra" in done.stderr and '-e ".[nbgrader]"' in done.stderr
    assert not (tmp_path / "course").exists()
