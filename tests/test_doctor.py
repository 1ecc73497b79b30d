"""`grader doctor`: the kit is complete, each kind of gap planted in a copy of the kit is named with what to do, and
`--caught` finds the checks that no wrong submission of a real test run fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.instructor.doctor import findings, graded_submissions, uncaught
from kit_copy import copy_kit, register, run_in



def test_the_kit_is_complete():
    assert findings() == []


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


def rewrap_checks(module: Path, body: str) -> None:
    """Append to a check module a `checks(rng)` that returns `body` made of `found`, the checks it declared before."""
    append(module, "\n\nimport dataclasses as _dataclasses\n\n_planted_from = checks\n\n\ndef checks(rng):\n"
                   f"    found = _planted_from(rng)\n    {body}\n")


PLANTED_RECIPES = ("planted = tuple(_dataclasses.replace(found[0].probes[0], recipe=name) "
                   "for name in ('nowhere.run', 'lazy_dynamo.install', 'models.no_such_recipe'))\n"
                   "    return [*found, _dataclasses.replace(found[0], name='planted', probes=planted)]")


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """A copy of the kit with one problem of each kind, and what `grader doctor` says there."""
    kit = copy_kit(tmp_path_factory.mktemp("kit"))
    checks = kit / "grader" / "instructor" / "checks"
    register(kit / "grader" / "checks" / "__init__.py", "ex10_ghost")  # registered, nothing written
    (kit / "solutions" / "ex11_stray.py").write_text((kit / "solutions" / "ex02_derivative.py").read_text())  # not registered
    (checks / "ex11_stray.py").write_text((checks / "ex02_derivative.py").read_text())
    (kit / "exercises" / "ex12_orphan.py").write_text("def f():\n    pass\n")  # a stub without a solution
    append(kit / "exercises" / "ex01_linear_model.py", "\n# edited by hand\n")  # a stub out of date
    append(checks / "ex03_quadratic.py", "\n\ndef checks(rng):\n    return []\n")  # no public checks
    rewrap_checks(checks / "ex04_cost_loss_sgd.py", PLANTED_RECIPES)  # recipes that do not exist or are not registered
    append(checks / "hidden" / "ex05_torch_gd.py", "\nraise RuntimeError('planted')\n")  # checks that do not load
    # public checks that say they are hidden
    rewrap_checks(checks / "ex06_matrix_calculus.py", "return [_dataclasses.replace(c, visibility='hidden') for c in found]")
    done = run_in(kit, "grader doctor")
    return done.returncode, done.stdout.splitlines(), done.stderr


def test_a_registered_exercise_without_files_is_named_file_by_file(planted):
    status, lines, _ = planted
    assert status == 1
    assert "ex10_ghost: solutions/ex10_ghost.py is missing: write it, the answers between solution markers (CONTRIBUTING.md, step 1)" in lines
    assert "ex10_ghost: grader/instructor/checks/ex10_ghost.py is missing: write its public checks (CONTRIBUTING.md, step 4)" in lines
    assert ("ex10_ghost: tests/checks/test_ex10_ghost.py is missing: write a wrong submission that each check catches "
            "(CONTRIBUTING.md, step 5)") in lines
    assert "tools/make_sample_class.py does not list ex10_ghost: add it to its EXERCISES, then run `python tools/make_sample_class.py`" in lines


def test_files_of_an_unregistered_exercise_are_named(planted):
    _, lines, _ = planted
    assert ("ex11_stray is not registered (it has solutions/ex11_stray.py, grader/instructor/checks/ex11_stray.py): "
            "add it to EXERCISES in grader/checks/__init__.py") in lines
    assert "ex12_orphan is not registered (it has exercises/ex12_orphan.py): add it to EXERCISES in grader/checks/__init__.py" in lines


def test_stubs_out_of_sync_with_their_solutions_are_named(planted):
    _, lines, _ = planted
    assert "exercises/ex01_linear_model.py is out of date with solutions/ex01_linear_model.py: run `grader release --exercises`" in lines
    assert "exercises/ex11_stray.py is missing: run `grader release --exercises`" in lines
    assert "exercises/ex12_orphan.py has no solution: write solutions/ex12_orphan.py, or delete the stub" in lines


def test_an_empty_checks_list_is_named(planted):
    _, lines, _ = planted
    assert ("ex03_quadratic: grader/instructor/checks/ex03_quadratic.py returns no checks: write its public checks "
            "(CONTRIBUTING.md, step 4)") in lines


def test_recipes_that_cannot_run_are_named_with_the_reason(planted):
    _, lines, _ = planted
    recipe_lines = [line for line in lines if line.startswith("ex04_cost_loss_sgd.planted: ")]
    assert recipe_lines == [
        "ex04_cost_loss_sgd.planted: its probe recipe 'lazy_dynamo.install' is in a module that is not registered: "
        "add 'lazy_dynamo' to RECIPE_MODULES in grader/probes/__init__.py",
        "ex04_cost_loss_sgd.planted: its probe recipe 'models.no_such_recipe' is not a function of grader/probes/models.py: "
        "define no_such_recipe() there, or fix the name",
        "ex04_cost_loss_sgd.planted: its probe recipe 'nowhere.run' names grader/probes/nowhere.py, which does not exist: "
        "write the recipe there, or fix the name",
    ]


def test_checks_that_do_not_load_or_state_another_place_are_named_and_nothing_else_is_found(planted):
    status, lines, stderr = planted
    assert ("ex05_torch_gd: loading its checks raised RuntimeError: planted; fix grader/instructor/checks/ex05_torch_gd.py "
            "(or its hidden/ module)") in lines
    [misplaced] = [line for line in lines if line.startswith("ex06_matrix_calculus: ")]
    assert misplaced.startswith("ex06_matrix_calculus: loading its checks raised ValueError: check ")
    assert "states visibility='hidden' but is declared in ex06_matrix_calculus's public checks" in misplaced
    assert len(lines) == 15  # the findings above, no others
    assert stderr.strip() == "15 findings; CONTRIBUTING.md says how to add an exercise"


# ------------------------------------------------------------------------------------------------- --caught


def test_caught_names_the_checks_a_real_run_of_tests_leaves_uncaught():
    run = graded_submissions(["-k", "ex02 and test_missing_factor_two_is_named"])
    assert run.status == 0 and len(run.records) == 1
    found, notes = uncaught(run.records, ["ex02_derivative"])
    assert notes == []
    assert found == [f"ex02_derivative.{name}: no wrong submission fails it: add one to tests/checks/test_ex02_derivative.py "
                     f"(grade_mutant, then assert the check fails)"
                     for name in ("numerical_gradient_central", "numerical_gradient_default_h", "numerical_gradient_random")]


def record(failed=(), passed=(), stubbed=(), skipped=()) -> dict:
    return {"test": "t", "exercise": "ex02_derivative", "failed": list(failed), "passed": list(passed),
            "stubbed": list(stubbed), "skipped": list(skipped), "hinted": []}


EX02 = ["dloss_dw", "gradient", "numerical_gradient_central", "numerical_gradient_default_h", "gradient_random",
        "numerical_gradient_random"]


def uncaught_names(records: list[dict]) -> list[str]:
    found, _ = uncaught(records, ["ex02_derivative"])
    return [line.split(":")[0].split(".")[1] for line in found]


def test_a_submission_that_passes_nothing_proves_no_check():
    assert uncaught_names([record(failed=EX02)]) == EX02  # a stub file, or one that does not import
    assert uncaught_names([record(failed=EX02[:2], passed=EX02[2:])]) == EX02[2:]


def test_a_failure_because_a_function_is_still_a_stub_proves_nothing():
    half_written = record(failed=["dloss_dw", "gradient"], stubbed=["dloss_dw"], passed=EX02[2:])
    assert uncaught_names([half_written]) == ["dloss_dw", *EX02[2:]]


def test_an_exercise_no_test_graded_is_a_finding():
    found, _ = uncaught([], ["ex02_derivative"])
    assert found == ["ex02_derivative: no test graded a submission of it: write a wrong submission that each check catches "
                     "(CONTRIBUTING.md, step 5) in tests/checks/test_ex02_derivative.py"]


def test_checks_skipped_on_this_machine_are_notes_not_findings():
    cuda = ["manual_gd_cuda", "optim_gd_cuda", "fit_linear_cuda", "mse_cuda"]
    submission = {**record(skipped=cuda), "exercise": "ex05_torch_gd"}
    found, notes = uncaught([submission], ["ex05_torch_gd"])
    assert not any("_cuda" in line for line in found)
    assert [note.split()[1] for note in notes] == [f"ex05_torch_gd.{name}" for name in cuda]
