"""solutions/ -> exercises/ (stubs, no derivations) and -> worked solutions: regions validated, drift detected."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.instructor import release
from grader.cli import main

from conftest import EXERCISES_DIR, SOLUTIONS

ROOT = Path(__file__).resolve().parent.parent

MODULE = """\
# %% [markdown]
# # Exercise — d/dw of w³
#
# **Question: d/dw of w³ = ?**

# %% [markdown]
# ### BEGIN SOLUTION
# **Solution.** The power rule gives 3·w².
# ### END SOLUTION

# %%
def slope(w):
    \"\"\"d/dw of w³.\"\"\"
    ### BEGIN SOLUTION
    return 3 * w ** 2
    ### END SOLUTION


# %% [markdown]
# Now for a question that stays.
# ### BEGIN SOLUTION
# The second derivative is 6·w.
# ### END SOLUTION
# And a sentence after it.
"""


def test_committed_exercises_match_solutions():
    assert release.drifted() == [], "run `python -m grader release --exercises` and commit exercises/"


def test_stub_replaces_region_at_its_indentation():
    source = "def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n"
    stub = release.strip_solutions(source)
    assert "return 2 * x" not in stub
    assert "    raise NotImplementedError(" in stub
    namespace: dict = {}
    exec(compile(stub, "<stub>", "exec"), namespace)
    with pytest.raises(NotImplementedError):
        namespace["f"](1)


def test_derivations_are_stripped_with_the_cells_they_empty():
    stub = release.strip_solutions(MODULE)
    assert "3·w²" not in stub and "6·w" not in stub and "BEGIN SOLUTION" not in stub
    assert stub.count("# %% [markdown]") == 2  # the cell that held only a derivation is gone, the other stays
    assert "# Now for a question that stays.\n# And a sentence after it.\n" in stub
    assert "**Question: d/dw of w³ = ?**" in stub and 'raise NotImplementedError("' in stub


def test_solution_regions_reports_answers_and_derivations():
    regions = release.solution_regions(MODULE)
    assert regions == ["# **Solution.** The power rule gives 3·w².", "    return 3 * w ** 2", "# The second derivative is 6·w."]
    assert [r.kind for r in release.regions(MODULE)] == ["markdown", "code", "markdown"]


@pytest.mark.parametrize("source, problem", [
    ("### BEGIN SOLUTION\nx = 1\n", "never closed"),
    ("### END SOLUTION\n", "without a"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", "inside another region"),
    ("# %%\n# ### BEGIN SOLUTION\nx = 1\n# ### END SOLUTION\n", "a markdown marker in a code cell"),
    ("# %% [markdown]\n### BEGIN SOLUTION\n# text\n### END SOLUTION\n", "a code marker in a markdown cell"),
    ("# %% [markdown]\n# ### BEGIN SOLUTION\n# text\n# %%\nx = 1\n", "a new cell starts inside the region"),
    ("# %% [markdown]\n# ### BEGIN SOLUTION\n# text\n\n# %%\n### END SOLUTION\n", "a new cell starts inside the region"),
])
def test_unpaired_or_misplaced_markers_are_reported_with_their_line(source, problem):
    with pytest.raises(release.ReleaseError, match=problem):
        release.strip_solutions(source, "ex.py")


def test_drift_is_detected(tmp_path):
    solutions, exercises = tmp_path / "solutions", tmp_path / "exercises"
    solutions.mkdir()
    (solutions / "ex01_a.py").write_text(MODULE)
    release.write_exercises(solutions=solutions, exercises=exercises)
    assert release.drifted(solutions=solutions, exercises=exercises) == []
    (exercises / "ex01_a.py").write_text(MODULE)
    assert release.drifted(solutions=solutions, exercises=exercises) == ["ex01_a.py"]
    (exercises / "ex01_a.py").write_text(release.strip_solutions(MODULE) + "# The power rule gives 3·w².\n")
    assert release.drifted(solutions=solutions, exercises=exercises) == ["ex01_a.py"]


def test_no_derivation_line_reaches_the_committed_exercises():
    derived = 0
    for path in sorted(SOLUTIONS.glob("ex*.py")):
        exercise = (EXERCISES_DIR / path.name).read_text().splitlines()
        for region in release.regions(path.read_text(), str(path)):
            if region.kind != "markdown":
                continue
            derived += 1
            lines = {line.strip() for line in region.text.splitlines() if len(line.strip("# ")) > 3}
            assert not lines & {line.strip() for line in exercise}, f"{path.name}: a derivation line is in exercises/"
    assert derived >= 6, "the derivations the lectures ask for (ex02-ex06, ex08) are solution-only regions"


def test_release_solutions_writes_modules_notebooks_and_readme(tmp_path, capsys):
    nbformat = pytest.importorskip("nbformat")  # to validate what was written; the command itself does not need it
    out = tmp_path / "worked"
    assert main(["release", "--solutions", "--out", str(out)]) == 0
    assert "after the deadline" in capsys.readouterr().out
    modules = sorted(SOLUTIONS.glob("ex*.py"))
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["README.md"] + [p.name for p in modules] + [f"{p.stem}.ipynb" for p in modules])
    readme = (out / "README.md").read_text()
    for path in modules:
        source = path.read_text()
        worked = (out / path.name).read_text()
        assert worked == release.worked_solution(source)
        assert "# ### BEGIN SOLUTION" not in worked  # derivation markers dropped, their text kept
        for region in release.regions(source):
            assert region.text in worked
        notebook = nbformat.read(out / f"{path.stem}.ipynb", as_version=4)
        nbformat.validate(notebook)
        text = "\n".join(cell.source for cell in notebook.cells)
        assert "def " in text and "### BEGIN SOLUTION" in text and "# ### BEGIN SOLUTION" not in text
        assert f"`{path.stem}`" in readme
    first = (out / "ex02_derivative.ipynb").read_bytes()
    assert main(["release", "--solutions", "--out", str(out)]) == 0
    assert (out / "ex02_derivative.ipynb").read_bytes() == first, "the same source gives the same notebook"
    derivation_cells = [c for c in json.loads(first)["cells"] if c["cell_type"] == "markdown" and "Solution" in "".join(c["source"])]
    assert derivation_cells, "the worked derivation of ex02 is a text cell of its notebook"


def test_release_solutions_works_with_the_core_install_alone(tmp_path):
    # the README's install has no jupytext (an extra brings it): make it unimportable, as it is there
    code = ("import sys; sys.modules['jupytext'] = sys.modules['nbformat'] = None; from grader.cli import main; "
            f"sys.exit(main(['release', '--solutions', '--out', 'gd-solutions']))")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "gd-solutions" / "ex02_derivative.ipynb").is_file()
    assert json.loads((tmp_path / "gd-solutions" / "ex02_derivative.ipynb").read_text())["nbformat"] == 4


def test_release_solutions_without_out_says_what_to_give(capsys):
    assert main(["release", "--solutions"]) == 2
    assert "give --out DIR for the worked solutions" in capsys.readouterr().err


def test_release_solutions_refuses_an_empty_folder(tmp_path):
    with pytest.raises(release.ReleaseError, match="no solution modules"):
        release.write_worked_solutions(out=tmp_path / "out", solutions=tmp_path)


def test_nbgrader_notebooks_leave_the_derivations_out():
    # nbgrader clears text only from graded answer cells (it refuses an ungraded markdown solution cell), so the
    # course's notebooks hold the questions and the answers' code, and the derivations wait for --solutions.
    pytest.importorskip("jupytext")
    from grader.instructor.nbgrader_course import exercise_notebook

    notebook = exercise_notebook(MODULE, [], seed=1)
    text = "\n".join(cell.source for cell in notebook.cells)
    assert "3·w²" not in text and "6·w" not in text and "# ### BEGIN SOLUTION" not in text
    assert "Now for a question that stays." in text and "return 3 * w ** 2" in text
    assert [c.metadata["nbgrader"]["grade_id"] for c in notebook.cells if "nbgrader" in c.metadata] == ["answer_1_slope"]
