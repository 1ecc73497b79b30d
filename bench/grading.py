"""Class-grading throughput: `grader grade` against a naive per-process baseline and nbgrader, in one run.

    python bench/grading.py --students 200          # or: tox -e bench
    python bench/grading.py --smoke                 # a few seconds' sanity run (what tests/test_bench.py runs)

It writes a synthetic class of N submissions under a temporary folder: most students hand in the solutions in one of
a few correct styles (verbatim, vectorised/expanded, chatty with prints), some make a mistake (a named common mistake,
or a textual mutation of one answer line: a sign, a factor, an operator), and about 2 % never finish (a function that
loops forever, or demo code at import that never ends). Then it times and prints:

- `grader grade SUBMISSIONS --out OUT` with the default workers, its students per minute, the peak memory of its
  process tree (proportional set size, so pages shared by the forked children count once), and the same for a class
  a quarter the size: peak memory should follow the workers, not the students;
- a naive baseline: one fresh `python` process per student per exercise running the same public and hidden checks
  in-process (`grader.runner.grade_exercise` with `InProcessRunner`), sequentially as a shell loop would, on a
  stratified subset of students when the class is large, extrapolated per student (labelled as such); the scores of
  both runs are compared, so the ratio compares the same checks;
- `nbgrader autograde` of the same answers as a course made by `grader nbgrader` (only where nbgrader is importable,
  e.g. `tox -e bench`), on a subset of students that do not loop forever (the course's cell timeout is 300 s);
- the cost of a student who never finishes: their grading time in the batch against a correct student's;
- with `--sizes 10 40 200`: the kit's wall time at each class size (the first N students), next to the floor, all
  probes of those students run in one warm process without sandbox or judging (the least any grader could spend:
  the ratio kit/floor is what the sandbox, the workers and the judges cost), and the naive baseline per student
  of this run, scaled to that size;
- with `--shards N`: the same class graded again as N shards (`grader grade --shard K/N`) into one OUT, one shard
  after another on this machine, then `grader report`: the shards' summed time against the one run's is the overhead
  of sharding (each shard pays the grader's start: the warm sandbox, the checks' references), the slowest shard is
  about what N machines would take, and the rebuilt gradebook is compared byte for byte with the one run's.

Targets (issue 6; reported, not asserted): 200 complete submissions in under 2 minutes on 2 cores, at least 20x
nbgrader's throughput and 5x the naive baseline; a stuck student costs at most its probe timeout once per stuck probe.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from grader.instructor.batch import default_workers  # noqa: E402
from grader.checks import EXERCISES  # noqa: E402
import make_sample_class as sample  # noqa: E402  (fill_in and the sample class's styles and mistakes)

SOLUTIONS = ROOT / "solutions"
LOOP_FOREVER = "while True:\n    pass"

# ------------------------------------------------------------------------------------------------ the class


@dataclass
class Student:
    name: str
    kind: str  # correct | mistake | stuck
    files: dict[str, str] = field(default_factory=dict)  # exercise -> source
    note: str = ""


def answer_lines(source: str) -> list[int]:
    """Indices of the code lines inside answer regions of a filled-in solution (markers still present)."""
    lines, inside, found = source.splitlines(), False, []
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped == sample.BEGIN:
            inside = True
        elif stripped == sample.END:
            inside = False
        elif inside and stripped and not stripped.startswith("#"):
            found.append(index)
    return found


# Textual mutations a student could make: each is (pattern, replacement) applied once to one answer line.
MUTATIONS = [
    (r" - ", " + "), (r" \+ ", " - "), (r"\b2 \* ", ""), (r" \* 2\b", ""), (r"/ len\(", "/ (1 + len("),
    (r" < ", " <= "), (r" > ", " >= "), (r"\*\* 2", "** 3"), (r"\b0\.5\b", "0.25"), (r"\bmean\(", "sum("),
    (r"\[-1\]", "[0]"), (r"\bmin\(", "max("), (r"\bmax\(", "min("), (r"\.T\b", ""), (r"\bx\b", "y"),
]


def mutate(source: str, rng: random.Random) -> tuple[str, str] | None:
    """The source with one answer line textually mutated, and what changed; None when no mutation applies."""
    lines = source.splitlines()
    candidates = [(i, p, r) for i in answer_lines(source) for p, r in MUTATIONS if re.search(p, lines[i])]
    if not candidates:
        return None
    index, pattern, replacement = rng.choice(candidates)
    before = lines[index].strip()
    lines[index] = re.sub(pattern, replacement, lines[index], count=1)
    return "\n".join(lines) + "\n", f"line {index + 1}: {before!r} -> {lines[index].strip()!r}"


def named_mistakes() -> list[tuple[str, str, dict[str, str]]]:
    """(description, exercise, bodies) of the sample class's common mistakes."""
    found = []
    for student in sample.STUDENTS:
        if student.name in ("emma_sum_cost", "felix_no_two", "grace_last_tie", "leo_sequential"):
            (exercise, bodies), = student.bodies.items()
            found.append((student.description, exercise, bodies))
    return found


