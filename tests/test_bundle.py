"""The student bundle: what ships (the core and baked public checks, nothing that answers), the release audit's three
clauses each proven by a bundle that leaks, `grader check` from an unpacked bundle in a fresh venv, and the bundle's
checks judging exactly as the instructor's public checks do (same pass/fail, same hints)."""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from conftest import mutate, solution_source
from grader.instructor import bundle, release
from grader.checks import load_checks

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
HIDDEN = ROOT / "grader" / "instructor" / "checks" / "hidden"
SEEDS = range(2)  # baked cases per exercise in these tests (a release bakes 32)


@pytest.fixture(scope="module")
def student_bundle(tmp_path_factory) -> Path:
    return bundle.assemble_bundle(out=tmp_path_factory.mktemp("bundle") / "gd-exercises", seeds=SEEDS)


def bundle_files(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): bundle.bundle_text(p) or "" for p in folder.rglob("*") if p.is_file()}


def copy_of(student_bundle: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(student_bundle, tmp_path / "gd-exercises"))


def test_the_bundle_ships_the_core_and_baked_checks_only(student_bundle):
    names = set(bundle_files(student_bundle))
    package = {n for n in names if n.startswith("grader/") and not n.startswith("grader/data/")}
    assert package == bundle.shipped_paths()
    assert {"grader/cli.py", "grader/judges.py", "grader/baked.py", "grader/checks/__init__.py", "grader/report.py",
            "grader/public/ex01_linear_model.py"} <= package
    assert not any(n.startswith("grader/instructor/") for n in names)
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "grader").rglob("*.py") if "__pycache__" not in p.parts}
    for instructor_only in ("checks/ex01_linear_model.py", "checks/inputs.py", "batch.py", "sandbox.py", "gradescope.py",
                            "nbgrader_course.py", "release.py", "bundle.py", "bake.py", "class_report.py"):
        assert f"grader/instructor/{instructor_only}" in modules - package
    assert {n for n in names if n.startswith("grader/data/")} == {
        f"grader/data/{Path(e).stem}/{s}.json.gz" for e in release.expected_exercises(SOLUTIONS) for s in SEEDS}
    assert {f"exercises/{p.name}" for p in SOLUTIONS.glob("ex*.py")} <= names
    assert not any(n.startswith(("solutions/", "tests/")) or "/hidden/" in n for n in names)
    assert (student_bundle / "exercises" / "ex01_linear_model.py").read_text() == release.strip_solutions(
        (SOLUTIONS / "ex01_linear_model.py").read_text())


def test_no_hidden_check_text_is_in_the_bundle(student_bundle):
    hidden_files = list(HIDDEN.glob("ex*.py"))
    assert hidden_files
    shipped = "\n".join(bundle_files(student_bundle).values())
    for path in hidden_files:
        names = [c.name for c in load_checks(path.stem, seed=0, hidden=True) if c.visibility == "hidden"]
        assert names, path
        for name in names:
            assert f'"{name}"' not in shipped, f"hidden check {name} is named in the bundle"


def test_the_package_part_of_the_bundle_passes_all_three_clauses(student_bundle, tmp_path):
    """Nothing in grader/ (code or baked data) leaks; a function planted in the bundle is caught by clause (c)."""
    leaky = copy_of(student_bundle, tmp_path)
    (leaky / "grader" / "public" / "helper.py").write_text('"""Looks harmless."""\n\n\ndef scale(a, b):\n    product = b * a\n    return product\n')
    problems = [p for p in bundle.audit(leaky) if not p.startswith("exercises/")]  # exercise texts: see the next test
    assert problems == [
        "grader/public/helper.py:4: grader.public.helper.scale, used as ex01_linear_model.forward, passes the public check forward (clause c)"]


def test_the_exercise_texts_ask_without_answering(student_bundle):
    """Clauses (a) and (b) on the stubs' texts as the repository holds them (helper i10a rewrote them)."""
    assert [p for p in bundle.audit(student_bundle, functions=False) if p.startswith("exercises/")] == []


