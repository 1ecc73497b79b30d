"""Grade files with whichever `grader` package is first on the path (a student bundle's, or the repository's).

`python tests/bundle_driver.py CASES.json` prints one JSON object: the `grader` package it used and, per case
`[exercise, path, seed, skipped check names]`, each public check's status and hint. The bundle's equivalence test runs
it inside an unpacked bundle (its own python path) and compares with the instructor's public checks.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def grade_cases(cases: list) -> dict:
    import grader
    from grader.checks import load_checks
    from grader.runner import InProcessRunner, grade_exercise

    results = []
    for exercise, path, seed, skipped in cases:
        checks = [c for c in load_checks(exercise, seed=seed) if c.name not in skipped]
        graded = grade_exercise(exercise, Path(path), checks, InProcessRunner(timeout=120))
        results.append({r.name: [r.status, r.hint] for r in graded})
    return {"grader": grader.__file__, "results": results}


if __name__ == "__main__":
    sys.path[:] = [p for p in sys.path if Path(p).resolve() != Path(__file__).resolve().parent]
    print(json.dumps(grade_cases(json.loads(Path(sys.argv[1]).read_text()))))