CORRECT_STYLES = {
    "verbatim": ({}, {}),
    "vectorised": ({"ex01_linear_model": sample.VECTORISED_EX01, "ex02_derivative": sample.EXPANDED_EX02,
                    "ex03_quadratic": sample.EXPANDED_EX03}, {}),
    "chatty": ({}, {e: 'print("debug: entering my function")' for e in EXERCISES[:3]}),
}


def make_class(count: int, exercises: list[str], seed: int) -> list[Student]:
    """`count` students: about 2 % stuck (at least one), about 20 % with one mistake, the rest correct in some style."""
    rng = random.Random(seed)
    solutions = {e: text for e, text in sample.available_solutions().items() if e in exercises}  # no derivations
    stuck = set(rng.sample(range(count), max(1, round(count * 0.02))))
    mistaken = set(rng.sample(sorted(set(range(count)) - stuck), min(count - len(stuck), round(count * 0.2))))
    mistakes = named_mistakes()
    students = []
    for index in range(count):
        style = list(CORRECT_STYLES)[index % len(CORRECT_STYLES)]
        bodies, prefix = CORRECT_STYLES[style]
        files = {e: sample.fill_in(s, bodies.get(e, {}), prefix.get(e, "")) for e, s in solutions.items()}
        student = Student(f"s{index:04d}_{style}", "correct", files, note=f"correct, {style} style")
        if index in stuck:
            student.kind = "stuck"
            if index % 2 == 0 and "ex01_linear_model" in files:
                student.files["ex01_linear_model"] = sample.endless_training(files["ex01_linear_model"])
                student.note = "demo code at the top of ex01 that never ends"
            else:
                exercise = "ex04_cost_loss_sgd" if "ex04_cost_loss_sgd" in files else exercises[-1]
                leaf = {"ex04_cost_loss_sgd": "ema"}.get(exercise) or sorted(sample.regions(solutions[exercise]))[-1]
                student.files[exercise] = sample.fill_in(solutions[exercise], {leaf: LOOP_FOREVER})
                student.note = f"{exercise}.{leaf} loops forever"
        elif index in mistaken:
            student.kind = "mistake"
            usable = [m for m in mistakes if m[1] in files]
            if usable and rng.random() < 0.3:
                description, exercise, mistake = rng.choice(usable)
                student.files[exercise] = sample.fill_in(solutions[exercise], mistake)
                student.note = description
            else:
                exercise = rng.choice(exercises)
                changed = mutate(solutions[exercise], rng)
                if changed:
                    student.files[exercise] = sample.fill_in(changed[0], {})
                    student.note = f"{exercise} {changed[1]}"
        students.append(student)
    return students


def write_class(students: list[Student], folder: Path) -> None:
    for student in students:
        (folder / student.name).mkdir(parents=True)
        for exercise, source in student.files.items():
            (folder / student.name / f"{exercise}.py").write_text(source)


