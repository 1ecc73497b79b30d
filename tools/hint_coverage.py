"""How many of the kit's wrong submissions get a `Hint:` line: run the check tests, recording every graded submission
(`grader.instructor.doctor.graded_submissions`, which `grader doctor --caught` uses too).

    python tools/hint_coverage.py            # all of tests/checks (about a minute)
    python tools/hint_coverage.py -k ex03    # extra arguments go to pytest

A submission counts as *wrong* when it fails at least one check (the solution and other correct styles fail none and
are left out), and as *hinted* when at least one of its failed checks names a mistake. Stubs and broken files are
wrong submissions too: a stub's "not implemented" and a syntax error's line are messages, not hints, so they lower
the figure on purpose. The report gives both numbers per exercise, and the failed checks with and without a hint.
"""

from __future__ import annotations

import collections
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this kit's grader, whichever one is installed
from grader.instructor.doctor import graded_submissions  # noqa: E402


def main(pytest_args: list[str]) -> int:
    run = graded_submissions(pytest_args)
    wrong = [line for line in run.records if line["failed"]]
    by_exercise: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0, 0, 0])
    for line in wrong:
        counts = by_exercise[line["exercise"]]
        counts[0] += 1
        counts[1] += bool(line["hinted"])
        counts[2] += len(line["failed"])
        counts[3] += len(line["hinted"])
    print(f"{'exercise':24} {'wrong':>6} {'hinted':>7} {'failed checks':>14} {'with a hint':>12}")
    totals = [0, 0, 0, 0]
    for exercise in sorted(by_exercise):
        counts = by_exercise[exercise]
        totals = [t + c for t, c in zip(totals, counts)]
        print(f"{exercise:24} {counts[0]:6} {counts[1]:7} {counts[2]:14} {counts[3]:12}")
    if totals[0]:
        print(f"{'all':24} {totals[0]:6} {totals[1]:7} {totals[2]:14} {totals[3]:12}")
        print(f"hint coverage: {totals[1]}/{totals[0]} wrong submissions ({100 * totals[1] / totals[0]:.0f} %) get a Hint line; "
              f"{totals[3]}/{totals[2]} failed checks ({100 * totals[3] / totals[2]:.0f} %) name a mistake")
    unhinted = [line for line in wrong if not line["hinted"]]
    if unhinted:
        print("\nwrong submissions without any hint:")
        for line in unhinted:
            print(f"  {line['test']}: failed {', '.join(line['failed'])}")
    return run.status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
