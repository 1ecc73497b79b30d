"""The command line as a student and an instructor run it: `python -m grader`, a real process, its output piped."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.checks import EXERCISES

ROOT = Path(__file__).resolve().parent.parent


def grader(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # output to a pipe is buffered
    environment["PYTHONPATH"] = os.pathsep.join([str(ROOT), environment.get("PYTHONPATH", "")])  # from any folder
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=cwd, env=environment, capture_output=True, text=True, timeout=300)


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
    (("check", "--timeout", "0", "ex01"), "--timeout must be a positive number of seconds (got 0)"),
    (("check", "--timeout", "-1", "ex01"), "--timeout must be a positive number of seconds (got -1)"),
    (("check", "missing/ex02_derivative.ipynb"), "no such file: missing/ex02_derivative.ipynb"),
    (("grade", "sample_class", "--out", "out", "--timeout", "0"), "--timeout must be a positive number"),
    (("release", "--check", "--out", "x"), "--check and --out do not go together"),
    (("release", "--exercises", "--solutions"), "--exercises and --solutions do not go together"),
    (("doctor", "--caught", "-k", "nothing"), "-k nothing selects no test that grades a submission"),
])
def test_bad_input_exits_2_with_what_to_do(args, message):
    done = grader(*args)
    assert done.returncode == 2
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and not done.stdout, done.stderr


@pytest.fixture
def a_file(tmp_path) -> Path:
    (tmp_path / "notes.txt").write_text("not a folder")
    return tmp_path / "notes.txt"


@pytest.mark.parametrize("args, message", [
    (("gradescope", "--out", "{tmp}"), "is a folder; give a file name such as"),
    (("gradescope", "--out", "{file}/x.zip"), "notes.txt is a file, not a folder"),
    (("nbgrader", "{file}"), "notes.txt is a file; give a folder"),
    (("release", "--solutions", "--out", "{file}"), "notes.txt is a file; give a folder"),
    (("release", "--out", "{file}/bundle"), "notes.txt is a file, not a folder"),
])
def test_an_output_that_cannot_be_written_is_one_line_and_exit_2(args, message, tmp_path, a_file):
    done = grader(*(a.format(tmp=tmp_path, file=a_file) for a in args), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_every_argument_of_every_command_has_help_text():
    from grader.cli import parser

    commands = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name, command in commands.choices.items():
        bare = [a.dest for a in command._actions if not a.help]
        assert not bare, f"grader {name}: no help text for {bare}"


def test_a_bare_gradescope_says_where_it_writes(tmp_path):
    done = grader("gradescope", "--seed", "1", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"writing autograder.zip in the current folder, {tmp_path}" in done.stdout
    assert (tmp_path / "autograder.zip").is_file()


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
