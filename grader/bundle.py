"""The student bundle (`grader release --out DIR`) and the installable kit that other front ends ship.

A *kit* is a folder that `pip install .` turns into the `grader` command: the `grader` package and a generated
`pyproject.toml`. The student bundle is a kit with public checks only, plus `exercises/` (the stubs) and a README
for students; the Gradescope autograder ships a kit with the hidden checks too. Neither ever holds `solutions/` or
the kit's tests. `audit` proves it for a written bundle: no line of an answer region and no hidden check text.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Iterable

from grader import __version__, release
from grader.files import atomic_write_text

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "grader"
HIDDEN_CHECKS = PACKAGE / "checks" / "hidden"
DEFAULT_DEPENDENCIES = ["numpy>=1.24", "sympy>=1.12", "torch>=2.2", "matplotlib>=3.7"]
# Lines too generic to count as solution text when they turn up elsewhere (`else:`, `return out`, a closing bracket).
GENERIC_LINE = re.compile(r"^(else:|try:|finally:|pass|break|continue|return|return \w+|[)\]}]+,?|\w+ = \[\]|\.\.\.)$")


class BundleLeak(RuntimeError):
    """A bundle that would hand a student solution text or a hidden check."""


# ------------------------------------------------------------------------------------------------- the kit


def dependencies() -> list[str]:
    """The runtime dependencies declared in the repository's pyproject.toml."""
    try:
        import tomllib

        return list(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])
    except (ImportError, OSError, KeyError):
        return list(DEFAULT_DEPENDENCIES)


def pyproject(description: str) -> str:
    """A minimal pyproject.toml that installs the `grader` package and its command."""
    deps = "".join(f'    "{d}",\n' for d in dependencies())
    return f"""[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "gd-grader"
version = "{__version__}"
description = "{description}"
requires-python = ">=3.10"
dependencies = [
{deps}]

[project.scripts]
grader = "grader.cli:main"

[tool.setuptools.packages.find]
include = ["grader*"]

[tool.setuptools.package-data]
grader = ["data/*"]
"""


def copy_package(target: Path, *, hidden: bool) -> Path:
    """Copy the `grader` package to `target/grader`; the hidden checks only when `hidden`."""

    def ignore(folder: str, names: list[str]) -> set[str]:
        skipped = {n for n in names if n == "__pycache__" or n.endswith((".pyc", ".pyo")) or n == "sample_class"}
        if not hidden and Path(folder).resolve() == (PACKAGE / "checks").resolve():
            skipped.add("hidden")
        return skipped

    destination = target / "grader"
    if destination.exists():
        shutil.rmtree(destination)
    shutil.copytree(PACKAGE, destination, ignore=ignore)
    return destination


def write_kit(target: Path, *, hidden: bool, description: str) -> Path:
    """An installable kit in `target`: the package (public checks, or all checks) and its pyproject.toml."""
    target.mkdir(parents=True, exist_ok=True)
    copy_package(target, hidden=hidden)
    atomic_write_text(target / "pyproject.toml", pyproject(description))
    return target


# ------------------------------------------------------------------------------------------------- the student bundle


TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def student_constraints() -> str:
    """constraints.txt of the bundle: the CPU build of torch, the same pin as the kit's constraints/cpu.txt."""
    from grader.gradescope import torch_requirement

    return f"""# `pip install -c constraints.txt .` takes the CPU build of torch (a few hundred MB) instead of a multi-GB CUDA build.
# Leave out `-c constraints.txt` to keep a torch you already have (Colab) or to let pip choose a GPU build.
--extra-index-url {TORCH_CPU_INDEX}
{torch_requirement()}
"""


def check_cells(exercise: str) -> list[tuple[str, str]]:
    """The cells that end each bundled notebook: check the functions as they stand in the kernel."""
    return [("markdown", "## Check your work\n\nRun this cell after changing a function: it runs the public checks on "
                         "the functions as they stand in this notebook (no need to save) and shows a table of results."),
            ("code", f'from grader.notebook import check\n\ncheck("{exercise}")')]


