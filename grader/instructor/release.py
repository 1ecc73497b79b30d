"""solutions/ → exercises/ (the questions) and → worked solutions (the answers, after the deadline).

A solution module marks two kinds of region that students must not receive before the deadline:

- an **answer region** in a code cell, the lines between `### BEGIN SOLUTION` and `### END SOLUTION`; in exercises/
  it becomes a stub that raises NotImplementedError at the indentation of the BEGIN marker;
- a **derivation region** in a markdown cell, the lines between `# ### BEGIN SOLUTION` and `# ### END SOLUTION`
  (the same markers, written as markdown lines); in exercises/ it disappears, and so does a markdown cell that held
  nothing else.

`exercises/` is generated and committed; `release --check` (and a test) fail when it drifts. `release --solutions`
writes the worked solutions: the modules whole, derivations included, as .py and .ipynb.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from grader.instructor.files import atomic_write_text
from grader.model import STUB_MESSAGE

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
MARKDOWN_BEGIN, MARKDOWN_END = f"# {BEGIN}", f"# {END}"
STUB = f'raise NotImplementedError("{STUB_MESSAGE}")'
ROOT = Path(__file__).resolve().parents[2]
CELL_HEADER = "# %%"
EMPTY_MARKDOWN_CELL = re.compile(r"^# %%[^\n]*\[markdown\][^\n]*\n(?:[ \t]*#?[ \t]*\n)*(?=# %%|\Z)", re.M)


class ReleaseError(ValueError):
    """A solution file whose markers do not pair up, or sit in the wrong kind of cell."""


@dataclass(frozen=True)
class Region:
    """One marked region: `kind` is "code" (an answer) or "markdown" (a derivation); lines are 0-based indices."""

    kind: str
    begin: int  # the BEGIN marker's line
    end: int  # the END marker's line
    indent: str
    text: str  # the lines between the markers


def _marker(line: str) -> tuple[str, str] | None:
    """("code" | "markdown", "begin" | "end") for a marker line, else None."""
    text = line.strip()
    return {BEGIN: ("code", "begin"), END: ("code", "end"),
            MARKDOWN_BEGIN: ("markdown", "begin"), MARKDOWN_END: ("markdown", "end")}.get(text)


def regions(source: str, filename: str = "<source>") -> list[Region]:
    """Every marked region of a solution module, validated: markers pair up, do not nest, do not cross a cell
    boundary, and each kind sits in its kind of cell (answers in code cells, derivations in markdown cells)."""
    lines = source.splitlines()
    found, cell, opened = [], "code", None
    for index, line in enumerate(lines):
        where = f"{filename}:{index + 1}"
        if line.startswith(CELL_HEADER):
            if opened is not None:
                raise ReleaseError(f"{where}: a new cell starts inside the region opened at line {opened[1] + 1}; "
                                   f"close it with its END marker first")
            cell = "markdown" if "[markdown]" in line else "code"
            continue
        marker = _marker(line)
        if marker is None:
            continue
        kind, edge = marker
        if kind != cell:
            raise ReleaseError(f"{where}: a {kind} marker in a {cell} cell (answers are marked in code cells with "
                               f"{BEGIN!r}, derivations in markdown cells with {MARKDOWN_BEGIN!r})")
        if edge == "begin":
            if opened is not None:
                raise ReleaseError(f"{where}: {BEGIN} inside another region (opened at line {opened[1] + 1})")
            opened = (kind, index, line[: len(line) - len(line.lstrip())])
        else:
            if opened is None:
                raise ReleaseError(f"{where}: {END} without a {BEGIN}")
            _, start, indent = opened
            found.append(Region(kind, start, index, indent, "\n".join(lines[start + 1 : index])))
            opened = None
    if opened is not None:
        raise ReleaseError(f"{filename}:{opened[1] + 1}: {BEGIN} is never closed")
    return found


def _rewrite(source: str, filename: str, replace: Callable[[Region, list[str]], list[str]]) -> str:
    """`source` with every marked region (markers included) replaced by `replace(region, its lines)`."""
    lines = source.splitlines()
    output, position = [], 0
    for region in regions(source, filename):
        output.extend(lines[position : region.begin])
        output.extend(replace(region, lines[region.begin : region.end + 1]))
        position = region.end + 1
    output.extend(lines[position:])
    text = "\n".join(output) + ("\n" if source.endswith("\n") else "")
    return EMPTY_MARKDOWN_CELL.sub("", text)


def strip_solutions(source: str, filename: str = "<source>") -> str:
    """The student's version of a solution file: each answer region replaced by a stub at its indentation, each
    derivation removed."""
    def replace(region: Region, marked: list[str]) -> list[str]:
        if region.kind == "markdown":
            return []
        return [f"{region.indent}# YOUR CODE HERE", f"{region.indent}{STUB}"]

    return _rewrite(source, filename, replace)


def without_derivations(source: str, filename: str = "<source>") -> str:
    """The solution file as a student hands it in: answers kept (markers and all), derivations removed."""
    return _rewrite(source, filename, lambda region, marked: [] if region.kind == "markdown" else marked)


def worked_solution(source: str, filename: str = "<source>") -> str:
    """The solution file as released after the deadline: everything kept, the derivations' marker lines dropped."""
    return _rewrite(source, filename, lambda region, marked: marked[1:-1] if region.kind == "markdown" else marked)