# --------------------------------------------------------------------------------------------- measurement


def stuck_cost(students: list[Student], work: Path, args: argparse.Namespace) -> None:
    """Grade a correct student, then each kind of stuck student, each after a warm-up student (one worker): the
    difference of their grading times (results.json's execution_time, warm sandbox) is what being stuck costs; the kit's promise is at most one probe timeout per stuck probe (here one stuck function each)."""
    correct = next((s for s in students if s.kind == "correct"), None)
    stuck = {s.note.split(" ")[0] if "loops" in s.note else "import": s for s in students if s.kind == "stuck"}
    if correct is None or not stuck:
        return
    alone = {}
    for label, student in [("correct", correct), *sorted(stuck.items())]:
        folder = work / "alone" / label
        shutil.copytree(work / "submissions" / correct.name, folder / "a_warm_up")  # graded first: warms the sandbox
        shutil.copytree(work / "submissions" / student.name, folder / student.name)
        grade_with_kit(folder, work / "alone_out" / label, args.seed, args.timeout, 1)
        alone[label] = student_seconds(work / "alone_out" / label)[student.name]  # the batch's start-up left out
    for label, student in sorted(stuck.items()):
        extra = alone[label] - alone["correct"]
        print(f"  a stuck student ({student.note}) took {alone[label]:.1f} s against {alone['correct']:.1f} s for a "
              f"correct one: costs {extra:+.1f} s (probe timeout {args.timeout:g} s, one stuck probe: "
              f"{'within' if extra <= args.timeout + 1.0 else 'OVER'} the promise)")



def tree_memory(root_pid: int) -> int:
    """Bytes used by a process and all its descendants now: PSS where readable (shared pages count once), else RSS."""
    children: dict[int, list[int]] = defaultdict(list)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                children[int(stat.rsplit(")", 1)[1].split()[1])].append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    total, todo = 0, [root_pid]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        total += process_memory(pid)
    return total


def process_memory(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


@dataclass
class Timed:
    seconds: float
    peak_bytes: int
    returncode: int
    parent_peak_bytes: int
    output: str


def run_timed(command: list[str], cwd: Path, env: dict | None = None, timeout: float | None = None) -> Timed:
    """Run `command`, sampling its process tree's memory every 0.25 s; wall time, peak memory, status, output.

    The sampler reads /proc/<pid>/smaps_rollup of every process in the tree, which costs real CPU: it runs at the
    lowest priority and not too often, so that it measures the grading rather than slowing it down.
    """
    peak = parent_peak = 0
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
        stop = threading.Event()

        def sample_memory() -> None:
            nonlocal peak, parent_peak
            try:
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)  # this thread only (Linux)
            except OSError:
                pass
            while not stop.wait(0.25):
                peak = max(peak, tree_memory(process.pid))
                parent_peak = max(parent_peak, process_memory(process.pid))

        sampler = threading.Thread(target=sample_memory, daemon=True)
        sampler.start()
        try:
            returncode = process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            returncode = process.wait()
        seconds = time.perf_counter() - started
        stop.set()
        sampler.join()
        log.seek(0)
        return Timed(seconds, peak, returncode, parent_peak, log.read())


def kit_scores(out: Path) -> dict[str, dict[str, float]]:
    """{student: {exercise: score}} from the results.json files of `grader grade`."""
    scores: dict[str, dict[str, float]] = {}
    for results in sorted(out.glob("*/results.json")):
        per: dict[str, float] = defaultdict(float)
        for test in json.loads(results.read_text())["tests"]:
            per[test["name"].split(".")[0]] += float(test["score"])
        scores[results.parent.name] = dict(per)
    return scores


def student_seconds(out: Path) -> dict[str, float]:
    return {p.parent.name: float(json.loads(p.read_text())["execution_time"]) for p in out.glob("*/results.json")}


