"""`grader grade`: grade a class in an ordered pipeline of small steps.

discover the submissions -> load every exercise's checks once (references derived once per batch) -> skip students
whose files have not changed since the last run -> grade the others in parallel, each in sandboxed children ->
write each student's results atomically as they finish -> (with --similarity, compare the class's code:
grader.instructor.similarity) -> write the class gradebook and summary -> print a table.

With `--shard K/N` the run grades only its slice of the class (grader.instructor.shards) into an OUT that other shards share:
the seed is the class's, each student is graded under a lock, and the class files are rebuilt from every student's
record in OUT (grader.instructor.class_report) by the last shard to end, so it leaves the whole class's gradebook.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from grader.checks import EXERCISES, load_checks
from grader.instructor.files import atomic_write_json
from grader.instructor.judging import JudgingBudget, interrupt_all
from grader.model import Check, CheckResult, Outcome, Verdict
from grader.probes import lazy_dynamo
from grader.runner import capability_available, grade_exercise, judge_check, skipped
from grader import gpu
from grader.instructor.sandbox import GiB, Limits, SandboxRunner
from grader.instructor.shards import (Locks, SeedConflict, Shard, agreed_seed, all_finished, class_folder, class_lock, record_seed,
                           stored_seed, write_shard_file)
from grader.instructor.submissions import NoSubmissions, Submission, discover

RECORD = "record.json"
RETRY_LOCKED = 2.0  # seconds before asking again for a student another process is grading
CLASS_FILES = ("gradebook.csv", "summary.html", "similarity")  # the class's own in OUT (and the histogram, SCORE_PICTURE)
_JUDGING = threading.Lock()  # judges (sympy, torch) run one at a time; children run in parallel
MAX_TEXT = 20_000  # characters of a check's message or hint in a student's outputs
MAX_EXTRAS = 1 << 20  # characters of a check's extras (training curves for the feedback page), as JSON
JUDGING_SECONDS = 30.0  # of the grader's time to judge one student's answers (the sample class needs about 1 s)


def default_workers() -> int:
    """One worker more than cores: the cores stay busy while a worker waits on a child (starting, ending, a stuck
    loop that only the probe timeout ends); each child still gets at least two thirds of a core on two cores."""
    return available_cores() + 1


def available_cores() -> int:
    """Cores this process may use: its CPU affinity, capped by a cgroup v2 CPU quota (a container's `--cpus`)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if quota != "max":
            cores = min(cores, max(1, int(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cores)


def grade(*, submissions: Path, out: Path, workers: int, timeout: float, force: bool, seed: int | None, progress: bool,
          shard: Shard | None = None, similarity: bool = False, gpu_slots: int | None = None, gpu_memory: float = 4.0) -> int:
    """Grade every student in `submissions` (or `shard`'s slice of them) into `out`; 0 when the batch ran, 2 for bad
    input, 130 when interrupted. With `similarity` (unsharded only), also compare the class's code into
    `out/similarity/` (grader.instructor.similarity) for the summary to link."""
    problem = bad_input(submissions, out, workers, timeout)
    if problem:
        print(f"grader grade: {problem}", file=sys.stderr)
        return 2
    submissions, out = submissions.resolve(), out.resolve()  # before anything (a sandboxed child) changes directory
    staging = Path(tempfile.mkdtemp(prefix="grader-staging-"))
    try:
        ignored: list[str] = []
        try:
            students = discover(submissions, staging, ignored, unpack=shard.holds if shard else None)
        except NoSubmissions as error:
            print(f"grader grade: {error}", file=sys.stderr)
            return 2
        try:
            seed = choose_seed(out, students, seed, shard)
        except (SeedConflict, OSError) as error:
            print(f"grader grade: {error}", file=sys.stderr)
            return 2
        roster, students = students, in_shard(students, shard)
        limits = Limits(timeout=timeout, gpu=not gpu.disabled(), gpu_memory=int(gpu_memory * GiB))
        runner = SandboxRunner(limits, forbidden=[out, submissions, staging], gpu_slots=gpu_slots)
        runner.warm_up()  # the zygote imports and warms torch on the other core while this process loads the checks
        try:
            checks = load_all_checks(seed)
            signature = checks_signature(checks)
            graded, pending = reuse_unchanged(out, students, signature, force, seed)
            if graded:
                print(f"{len(graded)} unchanged, reused (their files, the checks and the seed are as last time; --force regrades them)")
            log = ShardLog(out, shard or Shard(1, 1), roster, students, seed, signature)
            run = grade_pending(pending, checks, runner, out=out, seed=seed, signature=signature, workers=workers,
                                progress=progress)
            graded = {**graded, **run.graded}
            notes = runner.notes + ignored + list(run.problems.values()) + list(run.notes)
            log.finish(run, runner.notes + list(run.notes))
        finally:
            runner.close()
        if similarity and shard is None and not run.interrupted:
            from grader.instructor import similarity as alike

            alike.report(roster, out / "similarity", sources=alike.sources_of(submissions, staging, roster))
        if shard is None:
            write_class_outputs(out, graded, notes, skipped=len(students) - len(pending))
        print(format_summary(graded))
        print(f"(random inputs drawn with --seed {seed}; gradebook: {out / 'gradebook.csv'})")
        if shard is not None:
            print(log.describe())
            print(rebuild_class_outputs(out, shard))
        if run.interrupted:
            print(f"grader grade: interrupted; {len(graded)} of {len(students)} students are graded; run the same command again to finish",
                  file=sys.stderr)
            return 130
        return 0
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# ------------------------------------------------------------------------------------------------- steps


def bad_input(submissions: Path, out: Path, workers: int, timeout: float) -> str | None:
    """What is wrong with the command's arguments, if anything."""
    if workers < 1:
        return f"--workers must be at least 1 (got {workers})"
    if not timeout > 0:
        return f"--timeout must be a positive number of seconds (got {timeout})"
    if not submissions.is_dir():
        return f"no folder {submissions}; give the folder that holds one <student>/ folder or <student>.zip per student"
    resolved_out, resolved_in = out.resolve(), submissions.resolve()
    if resolved_out == resolved_in or resolved_in in resolved_out.parents:
        return f"--out {out} is inside {submissions}; choose a folder outside the submissions"
    if out.exists() and not out.is_dir():
        return f"--out {out} is a file; choose a folder"
    return None


def choose_seed(out: Path, students: Sequence[Submission], seed: int | None, shard: Shard | None = None) -> int:
    """The given seed; else the seed of an earlier run into `out` (so a resumed class shares inputs); else a fresh one.

    The class's seed is recorded in `out` by whichever run comes first, so shards starting together agree on it. An
    unsharded run given --seed makes that the class's seed; a shard given another seed than the class's is refused.
    """
    if seed is not None and shard is None:
        record_seed(out, seed)
        return seed
    proposal = seed if seed is not None else stored_seed(out)
    if proposal is None:
        records = (read_record(out, submission.student) for submission in students)
        proposal = next((r["seed"] for r in records if r and isinstance(r.get("seed"), int)), None)
    if proposal is None:
        proposal = random.SystemRandom().randrange(2**31)
    agreed = agreed_seed(out, proposal)
    if seed is not None and agreed != seed:
        raise SeedConflict(f"{out} holds a class graded with --seed {agreed} ({class_folder(out) / 'seed.json'}); "
                           f"give every shard the same seed (or none, to use the class's), or grade into another --out")
    return agreed


def load_all_checks(seed: int) -> dict[str, list[Check]]:
    """Every exercise's public and hidden checks, with inputs drawn from `seed`."""
    checks = {exercise: load_checks(exercise, seed=seed, hidden=True) for exercise in EXERCISES}
    lazy_dynamo.install()  # the judges' optimizer replays need no compiler either
    return checks


def checks_signature(checks: dict[str, list[Check]]) -> str:
    """Changes when the checks change (another kit version, another seed's checks are the same list)."""
    text = json.dumps([[c.qualified_name, c.points, c.visibility] for cs in checks.values() for c in cs])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def student_folder(out: Path, student: str) -> Path:
    """`OUT/<student>/`, apart from the class's own files: a student named like one of them (`gradebook.csv`,
    compared without case) writes to `OUT/<student>~student/` instead (no student's name holds a `~`)."""
    from grader.instructor.gradebook import SCORE_PICTURE

    clashes = student.lower() in {name.lower() for name in (*CLASS_FILES, SCORE_PICTURE)}
    return out / (f"{student}~student" if clashes else student)


def read_record(out: Path, student: str) -> dict | None:
    try:
        record = json.loads((student_folder(out, student) / RECORD).read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def reuse_unchanged(out: Path, students: Sequence[Submission], signature: str, force: bool,
                    seed: int | None = None) -> tuple[dict, list[Submission]]:
    """Results of students whose files, checks and seed are unchanged since the last run, and the students left to grade."""
    graded: dict[str, list[CheckResult]] = {}
    pending = []
    for submission in students:
        results = None if force else current_results(read_record(out, submission.student), submission.fingerprint, signature, seed)
        if results is None:
            pending.append(submission)
        else:
            graded[submission.student] = results
    return graded, pending


def record_stamp(out: Path, student: str) -> tuple[int, int] | None:
    """Which version of a student's record is on disk (each is written anew, so its inode changes), or None."""
    try:
        status = (student_folder(out, student) / RECORD).stat()
    except OSError:
        return None
    return status.st_ino, status.st_mtime_ns


def current_results(record: dict | None, fingerprint: str, signature: str, seed: int | None) -> list[CheckResult] | None:
    """The results in `record` when it grades these files with these checks and this seed (any seed when None)."""
    if not record or record.get("fingerprint") != fingerprint or record.get("checks") != signature:
        return None
    if seed is not None and record.get("seed") != seed:
        return None
    try:
        return [CheckResult.from_dict(r) for r in record["results"]]
    except (KeyError, TypeError):
        return None


def grade_student(submission: Submission, checks: dict[str, list[Check]], runner: SandboxRunner) -> list[CheckResult]:
    """Every check of every exercise for one student (a refused submission fails every check with the reason, an
    exercise whose file could not be read fails its checks with why)."""
    if submission.problem is not None:
        return [result for exercise in EXERCISES for result in refused_all(checks[exercise], submission.problem)]
    results = []
    judge = student_judge()
    unreadable = dict(submission.unreadable)
    with runner.session(submission.folder) as session:
        for exercise in EXERCISES:
            if exercise in unreadable:
                results += refused_all(checks[exercise], unreadable[exercise])
            elif checks[exercise]:
                results += grade_exercise(exercise, submission.folder / f"{exercise}.py", checks[exercise], session, judge)
    return results


def refused_all(checks: Sequence[Check], problem: str) -> list[CheckResult]:
    """Each check failed with `problem`; checks this machine cannot run are skipped, as for every other student."""
    return [refused(check, problem) if check.requires is None or capability_available(check.requires) else skipped(check)
            for check in checks]


def student_judge(seconds: float = JUDGING_SECONDS) -> Callable[[Check, Sequence[Outcome]], CheckResult]:
    """Judges one student's checks one at a time under the judging lock (the probes of every student run in
    parallel, the judges one at a time), within the student's judging budget."""
    budget = JudgingBudget(seconds, judge_check)

    def judge(check: Check, outcomes: Sequence[Outcome]) -> CheckResult:
        with _JUDGING:
            return budget.judge(check, outcomes)

    return judge


def bounded(result: CheckResult) -> CheckResult:
    """`result` as it may be written: message and hint cut to MAX_TEXT characters and extras left out past
    MAX_EXTRAS, each saying what was cut, and lone surrogates (which UTF-8 cannot hold) escaped. A huge or malformed
    answer then costs its student a few kilobytes of output and never stops their results being written."""
    extras, message = _clean(result.extras), result.message
    size = len(json.dumps(extras, default=str))
    if size > MAX_EXTRAS:
        extras, message = {}, f"{message} (the details for the feedback page, {size} characters, were left out)"
    hint = None if result.hint is None else _clean(_cut(result.hint))
    return dataclasses.replace(result, message=_clean(_cut(message)), hint=hint, extras=extras)


def _cut(text: str) -> str:
    return text if len(text) <= MAX_TEXT else f"{text[:MAX_TEXT]} … [{len(text) - MAX_TEXT} more characters cut]"


def _clean(data: Any) -> Any:
    if isinstance(data, str):
        return data.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(data, dict):
        return {_clean(key): _clean(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [_clean(value) for value in data]
    return data


def refused(check: Check, problem: str) -> CheckResult:
    return CheckResult.of(check, Verdict.fail(problem))


def write_student_outputs(out: Path, submission: Submission, results: list[CheckResult], seed: int, signature: str,
                          seconds: float) -> list[str]:
    """results.json and the feedback page (grader.instructor.gradebook), then this run's record for resuming, each
    atomically; what went wrong with the pages, if anything.

    A page that cannot be made (a curve matplotlib cannot draw) never loses the student: the record, and so their
    row, is written with a note. Only a file that cannot be written (a full disk) leaves them ungraded.
    """
    from grader.instructor.gradebook import write_student

    folder = student_folder(out, submission.student)
    try:
        notes = write_student(out, submission.student, results, execution_time=seconds, folder=folder)
    except OSError:
        raise
    except Exception as error:  # noqa: BLE001 - the grade stands without its pages
        notes = [f"{submission.student}'s results.json and feedback page could not be made ({type(error).__name__}: "
                 f"{str(error)[:200]}); their grade is recorded: report it"]
    record = {"student": submission.student, "fingerprint": submission.fingerprint, "seed": seed, "checks": signature,
              "execution_time": round(seconds, 3), "results": [r.to_dict() for r in results]}
    atomic_write_json(folder / RECORD, {**record, "notes": notes} if notes else record)
    return notes


@dataclasses.dataclass(frozen=True)
class PendingRun:
    """What became of the students `grade_pending` was given.

    `graded`: student -> results, for every student graded here or `reused` (taken from another process that graded
    them meanwhile); `problems`: student -> what went wrong, for a student the grader itself failed on (left ungraded,
    so the next run retries them); `interrupted`: Ctrl-C stopped the run, and `graded` holds who finished before it;
    `notes`: what went wrong writing a graded student's pages (a curve that could not be drawn).
    """

    graded: Mapping[str, list[CheckResult]]
    problems: Mapping[str, str]
    reused: frozenset[str]
    interrupted: bool
    notes: tuple[str, ...] = ()

    @property
    def graded_here(self) -> int:
        """Students this process graded itself."""
        return len(self.graded) - len(self.reused)


def grade_pending(pending: Sequence[Submission], checks: dict[str, list[Check]], runner: SandboxRunner, *, out: Path,
                  seed: int, signature: str, workers: int, progress: bool) -> PendingRun:
    """Grade `pending` with `workers` in parallel, writing each into `out` as they finish; what became of each.

    A student the grader itself fails on (a bug, a full disk) is left ungraded and named in the run's `problems`;
    every other student is graded as usual. Each student is graded under a lock in OUT (grader.instructor.shards): a
    student another process is grading is asked for again later, and when that process has written their results
    meanwhile (for these files, checks and seed) they are taken (named in `reused`) instead of grading them twice.
    """
    bar = Progress(len(pending), enabled=progress)
    locks = Locks(class_folder(out) / "locks")
    graded: dict[str, list[CheckResult]] = {}
    problems: dict[str, str] = {}
    reused: set[str] = set()
    notes: list[str] = []
    found = {s.student: record_stamp(out, s.student) for s in pending}  # what --force regrades in any case

    def one(submission: Submission) -> tuple[Submission, list[CheckResult] | None, float | None]:
        """(submission, results, seconds); results None: another process holds the student; seconds None: reused."""
        if locks.take(submission.student) is None:
            return submission, None, None
        if record_stamp(out, submission.student) != found[submission.student]:
            finished = current_results(read_record(out, submission.student), submission.fingerprint, signature, seed)
            if finished is not None:
                return submission, finished, None
        started = time.monotonic()
        results = [bounded(r) for r in grade_student(submission, checks, runner)]
        return submission, results, time.monotonic() - started

    executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="grader")
    submitted: dict[Future, Submission] = {executor.submit(one, s): s for s in pending}
    running: set[Future] = set(submitted)
    later: list[tuple[float, Submission]] = []
    try:
        while running or later:
            due = [s for at, s in later if at <= time.monotonic()]
            later = [(at, s) for at, s in later if at > time.monotonic()]
            for submission in due:
                future = executor.submit(one, submission)
                submitted[future] = submission
                running.add(future)
            if not running:
                time.sleep(0.2)
                continue
            done, running = wait(running, timeout=0.5, return_when=FIRST_COMPLETED)
            for future in done:
                submission = submitted.pop(future)
                try:
                    _, results, seconds = future.result()
                    if results is None:
                        later.append((time.monotonic() + RETRY_LOCKED, submission))
                        continue
                    if seconds is None:
                        reused.add(submission.student)
                    elif locks.holds(submission.student):
                        notes += write_student_outputs(out, submission, results, seed, signature, seconds)
                    else:
                        raise RuntimeError("another process took this student's lock over while it was graded here")
                except Exception as error:  # noqa: BLE001 - one student's failure must not stop the class
                    problems[submission.student] = (f"{submission.student} could not be graded ({type(error).__name__}: "
                                                    f"{error}); run the same command again to retry, and report it if it persists")
                    print(f"grader grade: {problems[submission.student]}", file=sys.stderr)
                else:
                    graded[submission.student] = results
                locks.release(submission.student)
                bar.advance(submission.student)
        bar.finish()
        executor.shutdown()
        return PendingRun(graded, problems, frozenset(reused), interrupted=False, notes=tuple(notes))
    except KeyboardInterrupt:
        interrupt_all()  # a judge stops now, not when its budget runs out
        bar.finish()
        executor.shutdown(wait=False, cancel_futures=True)
        return PendingRun(graded, problems, frozenset(reused), interrupted=True, notes=tuple(notes))
    finally:
        locks.release_all()


def write_class_outputs(out: Path, graded: dict[str, list[CheckResult]], notes: list[str], skipped: int) -> None:
    from grader.instructor.gradebook import write_class

    if skipped:
        notes = [*notes, f"{skipped} students were unchanged since the last run and kept their results (--force regrades them)"]
    with class_lock(out) as held:
        if held:
            write_class(out, dict(sorted(graded.items())), notes=notes)
        else:
            print(f"grader grade: another process kept {class_folder(out) / 'class.lock'}; the class files were left "
                  f"as they are: run `grader report {out}` to rebuild them", file=sys.stderr)


# ------------------------------------------------------------------------------------------------ shards


def in_shard(students: Sequence[Submission], shard: Shard | None) -> list[Submission]:
    """The students `shard` grades (every student when there is no shard)."""
    return list(students) if shard is None else [s for s in students if shard.holds(s.student)]


class ShardLog:
    """`OUT/_class/shard-K-of-N.json` for this run (an unsharded run is shard 1/1): the class it saw, written when it
    starts, and what became of its students, written when it ends. `grader report` reads them."""

    def __init__(self, out: Path, shard: Shard, roster: Sequence[Submission], students: Sequence[Submission],
                 seed: int, signature: str) -> None:
        self.out, self.shard = out, shard
        self.students = len(students)
        self.run = PendingRun({}, {}, frozenset(), interrupted=False)  # what became of the students, once it ended
        self.state = {"seed": seed, "checks": signature, "began": time.time(),  # `started` is the process's start (this_process)
                      "roster": {s.student: s.fingerprint for s in roster}, "students": [s.student for s in students]}
        write_shard_file(out, shard, state="running", **self.state)

    def finish(self, run: PendingRun, notes: list[str]) -> None:
        self.run = run
        write_shard_file(self.out, self.shard, state="interrupted" if run.interrupted else "finished",
                         failed=dict(run.problems), notes=notes, graded_here=run.graded_here, **self.state)

    def describe(self) -> str:
        reused = self.run.reused  # graded by another process while this one waited for them
        return (f"shard {self.shard}: {self.students} students in this slice; this run graded {self.run.graded_here}"
                + (f", and took {len(reused)} from another process that graded them meanwhile" if reused else ""))


def rebuild_class_outputs(out: Path, shard: Shard) -> str:
    """Once every shard has ended, the class files rebuilt from every student's record in OUT
    (grader.instructor.class_report); a line saying how complete the class is, or who rebuilds it. (Each shard records
    its end before it looks, so the last shard to end sees every other's; reading the whole class once per shard would
    cost a large class dearly.)"""
    from grader.instructor.class_report import rebuild_class

    if not all_finished(out, shard.count):
        return (f"the class's gradebook.csv and summary.html are rebuilt by the last of the {shard.count} shards to end, "
                f"or by `grader report {out}`")
    return rebuild_class(out).headline()


def format_summary(graded: dict[str, list[CheckResult]]) -> str:
    from grader.instructor.gradebook import format_table

    return format_table(graded)


class Progress:
    """A one-line progress bar on stderr."""

    def __init__(self, total: int, enabled: bool, width: int = 30) -> None:
        self.total, self.enabled, self.width = total, enabled and total > 0, width
        self.done = 0
        self.started = time.monotonic()
        self._draw("")

    def advance(self, student: str) -> None:
        self.done += 1
        self._draw(student)

    def _draw(self, student: str) -> None:
        if not self.enabled:
            return
        filled = self.width * self.done // self.total
        elapsed = time.monotonic() - self.started
        sys.stderr.write(f"\rgrading [{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total} students, "
                         f"{elapsed:.0f} s {student[:24]:<24}")
        sys.stderr.flush()

    def finish(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")
            sys.stderr.flush()