def solution_regions(source: str) -> list[str]:
    """The text of every answer and derivation region (to prove that none of it reaches a student). A derivation's
    lines are returned as the module holds them, markdown lines with their leading `# `."""
    return [region.text for region in regions(source)]


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


# ------------------------------------------------------------------------------------------ worked solutions

SOLUTIONS_README = """# Worked solutions

These are the reference solutions of the gradient-descent exercises, released after the deadline. Each exercise
comes twice, with the same content: `exNN_*.py` (jupytext percent format: `# %%` starts a code cell,
`# %% [markdown]` a text cell) and `exNN_*.ipynb` (the same cells as a notebook).

Compared with the exercise files you worked on, they hold

- the code of every function, between `### BEGIN SOLUTION` and `### END SOLUTION` (where your file had
  `raise NotImplementedError`), and
- the worked derivations that the exercises asked for (the derivatives, the matrix-derivative homework, the
  flattened sizes), as text cells next to the question they answer.

Your own answer may look different and be just as right; these show one way to get there. Run one as a script
(`python ex02_derivative.py`) to see its demonstration, or check it like your own work:
`grader check ex02_derivative --path .`

Files: {files}
"""


def notebook_json(percent_source: str) -> str:
    """The .ipynb text of a percent-format module (the kit's own converter: the core install has no jupytext)."""
    from grader.notebook import percent_to_notebook

    return percent_to_notebook(percent_source)


def write_worked_solutions(*, out: Path, solutions: Path = ROOT / "solutions") -> list[Path]:
    """`out/exNN_*.py`, `out/exNN_*.ipynb` and `out/README.md`: the worked solutions; returns the files written."""
    modules = sorted(solutions.glob("ex*.py"))
    if not modules:
        raise ReleaseError(f"no solution modules in {solutions}: expected files such as {solutions / 'ex01_linear_model.py'}")
    worked = {path.stem: worked_solution(path.read_text(), str(path)) for path in modules}  # validates every file first
    notebooks = {stem: notebook_json(text) for stem, text in worked.items()}
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for stem, text in worked.items():
        for path, content in ((out / f"{stem}.py", text), (out / f"{stem}.ipynb", notebooks[stem])):
            atomic_write_text(path, content)
            written.append(path)
    readme = out / "README.md"
    atomic_write_text(readme, SOLUTIONS_README.format(files=", ".join(f"`{stem}`" for stem in worked)))
    return written + [readme]