def grade_with_kit(submissions: Path, out: Path, seed: int, timeout: float, workers: int | None, *options: str) -> Timed:
    command = [sys.executable, "-m", "grader", "grade", str(submissions), "--out", str(out), "--seed", str(seed),
               "--timeout", str(timeout), "--quiet", "--force", *options]
    if workers:
        command += ["--workers", str(workers)]
    timed = run_timed(command, ROOT)
    if timed.returncode != 0:
        unfinished = sorted(p.parent.name for p in out.glob("*/results.json") if not (p.parent / "record.json").exists())
        raise SystemExit(f"grader grade exited {timed.returncode} after {timed.seconds:.0f} s"
                         + (f" while writing {', '.join(unfinished)}" if unfinished else "") + f":\n{timed.output[-3000:]}")
    return timed


def shard_overhead(names: list[str], work: Path, single: Timed, args: argparse.Namespace) -> None:
    """The class graded as `args.shards` shards, one after another, into one OUT, then `grader report`; one
    unsharded run again (the two one-run times show how much the machine's other work moves every row); and a shard
    whose slice is empty: what each start costs (see the module's docstring)."""
    from grader.instructor.shards import shard_of

    count, out, submissions = args.shards, work / "out_shards", work / "submissions"
    shards = [grade_with_kit(submissions, out, args.seed, args.timeout, args.workers, "--shard", f"{k}/{count}")
              for k in range(1, count + 1)]
    report = run_timed([sys.executable, "-m", "grader", "report", str(out)], ROOT)
    again = grade_with_kit(submissions, work / "out_again", args.seed, args.timeout, args.workers)
    empty = next(k for k in range(1, 10**6) if all(shard_of(n, 10**6) != k for n in names))
    start = grade_with_kit(submissions, work / "out_empty", args.seed, args.timeout, args.workers, "--shard", f"{empty}/{10**6}")
    one = (single.seconds + again.seconds) / 2
    sizes = [sum(shard_of(n, count) == k for n in names) for k in range(1, count + 1)]
    summed = sum(t.seconds for t in shards) + report.seconds
    slowest = max(t.seconds for t in shards) + report.seconds
    same = (out / "gradebook.csv").read_bytes() == (work / "out" / "gradebook.csv").read_bytes()
    print(f"\n{count} shards, one after another on this machine ({', '.join(map(str, sizes))} students): "
          + ", ".join(f"{t.seconds:.1f} s" for t in shards) + f"; `grader report` {report.seconds:.1f} s (exit {report.returncode})")
    print(f"  one unsharded run: {single.seconds:.1f} s before the shards, {again.seconds:.1f} s after (mean {one:.1f} s)")
    print(f"  summed {summed:.1f} s against {one:.1f} s: {summed / one:.2f}x the work, {(summed - one) / max(count - 1, 1):+.1f} s "
          f"for each shard beyond the first; a shard with no student costs {start.seconds:.1f} s (the start of a grader)")
    print(f"  on {count} machines the class takes about the slowest shard plus the report: {slowest:.1f} s "
          f"({one / slowest:.2f}x as fast as one run); gradebook {'identical to' if same else 'DIFFERS from'} the one run's, byte for byte")


# One fresh interpreter per student per exercise: the same checks, in-process. The import is bounded too (a student's
# demo loop at import would otherwise hang the baseline); every probe has the same time limit as in the kit.
NAIVE_CHILD = """
import json, sys
from pathlib import Path
from grader.checks import load_checks
from grader.model import Lost
from grader.probes import describe_load_failure, load_module, time_limit, ProbeTimeout
from grader.runner import InProcessRunner, grade_exercise

exercise, path, seed, timeout = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
sys.path.insert(0, str(path.parent))

class Runner(InProcessRunner):
    def run(self, exercise, path, probes):
        try:
            with time_limit(self.timeout):
                module = load_module(str(path), "submission_" + exercise)
        except BaseException as error:
            return [Lost(describe_load_failure(error, str(path)))] * len(probes)
        return self.run_loaded(module, probes)

results = grade_exercise(exercise, path, load_checks(exercise, seed=seed, hidden=True), Runner(timeout=timeout))
print("NAIVE-RESULT " + json.dumps(sum(r.score for r in results)))
"""


