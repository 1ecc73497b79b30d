"""Console output of `grader check`: a line per check, the points, and the failure messages."""

from __future__ import annotations

import textwrap
from typing import Sequence

from grader.model import CheckResult
from grader.runner import total

MARKS = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP"}


def format_results(results: Sequence[CheckResult]) -> str:
    """The text a student reads after `grader check`."""
    lines = []
    for result in results:
        points = f"{result.score:g}/{result.max_score:g}" if result.status != "skipped" else "-"
        lines.append(f"{MARKS[result.status]}  {result.qualified_name:<48} {points:>7}")
        if result.status != "passed" and result.output:
            lines.append(textwrap.indent(result.output, "      "))
    score, maximum = total(results)
    passed = sum(r.status == "passed" for r in results)
    counted = sum(r.status != "skipped" for r in results)
    lines.append(f"\n{passed} of {counted} checks passed; {score:g} of {maximum:g} points.")
    return "\n".join(lines)
