"""A copy of the kit to change in a test (never the real tree), and the kit's own commands run inside it."""

from __future__ import annotations

import ast
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UNTRACKED = shutil.ignore_patterns(".git", ".venv", ".tox", "__pycache__", "*.egg-info", ".pytest_cache", ".hypothesis", "out")


def copy_kit(target: Path) -> Path:
    """The kit's files (tracked, or not ignored, where this is a git checkout) copied to `target`."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                            capture_output=True, text=True)
    if listed.returncode != 0:  # not a checkout (an unpacked sdist): everything but caches and environments
        shutil.copytree(ROOT, target, ignore=UNTRACKED)
        return target
    for name in filter(None, listed.stdout.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def run_in(kit: Path, command: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """A command line of the guide run in `kit`, where `grader` and `python` are the copy's own (`python -m grader` with
    the copy as working folder imports the copy's package, not the installed one)."""
    words = shlex.split(command)
    if words[0] == "grader":
        words = [sys.executable, "-m", "grader", *words[1:]]
    elif words[0] == "python":
        words = [sys.executable, *words[1:]]
    return subprocess.run(words, cwd=kit, capture_output=True, text=True, timeout=timeout)


def register(path: Path, exercise: str) -> None:
    """Append `exercise` to the `EXERCISES` tuple of the module at `path`, as a contributor does by hand."""
    source = path.read_text()
    assignment = next(node for node in ast.parse(source).body if isinstance(node, (ast.Assign, ast.AnnAssign))
                      and "EXERCISES" in [getattr(t, "id", "") for t in getattr(node, "targets", [getattr(node, "target", None)])])
    lines = source.splitlines(keepends=True)
    end = sum(len(line) for line in lines[: assignment.value.end_lineno - 1]) + assignment.value.end_col_offset - 1
    assert source[end] == ")", f"EXERCISES in {path} is not a tuple written with parentheses"
    path.write_text(f'{source[:end]}"{exercise}", {source[end:]}')