def grade_naive(submissions: Path, students: list[str], exercises: list[str], seed: int, timeout: float) -> tuple[float, dict]:
    """Seconds for the subset, and {student: {exercise: score}}, one `python` process per student per exercise."""
    scores: dict[str, dict[str, float]] = {}
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    started = time.perf_counter()
    for student in students:
        scores[student] = {}
        for exercise in exercises:
            path = submissions / student / f"{exercise}.py"
            if not path.is_file():
                scores[student][exercise] = 0.0
                continue
            try:
                done = subprocess.run([sys.executable, "-c", NAIVE_CHILD, exercise, str(path), str(seed), str(timeout)],
                                      cwd=ROOT, env=environment, capture_output=True, text=True, timeout=timeout * 50 + 120)
                found = re.findall(r"^NAIVE-RESULT (\S+)$", done.stdout, re.M)
                scores[student][exercise] = float(found[-1]) if found else float("nan")
            except subprocess.TimeoutExpired:
                scores[student][exercise] = float("nan")
    return time.perf_counter() - started, scores


# The floor: every probe of the given students in one process that imported everything once; no sandbox, no judging.
FLOOR_CHILD = """
import sys, time
from pathlib import Path
from grader.checks import load_checks
from grader.probes import load_module, time_limit
from grader.runner import InProcessRunner

root, seed, timeout, exercises, names = Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4].split(","), sys.argv[5:]
probes = {e: [p for c in load_checks(e, seed=seed, hidden=True) for p in c.probes] for e in exercises}
runner = InProcessRunner(timeout=timeout)
started = time.perf_counter()
for i, name in enumerate(names):
    for exercise in exercises:
        path = root / name / (exercise + ".py")
        if not path.is_file():
            continue
        try:
            with time_limit(timeout):
                module = load_module(str(path), f"s{i}_{exercise}")
        except BaseException:
            continue
        runner.run_loaded(module, probes[exercise])
print("FLOOR-SECONDS", time.perf_counter() - started)
"""


def grade_floor(submissions: Path, students: list[str], exercises: list[str], seed: int, timeout: float) -> float:
    """Seconds the probes of `students` take in one warm process (imports and check loading left out)."""
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, "-c", FLOOR_CHILD, str(submissions), str(seed), str(timeout), ",".join(exercises), *students],
                          cwd=ROOT, env=environment, capture_output=True, text=True)
    found = re.findall(r"^FLOOR-SECONDS (\S+)$", done.stdout, re.M)
    if not found:
        raise SystemExit(f"the floor run failed:\n{done.stderr[-3000:]}")
    return float(found[-1])


def sizes_table(args: argparse.Namespace, names: list[str], exercises: list[str], work: Path, naive_per_student: float) -> None:
    """The kit and the floor at each of `args.sizes`, with ratios to the floor and to the naive baseline of this run."""
    print(f"\nclass sizes (the first N students; each size graded once; naive = {naive_per_student:.2f} s/student measured above):")
    print(f"  {'students':>8} {'grader grade':>13} {'floor':>8} {'kit/floor':>10} {'naive':>8} {'naive/kit':>10}")
    for size in sorted(n for n in args.sizes if n <= len(names)):
        chosen = names[:size]
        folder = work / f"size_{size}"
        for name in chosen:
            shutil.copytree(work / "submissions" / name, folder / name)
        kit = grade_with_kit(folder, work / f"out_size_{size}", args.seed, args.timeout, args.workers).seconds
        floor = grade_floor(folder, chosen, exercises, args.seed, args.timeout)
        naive = naive_per_student * size
        print(f"  {size:>8} {kit:>12.1f}s {floor:>7.1f}s {kit / floor:>9.2f}x {naive:>7.0f}s {naive / kit:>9.2f}x")
    print("  (floor: every probe in one warm process, no sandbox and no judging; grader grade includes its start-up)")


