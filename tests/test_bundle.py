"""The student bundle: no answer and no hidden check in it, and `grader check` works from it in a fresh environment."""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sysconfig
import venv
from pathlib import Path

import pytest

from grader import bundle, release

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
HIDDEN = ROOT / "grader" / "checks" / "hidden"


@pytest.fixture(scope="module")
def student_bundle(tmp_path_factory) -> Path:
    return bundle.write_bundle(out=tmp_path_factory.mktemp("bundle") / "gd-exercises")


def bundle_files(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text() for p in folder.rglob("*") if p.is_file()}


def meaningful(line: str) -> str | None:
    return bundle.significant(line)


def test_layout(student_bundle):
    names = set(bundle_files(student_bundle))
    assert {"README.md", "pyproject.toml", "grader/cli.py", "grader/checks/ex01_linear_model.py"} <= names
    assert {f"exercises/{p.name}" for p in SOLUTIONS.glob("ex*.py")} <= names
    assert not any(n.startswith(("solutions/", "tests/")) or "/hidden/" in n for n in names)
    assert (student_bundle / "exercises" / "ex01_linear_model.py").read_text() == release.strip_solutions(
        (SOLUTIONS / "ex01_linear_model.py").read_text())


def test_no_line_of_any_answer_region_is_in_the_bundle(student_bundle):
    # Lines a stub shows anyway (given code) are not secret. A public check module may repeat a reference line such
    # as `return x * w` (students run those checks locally), but only as the repository's own, unchanged file.
    given = {meaningful(l) for p in SOLUTIONS.glob("ex*.py") for l in release.strip_solutions(p.read_text()).splitlines()}
    answers = {meaningful(l) for p in SOLUTIONS.glob("ex*.py") for region in release.solution_regions(p.read_text())
               for l in region.splitlines()} - given - {None}
    assert answers, "no answer regions found"
    public_checks = {f"grader/checks/{p.name}": p.read_text() for p in (ROOT / "grader" / "checks").glob("ex*.py")}
    for name, text in bundle_files(student_bundle).items():
        if public_checks.get(name) == text:
            continue
        leaked = answers & {meaningful(l) for l in text.splitlines()}
        assert not leaked, f"{name} holds solution lines {sorted(leaked)}"


def test_no_hidden_check_text_is_in_the_bundle(student_bundle):
    hidden_files = list(HIDDEN.glob("ex*.py"))
    assert hidden_files
    shipped = "\n".join(bundle_files(student_bundle).values())
    for path in hidden_files:
        names = [l.split('"')[1] for l in path.read_text().splitlines() if "Check(EXERCISE, \"" in l]
        assert names, path
        for name in names:
            assert f'"{name}"' not in shipped, f"hidden check {name} is named in the bundle"
    assert not (bundle.hidden_lines() & {meaningful(l) for l in shipped.splitlines()})


def test_audit_catches_a_leak(tmp_path):
    out = bundle.write_bundle(out=tmp_path / "b")
    stub = out / "exercises" / "ex01_linear_model.py"
    stub.write_text(stub.read_text() + "\n" + (SOLUTIONS / "ex01_linear_model.py").read_text())
    shutil.copytree(HIDDEN, out / "grader" / "checks" / "hidden")
    problems = "\n".join(bundle.audit(out))
    assert "exercises/ex01_linear_model.py" in problems and "solution line" in problems
    assert "instructor-only" in problems


def fresh_venv(folder: Path) -> Path:
    """A new virtual environment that sees this interpreter's packages (torch, numpy, sympy, pip, setuptools) but
    installs into its own site-packages, which come first on its path."""
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(folder)
    python = folder / "bin" / "python"
    own = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         capture_output=True, text=True, check=True).stdout.strip()
    parents = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"], *site.getsitepackages()}
    (Path(own) / "parent_env.pth").write_text("\n".join(sorted(parents)) + "\n")
    return python


def run(command: list[str], cwd: Path, env: dict, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_grader_check_works_from_the_unpacked_bundle_in_a_fresh_venv(student_bundle, tmp_path):
    archive = shutil.make_archive(str(tmp_path / "gd-exercises"), "zip", student_bundle.parent, student_bundle.name)
    unpacked = tmp_path / "student"
    shutil.unpack_archive(archive, unpacked)
    home = unpacked / "gd-exercises"
    env_dir = tmp_path / "venv"
    python = fresh_venv(env_dir)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    install = run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index", "."], home, env)
    if install.returncode != 0:  # no usable setuptools here: let pip fetch one
        install = run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "."], home, env)
    assert install.returncode == 0, install.stdout + install.stderr

    where = run([str(python), "-c", "import grader, importlib.util as u; print(grader.__file__); print(u.find_spec('grader.checks.hidden'))"], tmp_path, env)
    assert str(env_dir) in where.stdout and where.stdout.strip().endswith("None"), where.stdout + where.stderr

    grader_command = str(env_dir / "bin" / "grader")
    stubs = run([grader_command, "check", "ex01", "--seed", "3"], home, env)
    assert stubs.returncode == 1, stubs.stdout + stubs.stderr
    assert "not implemented yet" in stubs.stdout

    shutil.copy(SOLUTIONS / "ex01_linear_model.py", home / "exercises" / "ex01_linear_model.py")
    solved = run([grader_command, "check", "ex01", "--seed", "3"], home, env)
    assert solved.returncode == 0, solved.stdout + solved.stderr
    assert "FAIL" not in solved.stdout


def test_every_exercise_is_also_a_notebook_with_the_same_cells_and_a_check_cell(student_bundle):
    import jupytext
    import nbformat

    for stub in sorted((student_bundle / "exercises").glob("ex*.py")):
        notebook = nbformat.read(stub.with_suffix(".ipynb"), as_version=4)
        nbformat.validate(notebook)
        expected = [(c.cell_type, c.source) for c in jupytext.reads(stub.read_text(), fmt="py:percent").cells]
        assert [(c.cell_type, c.source) for c in notebook.cells[:-2]] == expected, stub.name
        assert notebook.cells[-1].source == f'from grader.notebook import check\n\ncheck("{stub.stem}")'


def test_the_bundle_installs_the_cpu_build_of_torch_and_says_so(student_bundle):
    from grader.gradescope import torch_requirement

    lines = [l for l in (student_bundle / "constraints.txt").read_text().splitlines() if l and not l.startswith("#")]
    assert lines == ["--extra-index-url https://download.pytorch.org/whl/cpu", torch_requirement()]
    readme = (student_bundle / "README.md").read_text()
    assert "python3 -m pip install -c constraints.txt ." in readme
    assert "This folder is the whole kit" in readme and "unpack" not in readme
    assert "!pip install -q ./" in readme  # Colab keeps its own torch
