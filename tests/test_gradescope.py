"""The Gradescope autograder: what the zip holds, how a submission is collected, and an end-to-end run of the real
`run_autograder` in a temporary root whose results.json must agree with `grader grade`."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader.instructor import gradescope, submissions

from reference_grades import grader_grade, per_exercise, write_class

SEED = 777


@pytest.fixture(scope="module")
def autograder(tmp_path_factory) -> Path:
    return gradescope.build_autograder(out=tmp_path_factory.mktemp("zip") / "autograder.zip", seed=SEED, report=None)


def test_zip_holds_the_scripts_and_the_full_kit_but_no_solutions(autograder):
    with zipfile.ZipFile(autograder) as archive:
        names = set(archive.namelist())
        modes = {i.filename: (i.external_attr >> 16) for i in archive.infolist()}
        run_script = archive.read("run_autograder").decode()
        setup = archive.read("setup.sh").decode()
    assert {"setup.sh", "run_autograder", "kit/pyproject.toml", "kit/grader/cli.py",
            "kit/grader/instructor/checks/hidden/ex01_linear_model.py"} <= names
    assert not any(n.startswith(("solutions/", "kit/solutions/", "tests/", "kit/tests/")) for n in names)
    assert not any(n.startswith("kit/exercises/") or "__pycache__" in n for n in names)
    assert modes["run_autograder"] & stat.S_IXUSR and modes["setup.sh"] & stat.S_IXUSR
    assert "AUTOGRADER_ROOT:-/autograder" in run_script and f"GRADER_SEED:-{SEED}" in run_script
    assert "download.pytorch.org/whl/cpu" in setup and "pip install ./kit" in setup


def test_submission_is_collected_from_folders_and_notebooks(tmp_path):
    submission = tmp_path / "submission"
    (submission / "my work").mkdir(parents=True)
    (submission / "my work" / "ex01_linear_model.py").write_text("# nested\n")
    notebook = {"cells": [{"cell_type": "markdown", "source": "# hi"},
                          {"cell_type": "code", "source": ["%matplotlib inline\n", "def dloss_dw():\n", "    return 1\n"]}]}
    (submission / "ex02_derivative.ipynb").write_text(json.dumps(notebook))
    found, missing = submissions.collect_submission(submission, tmp_path / "copied")
    assert found == ["ex01_linear_model", "ex02_derivative"] and "ex03_quadratic" in missing
    assert (tmp_path / "copied" / "ex01_linear_model.py").read_text() == "# nested\n"
    module = (tmp_path / "copied" / "ex02_derivative.py").read_text()
    assert "def dloss_dw():" in module and "%matplotlib" not in module
    compile(module, "ex02_derivative.py", "exec")


def run_autograder(source: Path, root: Path, *, python: str = sys.executable) -> subprocess.CompletedProcess:
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), GRADER_PYTHON=python,
               PYTHONPATH=str(source / "kit"))  # setup.sh's install is skipped: the unzipped kit is importable
    env.pop("GRADER_SEED", None)
    return subprocess.run(["bash", str(source / "run_autograder")], cwd=root, env=env, capture_output=True, text=True, timeout=600)


def test_a_failed_run_still_writes_results(autograder, tmp_path):
    source, root = tmp_path / "source", tmp_path / "root"
    zipfile.ZipFile(autograder).extractall(source)
    (root / "results").mkdir(parents=True)
    done = run_autograder(source, root)  # no submission folder
    assert done.returncode == 1
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 0 and "could not grade" in results["output"]


@pytest.mark.slow
def test_run_autograder_scores_equal_grader_grade(autograder, tmp_path):
    source = tmp_path / "source"
    zipfile.ZipFile(autograder).extractall(source)
    exercises = ["ex01_linear_model", "ex02_derivative", "ex03_quadratic"]
    write_class(tmp_path / "class", exercises)
    expected = grader_grade(tmp_path / "class", tmp_path / "out", SEED)
    for student in ["mistakes"]:  # a wrong answer, a stub and right answers; `correct` alone adds nothing but time
        root = tmp_path / f"root_{student}"
        (root / "results").mkdir(parents=True)
        (root / "submission").symlink_to(tmp_path / "class" / student, target_is_directory=True)
        done = run_autograder(source, root)
        assert done.returncode == 0, done.stdout + done.stderr
        results = json.loads((root / "results" / "results.json").read_text())
        assert isinstance(results["score"], (int, float)) and isinstance(results["tests"], list) and results["tests"]
        for test in results["tests"]:
            assert {"name", "score", "max_score", "status", "output", "visibility"} <= set(test)
            assert test["status"] in ("passed", "failed") and 0 <= test["score"] <= test["max_score"]
            assert test["visibility"] in ("visible", "hidden", "after_due_date", "after_published")
        assert results["score"] == pytest.approx(sum(t["score"] for t in results["tests"]))
        assert per_exercise(results) == pytest.approx(expected[student]), student
        assert "Graded files: ex01_linear_model.py" in results["output"]
    assert expected["correct"]["ex01_linear_model"] > expected["mistakes"]["ex01_linear_model"] > 0


def readme_block(after: str) -> str:
    """The first ```bash block of the README after the line containing `after`."""
    text = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    rest = text[text.index(after):]
    return rest[rest.index("```bash\n") + len("```bash\n"):rest.index("\n```", rest.index("```bash\n"))]


@pytest.mark.slow
def test_the_readme_try_out_grades_the_solutions_with_the_zips_own_kit(autograder, tmp_path):
    root = Path(__file__).resolve().parent.parent
    (tmp_path / "solutions").symlink_to(root / "solutions")
    (tmp_path / "autograder.zip").symlink_to(autograder)
    script = readme_block("To try it locally")
    assert "PYTHONPATH=$PWD/source/kit" in script and "cp solutions/*.py" in script
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GRADER_SEED")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"  # `python3` is this interpreter
    done = subprocess.run(["bash", "-eu", "-c", script], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((tmp_path / "root" / "results" / "results.json").read_text())
    graded = [t for t in results["tests"] if not t["name"].endswith("(skipped)")]
    assert graded and all(t["status"] == "passed" and t["score"] == t["max_score"] for t in graded), \
        [t["name"] for t in graded if t["status"] != "passed"]
    assert results["score"] == pytest.approx(sum(t["max_score"] for t in graded))
    kit = subprocess.run([sys.executable, "-c", "import grader; print(grader.__file__)"], cwd=tmp_path,
                         env=dict(env, PYTHONPATH=str(tmp_path / "source" / "kit")), capture_output=True, text=True)
    assert kit.stdout.startswith(str(tmp_path / "source" / "kit"))  # the run above imported the zip's kit


def test_where_both_forms_are_submitted_the_one_worked_on_is_graded(tmp_path):
    from grader.notebook import percent_to_notebook

    root = Path(__file__).resolve().parent.parent
    stub = (root / "exercises" / "ex02_derivative.py").read_text()
    solved = (root / "solutions" / "ex02_derivative.py").read_text()
    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / "ex02_derivative.py").write_text(stub)  # the bundle's .py, never touched
    (submission / "ex02_derivative.ipynb").write_text(percent_to_notebook(solved))
    (submission / "ex03_quadratic.py").write_text("# the .py wins a tie\n")
    (submission / "ex03_quadratic.ipynb").write_text(percent_to_notebook("# %%\nx = 1\n"))
    found, _ = submissions.collect_submission(submission, tmp_path / "copied")
    assert found == ["ex02_derivative", "ex03_quadratic"]
    copied = (tmp_path / "copied" / "ex02_derivative.py").read_text()
    assert "NotImplementedError" not in copied and "return 2 * x * (x * w - y)" in copied
    assert (tmp_path / "copied" / "ex03_quadratic.py").read_text() == "# the .py wins a tie\n"
