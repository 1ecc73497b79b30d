"""The command line: argument parsing only; each command calls one keyword-only function of the package."""

from __future__ import annotations

import argparse
import os
import random
import sys
from pathlib import Path
from typing import Sequence


def _unwritable(path: Path, *, want: str) -> str | None:
    """Why `path` cannot become a `want` ("folder" or "file") to write, or None when it can."""
    if want == "folder" and path.exists() and not path.is_dir():
        return f"{path} is a file; give a folder"
    if want == "file" and path.is_dir():
        return f"{path} is a folder; give a file name such as {path / 'autograder.zip'}"
    blocking = next((parent for parent in path.parents if parent.exists() and not parent.is_dir()), None)
    if blocking is not None:
        return f"{path} cannot be written: {blocking} is a file, not a folder"
    return None


def _refuse(command: str, problem: str) -> int:
    """One line on stderr for a command given arguments it cannot use; exit status 2."""
    print(f"grader {command}: {problem}", file=sys.stderr)
    return 2


def _check(args: argparse.Namespace) -> int:
    from grader.student import check_files

    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
    return check_files(folder=Path(args.path), names=args.exercises, seed=seed, timeout=args.timeout, hidden=args.hidden)


def _grade(args: argparse.Namespace) -> int:
    from grader.instructor.batch import default_workers, grade

    if args.show_formulas:  # after the deadline: feedback pages name the derived formulas too
        from grader.judges import show_formulas

        show_formulas()
    if args.similarity and args.shard:
        print("grader grade: --similarity compares the whole class, which a shard does not hold; run "
              "`grader similarity SUBMISSIONS --out OUT/similarity` once the shards are done (`grader report OUT` then links it)", file=sys.stderr)
        return 2
    if args.no_gpu:  # this process then skips the CUDA checks, and no child is admitted to a GPU
        from grader import gpu

        os.environ[gpu.DISABLE_VARIABLE] = "1"
    if (args.gpu_slots is not None and args.gpu_slots < 1) or args.gpu_memory <= 0:
        print("grader grade: --gpu-slots must be at least 1 and --gpu-memory more than 0", file=sys.stderr)
        return 2
    workers = default_workers() if args.workers is None else args.workers
    return grade(submissions=Path(args.submissions), out=Path(args.out), workers=workers, timeout=args.timeout,
                 force=args.force, seed=args.seed, progress=not args.quiet, shard=args.shard, similarity=args.similarity,
                 gpu_slots=args.gpu_slots, gpu_memory=args.gpu_memory)


def _similarity(args: argparse.Namespace) -> int:
    from grader.instructor.similarity import similarity

    return similarity(submissions=Path(args.submissions), out=Path(args.out), floor=args.floor, top=args.top)


def _shard(text: str):
    from grader.instructor.shards import Shard

    try:
        return Shard.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _report(args: argparse.Namespace) -> int:
    from grader.instructor.class_report import report_class

    return report_class(Path(args.out))


def _release(args: argparse.Namespace) -> int:
    from grader.instructor import release

    modes = [flag for flag, given in (("--check", args.check), ("--exercises", args.exercises_only),
                                      ("--solutions", args.solutions), ("--out", args.out)) if given]
    if len(modes) > 1 and modes != ["--solutions", "--out"]:
        return _refuse("release", f"{' and '.join(modes)} do not go together: --check and --exercises work on exercises/, "
                                  "--out DIR writes the student bundle (with --solutions, the worked solutions)")
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
        what = "the worked solutions" if args.solutions else "the student bundle (or --exercises / --check)"
        return _refuse("release", f"give --out DIR for {what}")
    out = Path(args.out)
    problem = _unwritable(out, want="folder")
    if problem:
        return _refuse("release", f"--out {problem}")
    if args.solutions:
        written = release.write_worked_solutions(out=out)
        print(f"worked solutions written to {out.resolve()} ({len(written)} files): hand them out after the deadline")
        return 0
    from grader.instructor.bundle import AuditFailed, BundleLeak, write_bundle

    try:
        write_bundle(out=out)
    except BundleLeak as leak:  # the audit names each leak by file, line and clause
        print(f"grader release: {leak}", file=sys.stderr)
        return 1
    except AuditFailed as failure:
        print(f"grader release: {failure}; the bundle was removed again (run the command again, or report this)", file=sys.stderr)
        return 1
    print(f"student bundle written to {out.resolve()}")
    return 0


