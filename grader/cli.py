"""The command line: argument parsing only; each command calls one keyword-only function of the package."""

from __future__ import annotations

import argparse
import os
import random
import sys
from pathlib import Path
from typing import Sequence


def _check(args: argparse.Namespace) -> int:
    from grader.checks import EXERCISES, UnknownExercise, load_checks, resolve
    from grader.report import format_results
    from grader.runner import InProcessRunner, grade_exercise

    folder = Path(args.path)
    if not folder.is_dir():
        print(f"grader check: no folder {folder}; run it where your exercises/ folder is, or pass --path DIR", file=sys.stderr)
        return 2
    try:
        exercises = resolve(args.exercises) if args.exercises else [e for e in EXERCISES if (folder / f"{e}.py").is_file()]
    except UnknownExercise as error:
        print(f"grader check: {error}", file=sys.stderr)
        return 2
    if not exercises:
        print(f"grader check: no exercise files in {folder}; expected files such as {folder / (EXERCISES[0] + '.py')}", file=sys.stderr)
        return 2
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
    sys.path.insert(0, str(folder.resolve()))  # a student's module may import its neighbours
    results = []
    for exercise in exercises:
        checks = load_checks(exercise, seed=seed, hidden=args.hidden)
        results += grade_exercise(exercise, folder / f"{exercise}.py", checks, InProcessRunner(timeout=args.timeout))
    print(format_results(results))
    print(f"(random inputs drawn with --seed {seed})")
    return 0 if all(r.status != "failed" for r in results) else 1


def _grade(args: argparse.Namespace) -> int:
    from grader.batch import default_workers, grade

    if args.show_formulas:  # after the deadline: feedback pages name the derived formulas too
        from grader.judges import show_formulas

        show_formulas()
    workers = default_workers() if args.workers is None else args.workers
    return grade(submissions=Path(args.submissions), out=Path(args.out), workers=workers, timeout=args.timeout,
                 force=args.force, seed=args.seed, progress=not args.quiet)


def _release(args: argparse.Namespace) -> int:
    from grader import release

    if args.check:
        stale = release.drifted()
        if stale:
            print("exercises/ is out of date with solutions/: " + ", ".join(stale) + "; run `grader release --exercises`", file=sys.stderr)
            return 1
        print("exercises/ matches solutions/")
        return 0
    if args.exercises_only:
        for path in release.write_exercises():
            print(f"wrote {path}")
        return 0
    if not args.out:
        print("grader release: give --out DIR for the student bundle (or --exercises / --check)", file=sys.stderr)
        return 2
    from grader.bundle import BundleLeak, write_bundle

    try:
        write_bundle(out=Path(args.out))
    except BundleLeak as leak:  # the audit names each leak by file, line and clause
        print(f"grader release: {leak}", file=sys.stderr)
        return 1
    print(f"student bundle written to {args.out}")
    return 0


def _nbgrader(args: argparse.Namespace) -> int:
    from grader.nbgrader_course import build_course

    build_course(course_dir=Path(args.course_dir), assignment=args.assignment, seed=args.seed)
    return 0


def _gradescope(args: argparse.Namespace) -> int:
    from grader.gradescope import build_autograder

    build_autograder(out=Path(args.out), seed=args.seed)
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="grader", description="Checks and grades the gradient-descent exercises.")
    commands = top.add_subparsers(dest="command", required=True)

    check = commands.add_parser("check", help="run the public checks on your exercise files")
    check.add_argument("exercises", nargs="*", metavar="EXERCISE", help="e.g. ex01_linear_model or ex01 (default: every file present)")
    check.add_argument("--path", default="exercises", help="folder with your exercise files (default: exercises)")
    check.add_argument("--seed", type=int, default=None, help="draw the random inputs from this seed (to reproduce a run)")
    check.add_argument("--timeout", type=float, default=10.0, help="seconds allowed per probe (default: 10)")
    check.add_argument("--hidden", action="store_true", help=argparse.SUPPRESS)
    check.set_defaults(run=_check)

    grade = commands.add_parser("grade", help="grade a class of submissions")
    grade.add_argument("submissions", metavar="SUBMISSIONS", help="folder of <student>/ folders or <student>.zip files")
    grade.add_argument("--out", required=True, help="folder for the gradebook, results and feedback pages")
    grade.add_argument("--workers", type=int, default=None, help="parallel workers (default: number of cores + 1)")
    grade.add_argument("--timeout", type=float, default=10.0, help="seconds allowed per probe (default: 10)")
    grade.add_argument("--force", action="store_true", help="regrade students whose files have not changed")
    grade.add_argument("--seed", type=int, default=None, help="seed for the randomised inputs (default: fresh)")
    grade.add_argument("--quiet", action="store_true", help="no progress bar")
    grade.add_argument("--show-formulas", action="store_true",
                       help="failure messages name the derived formula the expected value comes from (after the deadline)")
    grade.set_defaults(run=_grade)

    release = commands.add_parser("release", help="make the student bundle, or regenerate/verify exercises/")
    release.add_argument("--out", help="folder for the student bundle")
    release.add_argument("--exercises", dest="exercises_only", action="store_true", help="regenerate exercises/ from solutions/")
    release.add_argument("--check", action="store_true", help="fail when exercises/ differs from what solutions/ generates")
    release.set_defaults(run=_release)

    nbgrader = commands.add_parser("nbgrader", help="build an nbgrader course from the exercises")
    nbgrader.add_argument("course_dir", metavar="COURSE_DIR")
    nbgrader.add_argument("--assignment", default="gradient_descent", help="assignment name (default: gradient_descent)")
    nbgrader.add_argument("--seed", type=int, default=None, help="seed written into every test cell (default: fresh, printed)")
    nbgrader.set_defaults(run=_nbgrader)

    gradescope = commands.add_parser("gradescope", help="build a Gradescope autograder zip")
    gradescope.add_argument("--out", default="autograder.zip")
    gradescope.add_argument("--seed", type=int, default=None, help="seed of the random inputs for every submission (default: fresh, printed)")
    gradescope.set_defaults(run=_gradescope)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def run() -> None:
    """The console entry point: `main`, then exit without tearing the interpreter down.

    Everything the commands write is written and closed before `main` returns; what is left is the interpreter's
    own teardown, which after `import torch` costs about 0.6 s of a student's `grader check`.
    """
    try:
        status = main()
    except SystemExit as exit_:  # argparse's --help and usage errors; as Python itself exits for them
        code = exit_.code
        if code is not None and not isinstance(code, int):
            print(code, file=sys.stderr)
        status = code if isinstance(code, int) else 0 if code is None else 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
