"""Console output: `grader check`'s line per check, points and failure messages. (`grader report`'s state of a class
is the instructor's: `grader.instructor.class_report`.)"""

from __future__ import annotations

import textwrap
from typing import Sequence

from grader.model import CheckResult
from grader.runner import total

MARKS = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP"}


def format_result(result: CheckResult, *, details: bool = True) -> str:
    """One check's line, then (when `details`) its failure message and `Hint:` line, indented."""
    points = f"{result.score:g}/{result.max_score:g}" if result.status != "skipped" else "-"
    line = f"{MARKS[result.status]}  {result.qualified_name:<48} {points:>7}"
    if details and result.status != "passed" and result.output:
        line += "\n" + textwrap.indent(result.output, "      ")
    return line


def format_summary(results: Sequence[CheckResult]) -> str:
    """`N of M checks passed; S of T points.` (skipped checks count in neither)."""
    score, maximum = total(results)
    passed = sum(r.status == "passed" for r in results)
    counted = sum(r.status != "skipped" for r in results)
    return f"{passed} of {counted} checks passed; {score:g} of {maximum:g} points."


def format_results(results: Sequence[CheckResult]) -> str:
    """The text a student reads after `grader check`."""
    return "\n".join([format_result(r) for r in results] + ["", format_summary(results)])
