"""The student bundle (`grader release --out DIR`) and the installable kit that other front ends ship.

A *kit* is a folder that `pip install .` turns into the `grader` command: the `grader` package and a generated
`pyproject.toml`. The Gradescope autograder ships the whole package (hidden checks included). The student bundle
ships the package but `grader/instructor/` (`ships`): the core both sides run (the check model, wire, comparison,
the judges' logic, probes, the in-process runner, the command line for `check`, the notebook helper) and the public
checks as data (`grader/data/`, baked at release time by `grader.instructor.bake`), plus `exercises/` (the stubs)
and a README for students.
It never holds `solutions/`, the kit's tests, the hidden checks or the instructor's check modules (their references
implement the exercises).

`audit` proves it for a written bundle and `write_bundle` refuses one that fails it: (a) no line of an answer
region, (b) no closed-form answer in any spelling the kit knows (`answer_spellings`), (c) no function that, used as
an exercise function of the same arity, passes a public check that the stub fails (`grader.instructor.leaks`).
"""

from __future__ import annotations

import gzip
import itertools
import json
import os
import re
import shutil
import site
import subprocess
import sys
from pathlib import Path
from typing import Iterable

from grader import __version__
from grader.instructor import release
from grader.instructor.files import atomic_write_text

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "grader"
HIDDEN_CHECKS = PACKAGE / "instructor" / "checks" / "hidden"
DEFAULT_DEPENDENCIES = ["numpy>=1.24", "sympy>=1.12", "torch>=2.2", "matplotlib>=3.7"]
# Lines too generic to count as solution text when they turn up elsewhere (`else:`, `return out`, a closing bracket).
GENERIC_LINE = re.compile(r"^(else:|try:|finally:|pass|break|continue|return|return \w+|[)\]}]+,?|\w+ = \[\]|\.\.\.)$")

# What a student bundle ships of the package: all of `grader/` but `grader/instructor/` (class grading, sandbox,
# Gradescope, nbgrader, release, the bake, the audit, and the check modules that compute references); the release
# adds the public checks' data it baked (`grader/data/`). The layout states the split: a module ships unless it lives
# under `grader/instructor/`.
INSTRUCTOR = "grader/instructor/"


def ships(relative: str) -> bool:
    """Whether the package file at `relative` (a posix path from the repository root) goes to students."""
    return relative.startswith("grader/") and not relative.startswith(INSTRUCTOR)


# Closed forms that the lecture asks students to find, as people write them (each is matched after `normalise`).
# The sympy derivations of the public checks add their own spellings (`derived_spellings`).
KNOWN_ANSWERS = (
    "2*x*(x*w - y)", "2·(x·w − y)·x", "2x(xw − y)", "2·x·(x·w − y)", "(1/N) Σ 2x(x·w − y)", "(1/N) Σ 2·x·(x·w − y)",
    "2·(ŷ − y)·(x, x², 1)", "2·(ŷ − y)·x²", "(2/m) Σ (W·x − y)·x", "(2/m) Σᵢ (W·xᵢ − yᵢ)·xᵢ",
    "lr_sum·m/2", "lr_sum*m/2", "lr_sum * m / 2", "α = lr_sum·m/2",
    "(B + Bᵀ)x", "(B + B.T) @ x", "(B + B.T) * x", "2Aᵀ(Ax − b)", "2 * A.T @ (A @ x - b)", "2*A.T*(A*x - b)", "Aᵀ, shape (n, m)",
    "64·3·3 = 576", "64*3*3 = 576", "28 → 24 → 20 → 10 → 6 → 3", "32 → 28 → 24 → 12 → 8 → 4", "64·4·4 = 1024",
)


class BundleLeak(RuntimeError):
    """A bundle that would hand a student solution text, a hidden check or an answer."""