NBGRADER_EXTRA = "python3 -m pip install -c constraints/cpu.txt -e \".[nbgrader]\""


def _nbgrader(args: argparse.Namespace) -> int:
    import importlib.util

    from grader.instructor.nbgrader_course import build_course

    missing = [name for name in ("jupytext", "nbformat") if importlib.util.find_spec(name) is None]
    if missing:
        print(f"grader nbgrader: {' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not installed; install the kit's "
              f"nbgrader extra (which brings nbgrader too), from the kit's folder: {NBGRADER_EXTRA}", file=sys.stderr)
        return 2
    problem = _unwritable(Path(args.course_dir), want="folder")
    if problem:
        return _refuse("nbgrader", f"COURSE_DIR {problem}")
    try:
        build_course(course_dir=Path(args.course_dir), assignment=args.assignment, seed=args.seed)
    except ValueError as error:  # an assignment name nbgrader cannot use
        return _refuse("nbgrader", str(error))
    return 0


def _gradescope(args: argparse.Namespace) -> int:
    from grader.instructor.gradescope import build_autograder

    out = Path(args.out or "autograder.zip")
    problem = _unwritable(out, want="file")
    if problem:
        return _refuse("gradescope", f"--out {problem}")
    if args.out is None:
        print(f"no --out given: writing {out} in the current folder, {Path.cwd()}")
    build_autograder(out=out, seed=args.seed)
    return 0


def _doctor(args: argparse.Namespace) -> int:
    from grader.instructor.doctor import doctor

    pytest_args = (["-k", args.keyword] if args.keyword else []) + [a for a in args.pytest_args[:1] if a != "--"] + args.pytest_args[1:]
    if pytest_args and not args.caught:
        return _refuse("doctor", "-k and pytest arguments choose the tests that --caught runs; add --caught")
    return doctor(caught=args.caught, pytest_args=pytest_args)


