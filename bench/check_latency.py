"""Wall time of `grader check EXERCISE` per exercise, as a student runs it (median of several runs).

Each run is a fresh `python -m grader check` process, so the figure includes interpreter start-up and imports:
what a student waits for. Runs against the reference solutions (every check executes to the end) and the stubs.
Targets (issue 6): ≤ 1 s for ex01–ex04, which must not import torch, and ≤ 2.5 s for ex05–ex08.

    python bench/check_latency.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.checks import EXERCISES  # noqa: E402

TARGETS = {exercise: (1.0 if index < 4 else 2.5) for index, exercise in enumerate(EXERCISES)}


def time_check(exercise: str, folder: Path, runs: int, expected_status: int) -> float:
    """Median wall time of `grader check exercise --path folder` over `runs` fresh processes."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        status = subprocess.run([sys.executable, "-m", "grader", "check", exercise, "--path", str(folder), "--seed", "0"],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False).returncode
        times.append(time.perf_counter() - start)
        if status != expected_status:
            raise SystemExit(f"grader check {exercise} --path {folder} exited {status}, expected {expected_status}: not a valid timing")
    return statistics.median(times)


def imports_torch(exercise: str) -> bool:
    """Whether checking this exercise imports torch (ex01–ex04 must not)."""
    code = (f"import sys; from grader.cli import main; main(['check', '{exercise}', '--path', 'solutions', '--seed', '0']); "
            "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH')")
    output = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True).stdout
    return "NO-TORCH" not in output


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    baseline = statistics.median(
        [_time([sys.executable, "-c", "pass"]) for _ in range(args.runs)])
    print(f"bare python start-up: {baseline:.3f} s (median of {args.runs})\n")
    print(f"{'exercise':<24} {'solution':>9} {'stub':>7} {'target':>7} {'torch':>6}  within target")
    for exercise in EXERCISES:
        if not (ROOT / "solutions" / f"{exercise}.py").exists():
            continue
        solved = time_check(exercise, ROOT / "solutions", args.runs, expected_status=0)
        stub = time_check(exercise, ROOT / "exercises", args.runs, expected_status=1)
        target = TARGETS[exercise]
        torch_used = imports_torch(exercise)
        ok = solved <= target and stub <= target and (EXERCISES.index(exercise) >= 4 or not torch_used)
        print(f"{exercise:<24} {solved:>8.2f}s {stub:>6.2f}s {target:>6.1f}s {'yes' if torch_used else 'no':>6}  {'yes' if ok else 'NO'}")
    return 0


def _time(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=False)
    return time.perf_counter() - start


if __name__ == "__main__":
    raise SystemExit(main())