def subset(names: list[str], size: int) -> list[str]:
    """`size` names spread evenly over the class (so the subset has the class's mix)."""
    if size >= len(names):
        return list(names)
    step = len(names) / size
    return [names[int(i * step)] for i in range(size)]


# ------------------------------------------------------------------------------------------------ nbgrader


def nbgrader_unavailable() -> str | None:
    try:
        import nbgrader  # noqa: F401
        import jupytext  # noqa: F401
    except ImportError as error:
        return f"nbgrader is not importable here ({error.name}); run `tox -e bench` for this row"
    return None


def submit_notebook(released: Path, source: str, target: Path) -> None:
    """The released notebook with the student's code in its answer cells (cells match one to one, tests aside)."""
    import jupytext
    import nbformat

    notebook = nbformat.read(released, as_version=4)
    own = jupytext.reads(source, fmt="py:percent").cells
    given = [c for c in notebook.cells if not c.metadata.get("nbgrader", {}).get("grade")]
    if len(given) != len(own):
        raise RuntimeError(f"{released.name}: {len(given)} cells released, {len(own)} in the student's file")
    for cell, mine in zip(given, own):
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = mine.source
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target)


def grade_nbgrader(work: Path, submissions: Path, students: list[str], exercises: list[str], seed: int) -> tuple[Timed, dict]:
    """Timed `nbgrader autograde` of `students`, and {student: {exercise: score}} from its gradebook."""
    from grader.instructor.nbgrader_course import build_course

    assignment = "gd"
    course = work / "course"
    build_course(course_dir=course, assignment=assignment, seed=seed, exercises=exercises, report=None)
    nbgrader = shutil.which("nbgrader") or str(Path(sys.executable).parent / "nbgrader")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
               PATH=os.pathsep.join([str(Path(nbgrader).parent), os.environ.get("PATH", "")]))
    env.pop("GRADER_SEED", None)
    generated = subprocess.run([nbgrader, "generate_assignment", assignment], cwd=course, env=env, capture_output=True, text=True)
    if generated.returncode:
        raise RuntimeError(f"nbgrader generate_assignment failed:\n{generated.stdout[-2000:]}{generated.stderr[-2000:]}")
    for student in students:
        for exercise in exercises:
            path = submissions / student / f"{exercise}.py"
            if path.is_file():
                submit_notebook(course / "release" / assignment / f"{exercise}.ipynb", path.read_text(),
                                course / "submitted" / student / assignment / f"{exercise}.ipynb")
    timed = run_timed([nbgrader, "autograde", assignment], course, env)
    if timed.returncode:
        raise RuntimeError(f"nbgrader autograde exited {timed.returncode}:\n{timed.output[-3000:]}")
    from nbgrader.api import Gradebook, MissingEntry

    scores: dict[str, dict[str, float]] = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student in students:
            scores[student] = {}
            for exercise in exercises:
                try:
                    scores[student][exercise] = float(gradebook.find_submission_notebook(exercise, assignment, student).score)
                except MissingEntry:
                    scores[student][exercise] = 0.0
    return timed, scores


# ------------------------------------------------------------------------------------------------- report


def mib(size: int) -> str:
    return f"{size / 2**20:,.0f} MiB"