def test_clause_a_a_line_of_a_solution_region_is_refused(student_bundle, tmp_path):
    leaky = copy_of(student_bundle, tmp_path)
    regions = release.solution_regions(solution_source("ex04_cost_loss_sgd"))  # the first may be a worked text, all comments
    line = next(l.strip() for region in regions for l in region.splitlines() if bundle.significant(l))
    (leaky / "grader" / "public" / "notes.py").write_text(f'"""Notes."""\n\n\ndef f(xs, ys, w):\n    {line}\n')
    problems = bundle.audit(leaky, functions=False)
    assert f"grader/public/notes.py:5: a line of a solution region, {line!r} (clause a)" in problems


def test_clause_a_a_line_of_a_derivation_is_refused_in_a_module_and_in_a_notebook(student_bundle, tmp_path):
    leaky = copy_of(student_bundle, tmp_path)
    derivation = next(r for r in release.regions(solution_source("ex02_derivative")) if r.kind == "markdown")
    line = next(bundle.prose(l) for l in derivation.text.splitlines() if bundle.prose(l))
    module = leaky / "exercises" / "ex02_derivative.py"
    module.write_text(module.read_text() + f"\n# %% [markdown]\n# {line}\n")
    notebook = leaky / "exercises" / "ex02_derivative.ipynb"
    cells = json.loads(notebook.read_text())
    cells["cells"].append({"cell_type": "markdown", "metadata": {}, "source": [line]})
    notebook.write_text(json.dumps(cells))
    problems = bundle.audit(leaky, functions=False)
    assert any(p.startswith("exercises/ex02_derivative.py:") and p.endswith(f"{line!r} (clause a)") for p in problems), problems
    assert any(p.startswith("exercises/ex02_derivative.ipynb:") and p.endswith(f"{line!r} (clause a)") for p in problems), problems


@pytest.mark.parametrize("spelling", ["d/dw = 2·(x·w − y)·x", "return 2 * x * (w * x - y)", "grad = (B + B.T) @ x", "alpha = lr_sum * m / 2",
                                      "# so 64·3·3 = 576 features"])
def test_clause_b_a_closed_form_in_any_known_spelling_is_refused(student_bundle, tmp_path, spelling):
    leaky = copy_of(student_bundle, tmp_path)
    (leaky / "grader" / "public" / "notes.py").write_text(f'"""Notes."""\n{spelling}\n')
    problems = bundle.audit(leaky, functions=False)
    assert any(p.startswith("grader/public/notes.py:2: the closed-form answer ") and p.endswith("(clause b)") for p in problems), problems


def test_clause_b_reads_the_baked_data_too(student_bundle, tmp_path):
    import gzip

    leaky = copy_of(student_bundle, tmp_path)
    data = leaky / "grader" / "data" / "ex02_derivative" / "0.json.gz"
    data.write_bytes(gzip.compress(gzip.decompress(data.read_bytes()).replace(b'"hints"', b'"note":"2*x*(x*w - y)","hints"', 1)))
    assert any(p.startswith("grader/data/ex02_derivative/0.json.gz:1: the closed-form answer") for p in bundle.audit(leaky, functions=False))


def test_an_instructor_module_in_the_bundle_is_refused(student_bundle, tmp_path):
    leaky = copy_of(student_bundle, tmp_path)
    instructor = leaky / "grader" / "instructor"
    shutil.copytree(HIDDEN, instructor / "checks" / "hidden")
    for module in ("checks/ex01_linear_model.py", "batch.py"):
        shutil.copy(ROOT / "grader" / "instructor" / module, instructor / module)
    problems = "\n".join(bundle.audit(leaky, functions=False))
    assert "grader/instructor/batch.py: instructor-only file" in problems
    assert "grader/instructor/checks/ex01_linear_model.py: instructor-only file" in problems
    assert "grader/instructor/checks/hidden/ex01_linear_model.py: instructor-only file" in problems


