"""The checks of every exercise, loaded from where they live. In the instructor's kit
`grader/instructor/checks/<exercise>.py` holds the public ones and `grader/instructor/checks/hidden/<exercise>.py` the
hidden ones (instructor-side modules: they compute references). Each defines `checks(rng) -> list[Check]`; `rng` (a
`random.Random`) draws the randomised inputs of this run; a check's exercise and visibility are its module's place. A
student bundle holds neither (it has no `grader/instructor/`): there the public checks are the cases `grader release`
baked (`grader.baked`), judged by the same shipped logic.
"""

from __future__ import annotations

import importlib
import random
from typing import Sequence

from grader.model import Check

EXERCISES: tuple[str, ...] = (
    "ex01_linear_model",
    "ex02_derivative",
    "ex03_quadratic",
    "ex04_cost_loss_sgd",
    "ex05_torch_gd",
    "ex06_matrix_calculus",
    "ex07_mlp_regression",
    "ex08_lenet",
)


class UnknownExercise(ValueError):
    """An exercise name that is not in `EXERCISES`."""


def resolve(names: Sequence[str]) -> list[str]:
    """Exercise names from user input: exact names, or a unique prefix such as `ex01`; all when empty."""
    if not names:
        return list(EXERCISES)
    chosen = []
    for name in names:
        stem = name.removesuffix(".py").removesuffix(".ipynb")
        matches = [e for e in EXERCISES if e == stem or e.startswith(stem + "_")]
        if not matches and stem:
            matches = [e for e in EXERCISES if e.startswith(stem)]
            if len(matches) > 1:
                raise UnknownExercise(f"ambiguous exercise {name!r}: it matches {', '.join(matches)}; give more of the name (such as {matches[0][:4]})")
        if len(matches) != 1:
            raise UnknownExercise(f"unknown exercise {name!r}; choose from: {', '.join(EXERCISES)} (or a prefix such as ex01)")
        chosen.append(matches[0])
    return chosen


INSTRUCTOR_CHECKS = "grader.instructor.checks"


def _module(exercise: str, hidden: bool):
    """The instructor's check module of `exercise`; None where it is not installed (a student bundle)."""
    package = f"{INSTRUCTOR_CHECKS}.hidden" if hidden else INSTRUCTOR_CHECKS
    name = f"{package}.{exercise}"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name is not None and (name == error.name or name.startswith(error.name + ".")):
            return None
        raise


def load_checks(exercise: str, *, seed: int | None = None, hidden: bool = False) -> list[Check]:
    """The checks of `exercise` (public, plus hidden ones where asked and installed), inputs drawn from `seed`."""
    rng = random.Random(seed)
    found = []
    for is_hidden in (False, True) if hidden else (False,):
        module = _module(exercise, is_hidden)
        if module is not None:
            found.extend(check.placed(exercise, "hidden" if is_hidden else "public") for check in module.checks(rng))
        elif not is_hidden:  # a student bundle: the public checks as baked at release time
            from grader.baked import baked_checks

            found.extend(baked_checks(exercise, seed) or ())
    names = [c.name for c in found]
    if len(set(names)) != len(names):
        raise RuntimeError(f"duplicate check names in {exercise}: {names}")
    return found