def write_notebooks(exercises: Path, stubs: dict[str, str]) -> list[Path]:
    """`exercises/<name>.ipynb` beside each `<name>.py`, made from the same text, ending with a check cell."""
    from grader.notebook import percent_to_notebook

    written = []
    for name, text in stubs.items():
        path = exercises / name.replace(".py", ".ipynb")
        atomic_write_text(path, percent_to_notebook(text, extra_cells=check_cells(Path(name).stem)))
        written.append(path)
    return written


def write_student_files(out: Path, stubs: dict[str, str]) -> list[Path]:
    """What the bundle holds besides the package and the `.py` stubs: notebooks, constraints.txt and README.md."""
    written = write_notebooks(out / "exercises", stubs)
    for name, text in (("constraints.txt", student_constraints()), ("README.md", student_readme(stubs))):
        atomic_write_text(out / name, text)
        written.append(out / name)
    return written


def student_readme(exercises: Iterable[str]) -> str:
    """The README a student reads first."""
    listing = "\n".join(f"- `exercises/{name}` (and `.ipynb`)" for name in exercises)
    return f"""# Gradient descent with PyTorch: exercises

This folder is the whole kit: the exercises, and a `grader` that checks your answers on your own machine. Each
exercise comes twice, as a plain Python module (`.py`) and as a notebook (`.ipynb`) with the same text; work in
whichever you like. Its text cells explain the mathematics; each function you write is a stub: a `# YOUR CODE HERE`
line and a `raise NotImplementedError(...)`. Replace the stubs with your code, then ask the grader what it thinks.

{listing}

## Install (once)

On your own computer, in a terminal opened in this folder:

```bash
python3 -m venv .venv && . .venv/bin/activate      # Windows: .venv\\Scripts\\activate
python3 -m pip install -c constraints.txt .
```

This installs the `grader` command with numpy, sympy, matplotlib and the CPU build of PyTorch (a few hundred MB;
`constraints.txt` points pip at it). To use a GPU build instead, or to keep a torch you already have, leave out
`-c constraints.txt`.

In **Colab**, upload this folder (or clone it) and run `!pip install -q ./FOLDER` in a cell: Colab's own torch
(with its GPU) already satisfies the kit and is kept, not reinstalled.

## Check your answers

In a terminal:

```bash
grader check ex01            # one exercise (a prefix of its name is enough)
grader check                 # every exercise file in exercises/
grader check --path my/dir   # your files are somewhere else
grader check exercises/ex01_linear_model.ipynb   # a notebook file
```

Where both `ex01_linear_model.py` and `ex01_linear_model.ipynb` exist, `grader check ex01` reads the one you saved
last (and says so when that is the notebook).

In a notebook, run the last cell (or write it anywhere):

```python
from grader.notebook import check
check("ex01")
```

It checks the functions as they stand in the running notebook, without saving, and shows a table: each check,
passed or failed, its points, the message and the hint.

Each check prints `PASS` or `FAIL` and its points as soon as it is decided. A failure says which call failed, the
input, the expected value and the formula it comes from, what your code returned and the tolerance; a line starting
with `Hint:` names a common mistake when your answer looks like one. The inputs are random on every run (the last
line prints `--seed N`; pass `--seed N` to repeat a run exactly), so copying numbers from a table does not pass.
`grader check` exits with 0 when every check passes.

**Your code runs in a separate process with a time limit** (`--timeout`, default 10 s per call, and the same for
importing your file): a function stuck in a loop is stopped after that time and is not called again, a loop outside
any function is reported as such, and a crash costs only the check that caused it. Ctrl-C stops the run and prints
the checks finished so far. On Windows, where Python cannot fork, the checks of a file run in a fresh Python process
(slower to start) and a notebook's checks run inside the kernel without a time limit: use WSL or Colab for the full
protection.

Checks that need a GPU (`cuda`) run where torch sees one (a Colab GPU runtime) and are listed as `SKIP` elsewhere;
they count neither for nor against you.

These are the public checks. Your course grades your work with more checks of the same functions on other inputs,
so a function that is right in general passes both.
"""