def test_release_refuses_and_removes_a_leaking_bundle(tmp_path):
    solutions = Path(shutil.copytree(SOLUTIONS, tmp_path / "solutions"))
    text = (solutions / "ex02_derivative.py").read_text()
    (solutions / "ex02_derivative.py").write_text(text + "\n# %% [markdown]\n# The answer: d/dw = 2·x·(x·w − y).\n")
    out = tmp_path / "bundle"
    with pytest.raises(bundle.BundleLeak, match=r"exercises/ex02_derivative.py:\d+: the closed-form answer .*\(clause b\)"):
        bundle.write_bundle(out=out, solutions=solutions, seeds=range(1))
    assert not (out / "grader").exists() and not (out / "exercises").exists()


def test_an_audit_that_crashes_says_so_instead_of_claiming_a_leak(tmp_path, monkeypatch, capsys):
    def broken_bundle(*, out, **_):  # a package the function audit cannot import its checks from
        (out / "grader" / "checks").mkdir(parents=True)
        (out / "grader" / "__init__.py").write_text("")
        (out / "grader" / "checks" / "__init__.py").write_text("raise RuntimeError('the checks are broken')\n")
        return out

    monkeypatch.setattr(bundle, "assemble_bundle", broken_bundle)
    monkeypatch.chdir(tmp_path)
    from grader.cli import main

    assert main(["release", "--out", "gd-exercises"]) == 1
    error = capsys.readouterr().err
    assert "the release audit crashed" in error and "RuntimeError: the checks are broken" in error
    assert "leaks answers" not in error
    assert not (tmp_path / "gd-exercises" / "grader").exists()


def test_the_function_audit_sees_the_bundles_package_alone(tmp_path):
    # where the kit is installed editable (`pip install -e .`, tox's usedevelop), its import hook would answer
    # `import grader.instructor` for a bundle that has none, and the audit would judge with the instructor's checks
    bundle.copy_package(tmp_path, hidden=False)
    (tmp_path / "exercises").mkdir()
    assert bundle.function_leaks(tmp_path) == []


@pytest.mark.slow
def test_a_relative_out_folder_is_audited_where_it_was_written(tmp_path, monkeypatch):
    # the README's `grader release --out gd-exercises`: the audit's child runs in the bundle, where the relative
    # path no longer names it (the path was joined twice, and the crash was reported as a leak)
    monkeypatch.chdir(tmp_path)
    assert bundle.write_bundle(out=Path("gd-exercises"), seeds=range(1)) == tmp_path / "gd-exercises"
    assert (tmp_path / "gd-exercises" / "grader" / "data").is_dir()


# ------------------------------------------------------------------------------------------------- equivalence


class Recorded(Exception):
    """Raised by the recording fixtures once a test has graded what it grades first."""


