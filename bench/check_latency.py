"""How long a student waits for `grader check EXERCISE`: to the first check's line, and to the end.

Each run is a fresh `python -m grader check` process, its output read as it comes, so the figures include interpreter
start-up and imports: what a student waits for. Four submissions per exercise: the reference solutions (every check
runs to the end), the stubs, a solution with a loop at the top level (a stuck import), and a solution whose first
probed function never returns (a stuck function). The stuck ones run with `--timeout` (default 2 s), so their end is
about one timeout per stuck function (a function that calls the stuck one is stuck too) plus the rest.

Baselines in the same run: a bare `python -c pass`, and the previous design (probes in the `grader check` process
itself, every line printed at the end), whose first line therefore comes with its last; it cannot stop a stuck
import, so it is timed on solutions and stubs only. Targets (issue 6): ex01–ex04 finish within 1 s without importing
torch, ex05–ex08 within 2.5 s, on a quiet machine.

    python bench/check_latency.py [--runs 3] [--timeout 2] [--exercises ex01 ex05]
"""

from __future__ import annotations

import argparse
import ast
import os
import select
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.checks import EXERCISES, load_checks, resolve  # noqa: E402

TARGETS = {exercise: (1.0 if index < 4 else 2.5) for index, exercise in enumerate(EXERCISES)}
MARKS = ("PASS", "FAIL", "SKIP", "ERROR")
IN_PROCESS = """
import sys
from pathlib import Path
from grader.checks import load_checks
from grader.report import format_results
from grader.runner import InProcessRunner, grade_exercise
exercise, folder = sys.argv[1], Path(sys.argv[2])
sys.path.insert(0, str(folder))
results = grade_exercise(exercise, folder / f"{exercise}.py", load_checks(exercise, seed=0), InProcessRunner())
print(format_results(results), flush=True)
import os; os._exit(0)
"""


def timed_run(command: list[str], deadline: float = 600) -> tuple[float, float, str]:
    """(seconds to the first check's line, seconds to the end, the output) of one fresh process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    first, output = None, b""
    while True:
        if not select.select([process.stdout], [], [], deadline)[0]:
            process.kill()
            raise SystemExit(f"{' '.join(command)} gave no output for {deadline} s")
        chunk = os.read(process.stdout.fileno(), 65536)
        if not chunk:
            break
        output += chunk
        if first is None and any(line.startswith(MARKS) for line in output.decode(errors="replace").splitlines()):
            first = time.perf_counter() - start
    process.wait()
    end = time.perf_counter() - start
    return (first if first is not None else end), end, output.decode(errors="replace")


def median_run(command: list[str], runs: int) -> tuple[float, float, str]:
    samples = [timed_run(command) for _ in range(runs)]
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples), samples[-1][2]


def stuck_function_source(exercise: str, source: str) -> tuple[str, str]:
    """The solution with `while True: pass` at the top of the first top-level function a check calls."""
    called = [p.function for c in load_checks(exercise, seed=0) for p in c.probes if p.function]
    tree = ast.parse(source)
    definitions = {node.name: node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    name = next(n for n in called if n in definitions)
    node = definitions[name]
    if isinstance(node, ast.ClassDef):  # a class: its forward pass loops
        node = next(n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "forward")
        name = f"{name}.forward"
    first = node.body[0]
    lines = source.splitlines(keepends=True)
    lines.insert(first.lineno - 1, " " * first.col_offset + "while True:\n" + " " * (first.col_offset + 4) + "pass\n")
    return "".join(lines), name


def variants(exercise: str, work: Path) -> dict[str, tuple[Path, str]]:
    """Folder and note for each submission of `exercise`."""
    solution = (ROOT / "solutions" / f"{exercise}.py").read_text()
    stuck_import, stuck_function = work / "stuck_import", work / "stuck_function"
    for folder in (stuck_import, stuck_function):
        folder.mkdir(exist_ok=True)
    (stuck_import / f"{exercise}.py").write_text(solution + "\nwhile True:\n    pass\n")
    source, name = stuck_function_source(exercise, solution)
    (stuck_function / f"{exercise}.py").write_text(source)
    return {"solution": (ROOT / "solutions", ""), "stub": (ROOT / "exercises", ""),
            "stuck import": (stuck_import, ""), "stuck function": (stuck_function, name)}


def imports_torch(exercise: str) -> bool:
    """Whether checking this exercise imports torch in the grader's process (ex01–ex04 must not)."""
    code = (f"import sys; from grader.cli import main; main(['check', '{exercise}', '--path', 'solutions', '--seed', '0']); "
            "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH')")
    output = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True).stdout
    return "NO-TORCH" not in output


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=2.0, help="grader check --timeout for the stuck submissions")
    parser.add_argument("--exercises", nargs="*", default=None)
    args = parser.parse_args()
    exercises = resolve(args.exercises) if args.exercises else list(EXERCISES)
    baseline = statistics.median(timed_run([sys.executable, "-c", "pass"])[1] for _ in range(args.runs))
    print(f"bare python start-up: {baseline:.3f} s; median of {args.runs} runs; stuck submissions with --timeout {args.timeout:g}\n")
    print(f"{'exercise':<21} {'submission':<15} {'first line':>10} {'end':>7} {'in-process end':>15} {'first/in-proc':>13}"
          f" {'timeouts':>8}  note")
    with tempfile.TemporaryDirectory(prefix="check-latency-") as work:
        for exercise in exercises:
            folder = Path(work) / exercise
            folder.mkdir()
            for kind, (path, note) in variants(exercise, folder).items():
                command = [sys.executable, "-m", "grader", "check", exercise, "--path", str(path), "--seed", "0"]
                if kind.startswith("stuck"):
                    command += ["--timeout", f"{args.timeout:g}"]
                first, end, output = median_run(command, args.runs)
                old = ""
                ratio = ""
                if not kind.startswith("stuck"):
                    _, old_end, _ = median_run([sys.executable, "-c", IN_PROCESS, exercise, str(path)], args.runs)
                    old, ratio = f"{old_end:.2f}s", f"{first / old_end:.2f}x"
                timeouts = output.count("timed out after")
                target = ""
                if kind in ("solution", "stub"):
                    target = f"target {TARGETS[exercise]:g} s: {'met' if end <= TARGETS[exercise] else 'MISSED'}"
                print(f"{exercise:<21} {kind:<15} {first:>9.2f}s {end:>6.2f}s {old:>15} {ratio:>13} {timeouts:>8}  "
                      f"{note or target}", flush=True)
            if EXERCISES.index(exercise) < 4:
                print(f"{exercise:<21} imports torch: {'YES (must not)' if imports_torch(exercise) else 'no'}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