class AuditFailed(RuntimeError):
    """The release audit itself could not run: nothing is known about leaks, so the bundle is not kept."""


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
grader = ["data/*", "data/*/*"]
"""


def shipped_files(package: Path = PACKAGE) -> list[Path]:
    """The package's modules that ship to students (`ships`), as paths under `package`'s parent."""
    return sorted(p for p in package.rglob("*.py") if "__pycache__" not in p.parts and ships(p.relative_to(package.parent).as_posix()))


def copy_package(target: Path, *, hidden: bool) -> Path:
    """Copy the `grader` package to `target/grader`: all of it when `hidden` (an instructor's kit), else what `ships`."""
    destination = target / "grader"
    if destination.exists():
        shutil.rmtree(destination)
    if hidden:
        skip = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", "sample_class")
        shutil.copytree(PACKAGE, destination, ignore=skip)
        return destination
    for path in shipped_files():
        relative = path.relative_to(ROOT)
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target / relative)
    return destination


def write_kit(target: Path, *, hidden: bool, description: str) -> Path:
    """An installable kit in `target`: the package (all of it, or what ships to students) and its pyproject.toml."""
    target.mkdir(parents=True, exist_ok=True)
    copy_package(target, hidden=hidden)
    atomic_write_text(target / "pyproject.toml", pyproject(description))
    return target


# ------------------------------------------------------------------------------------------------- the student bundle


TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
# How students install the bundle. pip asks every index about every package, and by default retries an index it
# cannot reach five times per package (minutes where PyTorch's is blocked): `--retries 1` keeps that to one retry.
INSTALL_COMMAND = "python3 -m pip install --retries 1 -c constraints.txt ."
UNPINNED_COST = "about 5.6 GB"  # what pip downloads for torch from PyPI on Linux: the CUDA build and its libraries