def wrong_submissions() -> list[tuple[str, str]]:
    """(exercise, source) of the mutants tests/checks grade (each test's first), recorded by running those tests
    with fixtures that write down what they are asked to grade instead of grading it."""
    recorded: list[tuple[str, str]] = []

    def grade_mutant(exercise, *replacements, seed=0):
        recorded.append((exercise, mutate(solution_source(exercise), *replacements)))
        raise Recorded

    def grade_source(exercise, source, *, seed=0, hidden=True):
        recorded.append((exercise, source))
        raise Recorded

    for path in sorted((ROOT / "tests" / "checks").glob("test_ex*.py")):
        spec = importlib.util.spec_from_file_location(f"recorded_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        exercise = module.EX
        quick = lambda *replacements, exercise=exercise: grade_mutant(exercise, *replacements)  # noqa: E731
        fixtures = {"grade_mutant": grade_mutant, "grade_source": grade_source, "grade_quick": quick}
        for name, test in vars(module).items():
            if not name.startswith("test_") or not callable(test):
                continue
            params = list(inspect.signature(test).parameters)
            if not params or not set(params) <= set(fixtures):
                continue
            try:
                test(*(fixtures[p] for p in params))
            except Recorded:
                pass
            except (Exception, pytest.skip.Exception):  # noqa: BLE001 - a test that skips or stops before grading
                pass
    unique = list(dict.fromkeys(recorded))
    return [(e, s) for e, s in unique if s != solution_source(e)]


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


def run(command: list[str], cwd: Path, env: dict, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def clean_env(**extra: str) -> dict:
    return {**{k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}, **extra}


@pytest.mark.slow
def test_the_bundles_checks_judge_as_the_instructors_public_checks(student_bundle, tmp_path):
    from bundle_driver import grade_cases

    home = Path(shutil.copytree(student_bundle, tmp_path / "student" / "gd-exercises"))
    solved = run([sys.executable, "-m", "grader", "check", "--seed", "1"], home, clean_env(PYTHONPATH=str(home)))
    assert "checks passed" in solved.stdout and solved.returncode == 1, solved.stdout + solved.stderr  # the stubs fail
    # copyfile: fresh mtimes, so that `grader check` takes the solved .py over the stub .ipynb (the one saved last)
    shutil.copytree(SOLUTIONS, home / "exercises", dirs_exist_ok=True, copy_function=shutil.copyfile)
    solved = run([sys.executable, "-m", "grader", "check", "--seed", "1"], home, clean_env(PYTHONPATH=str(home)))
    assert solved.returncode == 0 and "FAIL" not in solved.stdout, solved.stdout + solved.stderr

    wrong = wrong_submissions()
    assert len(wrong) > 60 and len({e for e, _ in wrong}) == 8
    cases, folder = [], tmp_path / "submissions"
    for number, (exercise, source) in enumerate([(e, solution_source(e)) for e in sorted({e for e, _ in wrong})] + wrong):
        path = folder / str(number) / f"{exercise}.py"
        path.parent.mkdir(parents=True)
        path.write_text(source)
        skipped = ["train_fits_parabola"] if number >= 8 else []  # 1000 Adam steps per mutant; its judge has no baked value
        cases.append([exercise, str(path), number % len(SEEDS), skipped])
    (tmp_path / "cases.json").write_text(json.dumps(cases))
    shipped = run([sys.executable, str(ROOT / "tests" / "bundle_driver.py"), str(tmp_path / "cases.json")], home,
                  clean_env(PYTHONPATH=str(home)), timeout=1800)
    assert shipped.returncode == 0, shipped.stderr[-3000:]
    from_bundle = json.loads(shipped.stdout)
    assert from_bundle["grader"] == str(home / "grader" / "__init__.py")
    instructor = grade_cases(cases)
    assert instructor["grader"] == str(ROOT / "grader" / "__init__.py")
    differences = [(cases[i][:1], cases[i][1], name, a, b) for i, (ours, theirs) in enumerate(zip(instructor["results"], from_bundle["results"]))
                   for name in ours if ours[name] != theirs.get(name) for a, b in [(ours[name], theirs.get(name))]]
    assert differences == []
    assert sum(r[name][0] == "failed" for r in instructor["results"] for name in r) > len(wrong)  # the mutants do fail
    assert sum(r[name][1] is not None for r in instructor["results"] for name in r) > len(wrong) // 2  # with hints


@pytest.mark.slow
def test_grader_check_works_from_the_unpacked_bundle_in_a_fresh_venv(student_bundle, tmp_path):
    archive = shutil.make_archive(str(tmp_path / "gd-exercises"), "zip", student_bundle.parent, student_bundle.name)
    unpacked = tmp_path / "student"
    shutil.unpack_archive(archive, unpacked)
    home = unpacked / "gd-exercises"
    env_dir = tmp_path / "venv"
    python = fresh_venv(env_dir)
    env = clean_env()
    install = run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index", "."], home, env)
    if install.returncode != 0:  # no usable setuptools here: let pip fetch one
        install = run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "."], home, env)
    assert install.returncode == 0, install.stdout + install.stderr

    where = run([str(python), "-c", "import grader, importlib.util as u; print(grader.__file__); print(u.find_spec('grader.instructor'))"],
                tmp_path, env)
    assert str(env_dir) in where.stdout and where.stdout.strip().endswith("None"), where.stdout + where.stderr

    grader_command = str(env_dir / "bin" / "grader")
    stubs = run([grader_command, "check", "ex01", "--seed", "3"], home, env)
    assert stubs.returncode == 1, stubs.stdout + stubs.stderr
    assert "not implemented yet" in stubs.stdout

    shutil.copy(SOLUTIONS / "ex01_linear_model.py", home / "exercises" / "ex01_linear_model.py")
    solved = run([grader_command, "check", "ex01", "--seed", "3"], home, env)
    assert solved.returncode == 0, solved.stdout + solved.stderr
    assert "FAIL" not in solved.stdout
    for command in (["grade", "exercises", "--out", "out"], ["doctor"]):  # the instructor's commands are not there
        refused = run([grader_command, *command], home, env)
        assert refused.returncode == 2 and f"grader {command[0]}: this is an instructor's command" in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr


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
    from grader.instructor.gradescope import torch_requirement

    lines = [l for l in (student_bundle / "constraints.txt").read_text().splitlines() if l and not l.startswith("#")]
    assert lines == ["--extra-index-url https://download.pytorch.org/whl/cpu", torch_requirement()]
    readme = (student_bundle / "README.md").read_text()
    assert f"```bash\npython3 -m venv .venv && . .venv/bin/activate      # Windows: .venv\\Scripts\\activate\n{bundle.INSTALL_COMMAND}\n```" in readme
    assert "**Do not leave out `-c constraints.txt`**" in readme and "5.6 GB" in readme
    assert "This folder is the whole kit" in readme and "unpack" not in readme
    assert "!pip install -q ./" in readme  # Colab keeps its own torch


