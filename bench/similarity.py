"""`grader similarity` on a synthetic class: how long it takes for N students with every exercise.

    python bench/similarity.py --students 200      # or: tox -e bench
    python bench/similarity.py --smoke             # a few seconds' sanity run

The class is bench/grading.py's (most students hand in the solutions in one of three styles, about 20 % make a
mistake, about 2 % never finish), written as folders. Its students share most of their code, so nearly every pair
of files overlaps and is compared in full, and nearly every pair scores above the floor: the slowest case for the
comparison and the largest outputs. The script times `grader similarity SUBMISSIONS --out OUT` as an instructor runs
it (a fresh process: start, discovery, fingerprints, every pair, the CSV and the pages) and prints the figure.

Target (issue 22; reported, not asserted): 200 students with 8 exercises each in under a minute on 2 cores.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import grading  # noqa: E402  (the synthetic class of the grading benchmark)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--seed", type=int, default=6, help="seed of the class (default: 6)")
    parser.add_argument("--smoke", action="store_true", help="12 students")
    parser.add_argument("--keep", type=Path, default=None, help="keep the class and the outputs in this folder")
    args = parser.parse_args(argv)
    if args.smoke:
        args.students = 12
    if args.students < 2:
        parser.error("--students must be at least 2")
    work = Path(tempfile.mkdtemp(prefix="grader-bench-similarity-")) if args.keep is None else args.keep
    work.mkdir(parents=True, exist_ok=True)
    try:
        exercises = [e for e in grading.EXERCISES if (grading.SOLUTIONS / f"{e}.py").is_file()]
        students = grading.make_class(args.students, exercises, args.seed)
        grading.write_class(students, work / "submissions")
        print(f"class: {len(students)} students, {len(exercises)} exercises each (bench/grading.py's class); "
              f"{os.cpu_count()} cores; load average before: {grading.load_average()}")
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "grader", "similarity", str(work / "submissions"), "--out",
                               str(work / "out"), "--top", "3"], cwd=ROOT, capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            print(done.stdout[-2000:] + done.stderr[-2000:])
            return 1
        with open(work / "out" / "similarity.csv", newline="") as table:
            listed = sum(1 for _ in csv.reader(table)) - 1
        pairs = len(students) * (len(students) - 1) // 2
        print(f"\ngrader similarity: {seconds:.1f} s for {len(students)} students ({pairs} pairs, "
              f"{pairs * len(exercises)} pairs of files); {listed} pairs above the floor in similarity.csv")
        target = 60 * (len(students) / 200) ** 2
        print(f"  target: 200 students in < 60 s on 2 cores -> {len(students)} in < {target:.1f} s (pairs grow as the "
              f"square): {'met' if seconds < target else 'NOT met'}")
        print("  its own output:\n    " + "\n    ".join(done.stdout.strip().splitlines()))
        print(f"load average after: {grading.load_average()}")
        return 0
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