def student_constraints() -> str:
    """constraints.txt of the bundle: the CPU build of torch, the same pin as the kit's constraints/cpu.txt."""
    from grader.instructor.gradescope import torch_requirement

    return f"""# `{INSTALL_COMMAND}` takes the CPU build of torch (a few hundred MB) instead of the CUDA build
# ({UNPINNED_COST}). Leave out `-c constraints.txt` only to keep a torch you already have (Colab).
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
{INSTALL_COMMAND}
```

This installs the `grader` command with numpy, sympy, matplotlib and the CPU build of PyTorch (a few hundred MB;
`constraints.txt` points pip at PyTorch's own index for it, and `--retries 1` stops pip from waiting long on that
index where your network cannot reach it).

**Do not leave out `-c constraints.txt`** unless you already have torch installed: without it, pip downloads
torch from PyPI with its CUDA libraries, {UNPINNED_COST} on Linux, whether or not your computer has a GPU. The same
happens when your network blocks download.pytorch.org (pip then prints `Could not fetch URL
https://download.pytorch.org/...`): stop it with Ctrl-C and install on another network, or ask your course.

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
input, the expected value and where it comes from in the problem's own words, what your code returned and the
tolerance; a line starting with `Hint:` names a common mistake when your answer looks like one. The inputs are random on every run (the last
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


def assemble_bundle(*, out: Path, solutions: Path = ROOT / "solutions", seeds: Iterable[int] | None = None) -> Path:
    """The student bundle in `out`, unaudited: exercises/ (stubs), the shipped package with the baked public checks
    (`seeds` per exercise; `grader.instructor.bake.seeds_of` by default), README.md, pyproject.toml."""
    from grader.instructor.bake import write_baked

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
    write_baked(out / "grader" / "data", seeds=seeds)
    write_student_files(out, stubs)
    return out


def write_bundle(*, out: Path, solutions: Path = ROOT / "solutions", seeds: Iterable[int] | None = None) -> Path:
    """`assemble_bundle`, then `audit`: a bundle that leaks is removed again and refused with what leaks where
    (`BundleLeak`); one the audit could not finish is removed too (`AuditFailed`)."""
    out = out.resolve()  # the audit runs a child in the bundle's folder: a relative path would be joined twice
    assemble_bundle(out=out, solutions=solutions, seeds=seeds)
    try:
        problems = audit(out, solutions=solutions)
    except BaseException:
        remove_bundle(out)
        raise
    if problems:
        remove_bundle(out)
        raise BundleLeak("refusing to write a student bundle that leaks answers:\n" + "\n".join(problems[:20]))
    return out


def remove_bundle(out: Path) -> None:
    """Remove what `assemble_bundle` wrote in `out` (and nothing else the folder holds)."""
    for written in (out / "exercises", out / "grader", out / "README.md", out / "constraints.txt", out / "pyproject.toml"):
        shutil.rmtree(written) if written.is_dir() else written.unlink(missing_ok=True)


# ------------------------------------------------------------------------------------------------- the audit


def significant(line: str) -> str | None:
    """The stripped line when it could give an answer away: not blank, not a comment, not a generic statement."""
    text = line.strip()
    if not text or text.startswith("#") or GENERIC_LINE.match(text):
        return None
    return text


def prose(line: str) -> str | None:
    """A line of text (a markdown line, or a comment line as a module holds it) long enough to quote a derivation."""
    text = line.strip().lstrip("#").strip()
    return text if len(text) >= 20 else None


def solution_lines(solutions: Path) -> set[str]:
    """Every significant line inside an answer region of `solutions/`, and every line of prose inside a derivation
    region, that the stubs do not also show."""
    found, given = set(), set()
    for path in sorted(solutions.glob("ex*.py")):
        source = path.read_text()
        for region in release.regions(source, str(path)):
            found.update(filter(None, map(prose if region.kind == "markdown" else significant, region.text.splitlines())))
        stub = release.strip_solutions(source, str(path)).splitlines()
        given.update(filter(None, [*map(significant, stub), *map(prose, stub)]))
    return found - given


def hidden_lines() -> set[str]:
    """Significant lines of the hidden checks that appear nowhere in the rest of the package."""
    hidden = {s for path in HIDDEN_CHECKS.rglob("*.py") for s in map(significant, path.read_text().splitlines()) if s}
    public = {s for path in PACKAGE.rglob("*.py") if HIDDEN_CHECKS not in path.parents
              for s in map(significant, path.read_text().splitlines()) if s}
    return hidden - public


NORMAL_FORMS = {"·": "*", "×": "*", "−": "-", "²": "**2", "³": "**3", "ᵀ": ".T", "ᵢ": "_i", "@": "*", "Σ": "sum"}


def normalise(text: str) -> str:
    """A spelling-blind form of math text: no whitespace or multiplication signs, one symbol for each operation."""
    for symbol, plain in NORMAL_FORMS.items():
        text = text.replace(symbol, plain)
    text = text.replace("**", "^")
    return re.sub(r"[\s*]", "", text)


def derived_spellings() -> set[str]:
    """How the derivatives the public checks ask for can be written: sympy's forms (as printed, expanded, factored),
    with the factors of a product and the terms of a sum in any order."""
    import sympy

    from grader.references import derivative

    asked = [("(x*w - y)**2", "w"), *(("(x**2*w2 + x*w1 + b - y)**2", p) for p in ("w1", "w2", "b"))]
    found = set()
    for text, wrt in asked:
        expr = derivative(text, wrt)
        for form in {expr, sympy.expand(expr), sympy.factor(expr)}:
            found |= orderings(form)
    return found


def orderings(expr, limit: int = 200) -> set[str]:
    """Spellings of `expr` with its product's factors and the sums inside in every order (at most `limit`)."""
    import sympy

    def spell(e) -> list[str]:
        if isinstance(e, sympy.Add):
            terms = [spell(t)[0] for t in e.args]
            return [" + ".join(p).replace("+ -", "- ") for p in itertools.islice(itertools.permutations(terms), 6)]
        if isinstance(e, sympy.Mul):
            factors = [f"({s})" if isinstance(f, sympy.Add) else s for f in e.args for s in spell(f)[:1]]
            return ["*".join(p) for p in itertools.islice(itertools.permutations(factors), 24)]
        return [str(e)]

    return set(itertools.islice((s for s in spell(expr) if len(normalise(s)) >= 6), limit)) | {str(expr)}