class Parser(argparse.ArgumentParser):
    """argparse, with a usage error on one line (`grader check: argument --timeout: expected one argument`)."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def parser() -> argparse.ArgumentParser:
    top = Parser(prog="grader", description="Checks and grades the gradient-descent exercises.")
    commands = top.add_subparsers(dest="command", required=True, parser_class=Parser)

    check = commands.add_parser("check", help="run the public checks on your exercise files")
    check.add_argument("exercises", nargs="*", metavar="EXERCISE",
                       help="e.g. ex01_linear_model, ex01, or a file such as ex01_linear_model.ipynb (default: every file present)")
    check.add_argument("--path", default="exercises", help="folder with your exercise files, .py or .ipynb (default: exercises)")
    check.add_argument("--seed", type=int, default=None, help="draw the random inputs from this seed (to reproduce a run)")
    check.add_argument("--timeout", type=float, default=10.0, help="seconds allowed per probe and for importing a file (default: 10)")
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
    grade.add_argument("--shard", type=_shard, default=None, metavar="K/N",
                       help="grade only the K-th of N slices of the class (by a hash of each name) into an OUT the shards share")
    grade.add_argument("--no-gpu", action="store_true", help="keep every student's code off the GPU (CUDA checks are skipped)")
    grade.add_argument("--gpu-slots", type=int, default=None, metavar="K",
                       help="at most K students on the GPU at once, on this machine (default: one per GPU)")
    grade.add_argument("--gpu-memory", type=float, default=4.0, metavar="GIB",
                       help="GPU memory one student's exercise may allocate, in GiB (default: 4)")
    grade.add_argument("--show-formulas", action="store_true",
                       help="failure messages name the derived formula the expected value comes from (after the deadline)")
    grade.add_argument("--similarity", action="store_true",
                       help="also compare the students' code (as `grader similarity` does) into OUT/similarity/, linked from summary.html")
    grade.set_defaults(run=_grade)

    similarity = commands.add_parser("similarity", help="find pairs of students whose code is alike (stubs discounted)",
                                     description="Compare every pair of students exercise by exercise with copydetect "
                                     "(identifiers and comments normalised, the handed-out stubs discounted) and write "
                                     "DIR/similarity.csv and DIR/similarity.html. A high score is a reason to look, not a verdict.")
    similarity.add_argument("submissions", metavar="SUBMISSIONS", help="folder of <student>/ folders or <student>.zip files, as for grade")
    similarity.add_argument("--out", required=True, metavar="DIR", help="folder for similarity.csv, similarity.html and the side-by-side pages")
    similarity.add_argument("--floor", type=float, default=None, help="leave out pairs scoring less, 0 to 1 (default: 0.25)")
    similarity.add_argument("--top", type=int, default=10, help="pairs printed (default: 10)")
    similarity.set_defaults(run=_similarity)

    report = commands.add_parser("report", help="rebuild a class's gradebook and summary from the results in OUT")
    report.add_argument("out", metavar="OUT", help="the --out folder of `grader grade` (one run, or many shards)")
    report.set_defaults(run=_report)

    release = commands.add_parser("release", help="make the student bundle, or regenerate/verify exercises/")
    release.add_argument("--out", metavar="DIR", help="folder for the student bundle (made if need be)")
    release.add_argument("--exercises", dest="exercises_only", action="store_true", help="regenerate exercises/ from solutions/")
    release.add_argument("--check", action="store_true", help="fail when exercises/ differs from what solutions/ generates")
    release.add_argument("--solutions", action="store_true",
                         help="with --out DIR: the worked solutions (.py, .ipynb, README), for after the deadline")
    release.set_defaults(run=_release)

    nbgrader = commands.add_parser("nbgrader", help="build an nbgrader course from the exercises")
    nbgrader.add_argument("course_dir", metavar="COURSE_DIR",
                          help="folder for the course (made if need be): nbgrader_config.py and source/<assignment>/*.ipynb")
    nbgrader.add_argument("--assignment", default="gradient_descent", help="assignment name (default: gradient_descent)")
    nbgrader.add_argument("--seed", type=int, default=None, help="seed written into every test cell (default: fresh, printed)")
    nbgrader.set_defaults(run=_nbgrader)

    gradescope = commands.add_parser("gradescope", help="build a Gradescope autograder zip")
    gradescope.add_argument("--out", default=None, metavar="FILE",
                            help="the zip to write (default: autograder.zip in the current folder)")
    gradescope.add_argument("--seed", type=int, default=None, help="seed of the random inputs for every submission (default: fresh, printed)")
    gradescope.set_defaults(run=_gradescope)

    doctor = commands.add_parser("doctor", help="say what an exercise still lacks (files, registration, checks, tests)")
    doctor.add_argument("--caught", action="store_true",
                        help="also run tests/checks and name every check that no wrong submission fails (some 20 s)")
    doctor.add_argument("-k", dest="keyword", default=None, metavar="EXPRESSION",
                        help="with --caught: only the tests that pytest's -k selects (e.g. -k ex09_toy)")
    doctor.add_argument("pytest_args", nargs=argparse.REMAINDER, metavar="-- PYTEST_ARGS",
                        help="with --caught: more arguments for pytest, after --")
    doctor.set_defaults(run=_doctor)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except ModuleNotFoundError as error:
        if not (error.name or "").startswith("grader.instructor"):
            raise
        print(f"grader {args.command}: this is an instructor's command, and this copy of the kit is a student bundle "
              "(it has no grader/instructor/). Students run `grader check`; instructors run this command in the full kit.",
              file=sys.stderr)
        return 2


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
