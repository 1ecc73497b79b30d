"""`grader nbgrader COURSE_DIR`: an nbgrader course built from solutions/, graded by the kit's own checks.

For each exercise, `source/<assignment>/<exercise>.ipynb` is the solution module read by jupytext (its markdown cells
stay markdown), with nbgrader metadata on every cell that holds an answer region (nbgrader's `### BEGIN SOLUTION`
markers are the kit's markers), and one autograder test cell per check, worth the check's points, placed after the
cell that defines the function it tests. A test cell calls `grader.notebook.run_check` on the notebook's globals.
A hidden check's cell holds only its name (`run_check(..., hidden=True)`): what it does lives in the hidden checks
installed where the course is graded, and it runs only under `nbgrader autograde`. So the cell students receive is
the cell nbgrader recorded, and its checksum holds (nbgrader's hidden-test markers would change every such cell in
release/, and autograde would warn that each one had changed). Every test cell carries the course's seed, the one
to give `grader grade --seed` for the same inputs. Checks that need a capability (a GPU) are left out: nbgrader cannot take their points off the maximum.
The worked derivations (markdown regions, see grader.instructor.release) are left out too: nbgrader strips text only from graded
answer cells, so they reach students through `grader release --solutions`, after the deadline.
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Callable, Sequence

from grader.instructor.files import atomic_write_text
from grader.model import Check

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_VERSION = 3
STUB = '# YOUR CODE HERE\nraise NotImplementedError("replace this line with your code")'
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
DEFINITION = re.compile(r"^(?:def|class)\s+(\w+)", re.M)


def cell_metadata(grade_id: str, *, solution: bool = False, grade: bool = False, points: float = 0.0, locked: bool = False) -> dict:
    """nbgrader's metadata (schema 3) for an answer cell or an autograder test cell."""
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": SCHEMA_VERSION,
            "solution": solution, "task": False}
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def test_source(check: Check, seed: int) -> str:
    """The code of the test cell for one check."""
    points = f"{check.points:g} point{'s' if check.points != 1 else ''}"
    hidden = ", hidden=True" if check.visibility == "hidden" else ""
    body = (f"from grader.notebook import run_check\n"
            f"run_check({check.exercise!r}, {check.name!r}, globals(), seed={seed}{hidden})")
    if hidden:
        return f"# check {check.qualified_name}, {points}: hidden, it runs when your notebook is graded\n{body}"
    about = f"# {check.description}\n" if check.description else ""
    return f"# check {check.qualified_name}, {points} (`grader check` runs it too)\n{about}{body}"


def tested_names(check: Check) -> set[str]:
    """The student's functions or classes a check's probes call."""
    return {probe.function for probe in check.probes if isinstance(probe.function, str)}


def exercise_notebook(source: str, checks: Sequence[Check], seed: int):
    """The nbgrader source notebook of one exercise from its solution module's text."""
    import jupytext
    import nbformat

    from grader.instructor.release import without_derivations

    parsed = jupytext.reads(without_derivations(source), fmt="py:percent")
    cells, placed_after = [], {}
    answers = 0
    for cell in parsed.cells:
        text = cell.source
        if cell.cell_type == "markdown":
            cells.append(nbformat.v4.new_markdown_cell(text))
            continue
        if cell.cell_type != "code":
            continue
        new = nbformat.v4.new_code_cell(text)
        if "### BEGIN SOLUTION" in text:
            answers += 1
            defined = DEFINITION.findall(text)
            new.metadata.update(cell_metadata(f"answer_{answers}_{defined[0] if defined else 'code'}", solution=True))
        cells.append(new)
        for name in DEFINITION.findall(text):
            placed_after[name] = len(cells) - 1
    tests_after: dict[int, list] = {}
    last_answer = max((i for i, c in enumerate(cells) if c.metadata.get("nbgrader", {}).get("solution")), default=len(cells) - 1)
    for check in checks:
        anchors = [placed_after[n] for n in tested_names(check) if n in placed_after]
        tests_after.setdefault(max(anchors) if anchors else last_answer, []).append(check)
    notebook_cells = []
    for index, cell in enumerate(cells):
        notebook_cells.append(cell)
        for check in tests_after.get(index, []):
            test = nbformat.v4.new_code_cell(test_source(check, seed))
            test.metadata.update(cell_metadata(f"check_{check.name}", grade=True, points=float(check.points), locked=True))
            notebook_cells.append(test)
    notebook = nbformat.v4.new_notebook(cells=notebook_cells)
    notebook.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    nbformat.validate(notebook)
    return notebook


def config_source(course_id: str, seed: int) -> str:
    """nbgrader_config.py for the course."""
    return f'''"""nbgrader configuration of the gradient-descent course (generated by `grader nbgrader`).

Test cells call grader.notebook.run_check with seed {seed}: `grader grade SUBMISSIONS --out OUT --seed {seed}`
grades .py files on the same inputs. Set GRADER_SEED to regrade notebooks on other inputs.
"""

c = get_config()  # noqa: F821 - provided by nbgrader

c.CourseDirectory.course_id = {course_id!r}
c.ClearSolutions.code_stub = {{"python": {STUB!r}}}
c.ClearSolutions.enforce_metadata = True
c.Execute.timeout = 300
'''


def gradable_exercises(solutions: Path) -> list[str]:
    """Exercises with a solution module, in the kit's order."""
    from grader.checks import EXERCISES

    return [e for e in EXERCISES if (solutions / f"{e}.py").is_file()]


def build_course(*, course_dir: Path, assignment: str = "gradient_descent", seed: int | None = None,
                 exercises: Sequence[str] | None = None, solutions: Path = ROOT / "solutions",
                 report: Callable[[str], None] | None = print) -> list[Path]:
    """Write nbgrader_config.py and source/<assignment>/<exercise>.ipynb; returns the notebooks written."""
    from grader.checks import load_checks
    from grader.instructor.files import atomic_write_bytes

    import nbformat

    if not re.fullmatch(r"[A-Za-z0-9_\-]+", assignment):
        raise ValueError(f"assignment name {assignment!r}: use letters, digits, '_' and '-' only")
    seed = random.SystemRandom().randrange(2**31) if seed is None else int(seed)
    names = list(exercises) if exercises is not None else gradable_exercises(solutions)
    folder = course_dir / "source" / assignment
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(course_dir / "nbgrader_config.py", config_source(course_dir.resolve().name, seed))
    written, skipped = [], []
    for exercise in names:
        checks = [c for c in load_checks(exercise, seed=seed, hidden=True) if c.requires is None]
        if not checks:
            skipped.append(exercise)
            continue
        notebook = exercise_notebook((solutions / f"{exercise}.py").read_text(), checks, seed)
        path = folder / f"{exercise}.ipynb"
        atomic_write_bytes(path, nbformat.writes(notebook).encode("utf-8"))
        written.append(path)
    if report:
        report(f"nbgrader course in {course_dir}: {len(written)} notebooks in {folder} (seed {seed})"
               + (f"; no checks yet for {', '.join(skipped)}" if skipped else ""))
        report(f"next: cd {course_dir} && nbgrader generate_assignment {assignment} && nbgrader release_assignment {assignment}")
    return written