def write_bundle(*, out: Path, solutions: Path = ROOT / "solutions") -> Path:
    """The student bundle in `out`: exercises/ (stubs), the grader with public checks only, README.md, pyproject.toml."""
    out.mkdir(parents=True, exist_ok=True)
    stubs = release.expected_exercises(solutions)
    if not stubs:
        raise FileNotFoundError(f"no solution modules in {solutions}: expected files such as {solutions / 'ex01_linear_model.py'}")
    exercises = out / "exercises"
    if exercises.exists():
        shutil.rmtree(exercises)
    exercises.mkdir()
    for name, text in stubs.items():
        atomic_write_text(exercises / name, text)
    write_kit(out, hidden=False, description="Gradient-descent exercises and their public checks")
    student_files = write_student_files(out, stubs)
    problems = audit(out, solutions=solutions)
    if problems:
        for written in (exercises, out / "grader", out / "pyproject.toml", *student_files):
            shutil.rmtree(written) if written.is_dir() else written.unlink(missing_ok=True)
        raise BundleLeak("refusing to write a student bundle that leaks answers:\n" + "\n".join(problems[:20]))
    return out


# ------------------------------------------------------------------------------------------------- the audit


def significant(line: str) -> str | None:
    """The stripped line when it could give an answer away: not blank, not a comment, not a generic statement."""
    text = line.strip()
    if not text or text.startswith("#") or GENERIC_LINE.match(text):
        return None
    return text


def solution_lines(solutions: Path) -> set[str]:
    """Every significant line inside an answer region of `solutions/` that the stubs do not also show."""
    found, given = set(), set()
    for path in sorted(solutions.glob("ex*.py")):
        source = path.read_text()
        for region in release.solution_regions(source):
            found.update(filter(None, map(significant, region.splitlines())))
        given.update(filter(None, map(significant, release.strip_solutions(source, str(path)).splitlines())))
    return found - given


def hidden_lines() -> set[str]:
    """Significant lines of the hidden checks that appear nowhere in the rest of the package."""
    hidden = {s for path in HIDDEN_CHECKS.rglob("*.py") for s in map(significant, path.read_text().splitlines()) if s}
    public = {s for path in PACKAGE.rglob("*.py") if HIDDEN_CHECKS not in path.parents
              for s in map(significant, path.read_text().splitlines()) if s}
    return hidden - public


def public_check_modules() -> dict[str, str]:
    """Bundle-relative path -> text of each public check module (they carry the references `grader check` judges with)."""
    return {f"grader/checks/{p.name}": p.read_text() for p in (PACKAGE / "checks").glob("ex*.py")}


def audit(bundle: Path, *, solutions: Path = ROOT / "solutions") -> list[str]:
    """What in `bundle` must not reach a student: solution or test folders, hidden checks, answer-region lines.

    A public check module may share lines with a solution (its reference implementation, e.g. ``return x * w``):
    students run those checks on their own machine, and their failure messages show the formula anyway. Such a module
    is allowed only byte for byte as the repository holds it.
    """
    problems = []
    answers, secret = solution_lines(solutions), hidden_lines()
    published = public_check_modules()
    for path in sorted(p for p in bundle.rglob("*") if p.is_file()):
        relative = path.relative_to(bundle).as_posix()
        parts = relative.split("/")
        if parts[0] in ("solutions", "tests") or "hidden" in parts:
            problems.append(f"{relative}: instructor-only file")
            continue
        try:
            text = path.read_text()
        except (UnicodeDecodeError, OSError):
            continue
        exempt = published.get(relative) == text
        for number, line in enumerate(text.splitlines(), start=1):
            key = significant(line)
            if key is None:
                continue
            if key in answers and not exempt:
                problems.append(f"{relative}:{number}: solution line {key!r}")
            if key in secret:
                problems.append(f"{relative}:{number}: hidden check line {key!r}")
    return problems
