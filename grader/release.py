"""solutions/ → exercises/: every answer region becomes a stub that raises NotImplementedError.

An answer region is the lines between `### BEGIN SOLUTION` and `### END SOLUTION`; the stub keeps the indentation
of the BEGIN marker. `exercises/` is generated and committed; `release --check` (and a test) fail when it drifts.
"""

from __future__ import annotations

import re
from pathlib import Path

from grader.files import atomic_write_text
from grader.model import STUB_MESSAGE

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = f'raise NotImplementedError("{STUB_MESSAGE}")'
ROOT = Path(__file__).resolve().parent.parent


class ReleaseError(ValueError):
    """A solution file whose markers do not pair up."""


def strip_solutions(source: str, filename: str = "<source>") -> str:
    """The student's version of a solution file: each marked region replaced by a stub at its indentation."""
    output, inside, begin_line = [], False, 0
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        marker = line.strip()
        if marker == BEGIN:
            if inside:
                raise ReleaseError(f"{filename}:{number}: {BEGIN} inside another region (opened at line {begin_line})")
            inside, begin_line = True, number
            indent = line[: len(line) - len(line.lstrip())]
            output.append(f"{indent}# YOUR CODE HERE\n{indent}{STUB}\n")
        elif marker == END:
            if not inside:
                raise ReleaseError(f"{filename}:{number}: {END} without a {BEGIN}")
            inside = False
        elif not inside:
            output.append(line)
    if inside:
        raise ReleaseError(f"{filename}:{begin_line}: {BEGIN} is never closed")
    return "".join(output)


def solution_regions(source: str) -> list[str]:
    """The text of every answer region (to prove that none of it reaches a student)."""
    return re.findall(rf"{re.escape(BEGIN)}\n(.*?)\n[ \t]*{re.escape(END)}", source, flags=re.S)


def expected_exercises(solutions: Path) -> dict[str, str]:
    """File name -> stub text for every solution module."""
    return {path.name: strip_solutions(path.read_text(), str(path)) for path in sorted(solutions.glob("ex*.py"))}


def write_exercises(*, solutions: Path = ROOT / "solutions", exercises: Path = ROOT / "exercises") -> list[Path]:
    """Regenerate exercises/ from solutions/; returns the files written."""
    exercises.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in expected_exercises(solutions).items():
        target = exercises / name
        if not target.exists() or target.read_text() != text:
            atomic_write_text(target, text)
            written.append(target)
    return written


def drifted(*, solutions: Path = ROOT / "solutions", exercises: Path = ROOT / "exercises") -> list[str]:
    """Names of exercise files that differ from what solutions/ generates (or are missing or extra)."""
    expected = expected_exercises(solutions)
    present = {p.name for p in exercises.glob("ex*.py")}
    stale = [name for name, text in expected.items() if not (exercises / name).exists() or (exercises / name).read_text() != text]
    return sorted(stale + sorted(present - set(expected)))