def disagreements(reference: dict, other: dict, exercises: list[str]) -> list[str]:
    found = []
    for student, scores in other.items():
        for exercise in exercises:
            mine, theirs = reference.get(student, {}).get(exercise, 0.0), scores.get(exercise, 0.0)
            if not abs(mine - theirs) <= 1e-6:
                found.append(f"{student} {exercise}: kit {mine:g}, other {theirs:g}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--seed", type=int, default=6, help="seed of the class and of the checks' inputs")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per probe, as `grader grade --timeout` (default: 10)")
    parser.add_argument("--workers", type=int, default=None, help="`grader grade --workers` (default: the kit's default)")
    parser.add_argument("--naive-students", type=int, default=12, help="students in the naive baseline (default: 12)")
    parser.add_argument("--nbgrader-students", type=int, default=3, help="students graded by nbgrader (default: 3)")
    parser.add_argument("--no-nbgrader", action="store_true", help="skip the nbgrader row")
    parser.add_argument("--no-small-class", action="store_true", help="skip the second, smaller class (memory comparison)")
    parser.add_argument("--no-stuck-cost", action="store_true", help="skip grading a stuck student alone")
    parser.add_argument("--exercises", nargs="*", default=None, help="grade only these exercises (others are left out)")
    parser.add_argument("--smoke", action="store_true", help="3 students, ex01 and ex02, 1 s timeout, no nbgrader")
    parser.add_argument("--keep", type=Path, default=None, help="keep the class and the outputs in this folder")
    parser.add_argument("--shards", type=int, default=None, help="also grade the class as this many shards (overhead of sharding)")
    parser.add_argument("--sizes", type=int, nargs="*", default=[], help="also time the kit and the floor at these class sizes (e.g. 10 40 200)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.students, args.timeout, args.no_nbgrader, args.no_small_class = 3, 1.0, True, True
        args.exercises = args.exercises or ["ex01_linear_model", "ex02_derivative"]
    exercises = [e for e in (args.exercises or EXERCISES) if (SOLUTIONS / f"{e}.py").is_file()]
    unknown = set(args.exercises or []) - set(EXERCISES)
    if args.shards is not None and args.shards < 1:
        parser.error("--shards must be at least 1")
    if unknown or args.students < 1:
        parser.error(f"unknown exercises {sorted(unknown)}" if unknown else "--students must be at least 1")

    work = Path(tempfile.mkdtemp(prefix="grader-bench-")) if args.keep is None else args.keep
    work.mkdir(parents=True, exist_ok=True)
    try:
        return run_benchmark(args, exercises, work)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


def run_benchmark(args: argparse.Namespace, exercises: list[str], work: Path) -> int:
    students = make_class(args.students, exercises, args.seed)
    submissions = work / "submissions"
    write_class(students, submissions)
    names = [s.name for s in students]
    kinds = {s.name: s.kind for s in students}
    counts = {k: sum(1 for s in students if s.kind == k) for k in ("correct", "mistake", "stuck")}
    cores = os.cpu_count() or 1
    print(f"class: {len(students)} students ({counts['correct']} correct in 3 styles, {counts['mistake']} with a mistake, "
          f"{counts['stuck']} that never finish), {len(exercises)} exercises; {cores} cores; probe timeout {args.timeout:g} s")
    print(f"load average before: {load_average()} (other work on the machine slows every row)")
    for student in students:
        if student.kind == "stuck":
            print(f"  stuck: {student.name}: {student.note}")

    # -- the kit
    timed = grade_with_kit(submissions, work / "out", args.seed, args.timeout, args.workers)
    kit = kit_scores(work / "out")
    per_student = timed.seconds / len(students)
    workers = args.workers or default_workers()
    print(f"\ngrader grade ({workers} workers): {timed.seconds:.1f} s for {len(students)} students = "
          f"{per_student:.2f} s/student, {60 / per_student:.1f} students/min; peak memory {mib(timed.peak_bytes)}")
    target = len(students) / 200 * 120
    print(f"  target: 200 complete submissions in < 120 s on 2 cores -> {len(students)} in < {target:.0f} s: "
          f"{'met' if timed.seconds < target else 'NOT met'} (at this rate, 200 take {per_student * 200:.0f} s)")
    if not args.no_small_class and len(students) >= 8:
        small = work / "small"
        quarter = names[: len(names) // 4]
        for name in quarter:
            shutil.copytree(submissions / name, small / name)
        small_timed = grade_with_kit(small, work / "out_small", args.seed, args.timeout, args.workers)
        marginal = (timed.seconds - small_timed.seconds) / (len(names) - len(quarter))
        print(f"  a quarter of the class ({len(quarter)} students): {small_timed.seconds:.1f} s; each further student "
              f"costs {marginal:.2f} s ({60 / marginal if marginal > 0 else float('inf'):.1f} students/min once started; "
              f"200 in about {small_timed.seconds + marginal * (200 - len(quarter)):.0f} s)")
        print(f"  peak memory: {mib(timed.peak_bytes)} for {len(names)} students, {mib(small_timed.peak_bytes)} for "
              f"{len(quarter)} students, with the same {workers} workers (of which the grading process itself: "
              f"{mib(timed.parent_peak_bytes)} and {mib(small_timed.parent_peak_bytes)})")
    if args.shards:
        shard_overhead(names, work, timed, args)
    if not args.no_stuck_cost:
        stuck_cost(students, work, args)

    # -- the naive baseline
    chosen = subset(names, max(1, min(args.naive_students, len(names))))
    naive_seconds, naive = grade_naive(submissions, chosen, exercises, args.seed, args.timeout)
    naive_per_student = naive_seconds / len(chosen)
    label = "measured" if len(chosen) == len(names) else f"measured on {len(chosen)} students spread over the class, extrapolated"
    print(f"\nnaive baseline (a fresh python per student per exercise, one at a time): {naive_seconds:.1f} s for {len(chosen)} "
          f"students = {naive_per_student:.2f} s/student ({label}: {naive_per_student * len(names):.0f} s for {len(names)})")
    differing = disagreements(kit, naive, exercises)
    if differing:
        print(f"  SCORES DIFFER between the kit and the naive baseline on {len(differing)} exercises:")
        for line in differing[:20]:
            print(f"    {line}")
    else:
        print(f"  scores agree: kit and naive baseline give every one of the {len(chosen)} students the same score on every exercise")
    ratio = naive_per_student / per_student
    print(f"  kit vs naive: {ratio:.2f}x the throughput (target >= 5x): {'met' if ratio >= 5 else 'NOT met'}")
    floor = grade_floor(submissions, names, exercises, args.seed, args.timeout)
    print(f"  floor (every probe of the class in one warm process, no sandbox, no judging): {floor:.1f} s; "
          f"grader grade takes {timed.seconds / floor:.2f}x the floor")
    if args.sizes:
        sizes_table(args, names, exercises, work, naive_per_student)

    # -- nbgrader
    reason = "skipped (--no-nbgrader)" if args.no_nbgrader else nbgrader_unavailable()
    if reason:
        print(f"\nnbgrader: {reason}")
    else:
        chosen = subset([n for n in names if kinds[n] != "stuck"], max(1, min(args.nbgrader_students, len(names))))
        try:
            nb_timed, nb_scores = grade_nbgrader(work / "nbgrader", submissions, chosen, exercises, args.seed)
        except RuntimeError as error:
            print(f"\nnbgrader: failed, row left out: {error}")
        else:
            nb_per_student = nb_timed.seconds / len(chosen)
            print(f"\nnbgrader autograde ({len(exercises)} notebooks per student, one process): {nb_timed.seconds:.1f} s for "
                  f"{len(chosen)} students = {nb_per_student:.2f} s/student (measured on {len(chosen)} students that finish, "
                  f"extrapolated: {nb_per_student * len(names):.0f} s for {len(names)}); peak memory {mib(nb_timed.peak_bytes)}")
            differing = disagreements(kit, nb_scores, exercises)
            print("  scores agree with the kit" if not differing else f"  SCORES DIFFER on {len(differing)}: " + "; ".join(differing[:5]))
            print("  a stuck student costs nbgrader its cell timeout (300 s in the course's config) per test cell that runs it")
            ratio = nb_per_student / per_student
            print(f"  kit vs nbgrader: {ratio:.2f}x the throughput (target >= 20x): {'met' if ratio >= 20 else 'NOT met'}")
    print(f"\nload average after: {load_average()}")
    return 0


def load_average() -> str:
    return " ".join(f"{v:.1f}" for v in os.getloadavg()) + " (1, 5, 15 min)"


if __name__ == "__main__":
    raise SystemExit(main())