def answer_spellings() -> dict[str, str]:
    """Normalised spelling -> how it reads, for every closed-form answer the audit knows."""
    return {normalise(s): s for s in (*KNOWN_ANSWERS, *derived_spellings())}


def bundle_text(path: Path) -> str | None:
    """A bundle file's text (a baked data file decompressed); None for binary files."""
    try:
        raw = path.read_bytes()
        text = (gzip.decompress(raw) if path.name.endswith(".gz") else raw).decode()
    except (UnicodeDecodeError, OSError, EOFError, gzip.BadGzipFile):
        return None
    if path.suffix == ".ipynb":  # the cells' own lines, not their JSON escapes
        try:
            return "\n".join("".join(cell.get("source", "")) for cell in json.loads(text)["cells"])
        except (ValueError, KeyError, TypeError, AttributeError):
            return text
    return text


def shipped_paths() -> set[str]:
    """The shipped modules' paths relative to the repository (posix)."""
    return {p.relative_to(ROOT).as_posix() for p in shipped_files()}


def audit(bundle: Path, *, solutions: Path = ROOT / "solutions", functions: bool = True) -> list[str]:
    """What in `bundle` must not reach a student, one line each: `FILE[:LINE]: what (clause)`.

    Instructor-only files (solutions, tests, hidden checks, anything under `grader/instructor/`); (a) a line of an
    answer region; (b) a closed-form answer in a spelling the kit knows; (c) with `functions`, a function that passes
    a public check the stub fails when used as that exercise function.
    """
    problems = []
    answers, secret, spellings = solution_lines(solutions), hidden_lines(), answer_spellings()
    for path in sorted(p for p in bundle.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        relative = path.relative_to(bundle).as_posix()
        parts = relative.split("/")
        if parts[0] in ("solutions", "tests") or "hidden" in parts or relative.startswith(INSTRUCTOR):
            problems.append(f"{relative}: instructor-only file")
            continue
        text = bundle_text(path)
        if text is None:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            plain = normalise(line)  # comments too: an exercise's text cells are comments
            reads = next((reads for spelling, reads in spellings.items() if spelling in plain), None)
            if reads is not None:
                problems.append(f"{relative}:{number}: the closed-form answer {reads!r} (clause b)")
            key = significant(line)
            quoted = next((k for k in (key, prose(line)) if k in answers), None)
            if quoted is not None:
                problems.append(f"{relative}:{number}: a line of a solution region, {quoted!r} (clause a)")
            if key in secret:
                problems.append(f"{relative}:{number}: a hidden check's line {key!r}")
    if functions and (bundle / "grader").is_dir():
        problems += function_leaks(bundle)
    return problems


def function_leaks(bundle: Path, timeout: float = 600) -> list[str]:
    """Clause (c), run by the bundle's own python path in a child process (`grader.instructor.leaks`);
    `AuditFailed` when that child does not finish."""
    from grader.instructor import leaks

    bundle = bundle.resolve()
    # `-S` and the site-packages by hand: no .pth file runs, so an editable install of this kit (`pip install -e .`)
    # cannot answer `import grader.instructor` for a bundle that has none.
    path = os.pathsep.join([str(bundle), *site.getsitepackages()])
    env = {"PYTHONPATH": path, "PATH": "/usr/bin:/bin", "HOME": str(bundle), "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        result = subprocess.run([sys.executable, "-S", str(Path(leaks.__file__)), str(bundle)], capture_output=True,
                                text=True, timeout=timeout, env=env, cwd=bundle)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise AuditFailed(f"the release audit could not run its function check (clause c): {error}") from None
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1][:300]
        raise AuditFailed(f"the release audit crashed in its function check (clause c), so nothing is known about "
                          f"leaks: {last}")
    return [line for line in result.stdout.splitlines() if line.strip()]