def tiny_wheel(index: Path, name: str) -> None:
    """A one-module wheel of `name` 1.0 in a simple index at `index`."""
    import base64
    import hashlib
    import zipfile

    wheel = f"{name}-1.0-py3-none-any.whl"
    files = {f"{name}/__init__.py": b"", f"{name}-1.0.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n".encode(),
             f"{name}-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    record = [f"{path},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},{len(data)}"
              for path, data in files.items()] + [f"{name}-1.0.dist-info/RECORD,,"]
    (index / name).mkdir(parents=True)
    with zipfile.ZipFile(index / name / wheel, "w") as archive:
        for path, data in [*files.items(), (f"{name}-1.0.dist-info/RECORD", "\n".join(record).encode())]:
            archive.writestr(path, data)
    (index / name / "index.html").write_text(f'<a href="{wheel}">{wheel}</a>')


def test_an_unreachable_torch_index_is_retried_at_most_once_per_lookup(student_bundle, tmp_path):
    """The bundle's install command, where PyTorch's index cannot be reached (a port nothing listens on): pip's
    default retries it five times for every package it looks up, with growing pauses."""
    command = bundle.INSTALL_COMMAND.split()
    assert command[:4] == ["python3", "-m", "pip", "install"] and command[-1] == "."
    constraints = (student_bundle / "constraints.txt").read_text().replace(bundle.TORCH_CPU_INDEX, "http://127.0.0.1:9/whl/cpu")
    (tmp_path / "constraints.txt").write_text(constraints)
    for name in ("tinya", "tinyb"):
        tiny_wheel(tmp_path / "index", name)
    done = subprocess.run([sys.executable, *command[1:-1], "--isolated", "--dry-run", "--ignore-installed", "--no-cache-dir",
                           "--index-url", (tmp_path / "index").as_uri(), "tinya", "tinyb"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Would install tinya-1.0 tinyb-1.0" in done.stdout
    assert (done.stdout + done.stderr).count("Retrying (Retry(") <= 2  # one retry per package; pip's default made 10
