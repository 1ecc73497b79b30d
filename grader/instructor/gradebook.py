"""What a graded class leaves on disk: Gradescope results, feedback pages, the gradebook and the class summary.

Per student (`write_student`): `OUT/<student>/results.json` in Gradescope's autograder results format and
`OUT/<student>/feedback.html`. Per class (`write_class`): `OUT/gradebook.csv` and `OUT/summary.html` with its
pictures beside it. Every file is written atomically, so an interrupted batch never leaves half a file.

Pages are static HTML that open from disk: no script, no network; a Content-Security-Policy forbids both, and all
text that may come from a student (messages quote their output) is escaped.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import math
from collections import Counter
from pathlib import Path
from typing import Mapping, Sequence

import numpy

from grader.checks import EXERCISES
from grader.instructor.files import atomic_write_bytes, atomic_write_json, atomic_write_text
from grader.model import STUB_DESCRIPTION, CheckResult
from grader.runner import total

# Gradescope shows a test at once ("visible") or once grades are published ("after_published").
GRADESCOPE_VISIBILITY = {"public": "visible", "hidden": "after_published"}
SCORE_DIGITS = 6
MAX_CURVE_POINTS = 5000
SCORE_PICTURE = "summary_scores.png"
SIMILARITY_PAGE = "similarity/similarity.html"  # written by `grader grade --similarity`, linked from the summary
# Colours of the pictures; the browser tests look for them in screenshots (no CSS on the pages uses them).
BAR_COLOUR = "#3b6fb6"
STUDENT_COLOUR = "#c8553d"
REFERENCE_COLOUR = "#2a9d55"


# --------------------------------------------------------------------------------------------------- scores


def _number(value: float) -> float | int:
    """A finite score rounded for display and JSON (integers stay integers)."""
    value = float(value)
    if not math.isfinite(value):
        value = 0.0
    value = round(value, SCORE_DIGITS)
    return int(value) if value.is_integer() else value


def exercise_scores(results: Sequence[CheckResult]) -> dict[str, float]:
    """Points per exercise, every exercise of `EXERCISES` present (0 where no check ran)."""
    scores = {exercise: 0.0 for exercise in EXERCISES}
    for result in results:
        scores[result.exercise] = scores.get(result.exercise, 0.0) + result.score
    return scores


def _shown_output(result: CheckResult) -> str:
    if result.status == "skipped":
        return result.message or "skipped: counts neither for nor against you"
    return result.output


# ------------------------------------------------------------------------------------------- results.json


def results_json(results: Sequence[CheckResult], execution_time: float) -> dict:
    """Gradescope's autograder results: the total, the run time, and one test per check.

    A skipped check (a capability this machine lacks) scores 0 of 0 and must not look passed: Gradescope shows
    "passed", or infers it for 0 of 0 points, in green; its format has no "skipped" status, so the test is
    "failed", named `… (skipped)`, and its output says why. Outputs are plain text (`output_format: text`),
    never rendered as HTML.
    """
    score, maximum = total(results)
    passed = sum(r.status == "passed" and r.max_score > 0 for r in results)
    counted = sum(r.status != "skipped" for r in results)
    tests = []
    for result in results:
        skipped = result.status == "skipped"
        tests.append({
            "name": result.qualified_name + (" (skipped)" if skipped else ""),
            "name_format": "text",
            "score": _number(0.0 if skipped else result.score),
            "max_score": _number(0.0 if skipped else result.max_score),
            "status": "passed" if result.status == "passed" else "failed",
            "output": _shown_output(result),
            "output_format": "text",
            "visibility": GRADESCOPE_VISIBILITY.get(result.visibility, "after_published"),
            "tags": [result.exercise] + (["skipped"] if skipped else []),
        })
    return {
        "score": _number(score),
        "execution_time": _number(max(0.0, execution_time)),
        "output": f"{passed} of {counted} checks passed; {_number(score)} of {_number(maximum)} points.",
        "output_format": "text",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


# ------------------------------------------------------------------------------------------------ pictures


def _figure(width: float, height: float):
    """A matplotlib figure on the Agg canvas, without pyplot (no global state, no display)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(figure)
    return figure


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.subplots_adjust(left=0.12, right=0.97, bottom=0.16, top=0.88)  # fixed margins: tight_layout costs ~0.15 s a figure
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _series(values) -> list[float] | None:
    """A curve from extras as finite-or-NaN floats, or None when it is not a list of numbers."""
    if not isinstance(values, (list, tuple)) or not values:
        return None
    series = []
    for value in values[:MAX_CURVE_POINTS]:
        if value is None:  # a non-finite value, written to JSON as null
            value = math.nan
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        value = float(value)
        series.append(value if math.isfinite(value) else math.nan)
    return series


def curve_png(curves: Mapping) -> bytes | None:
    """The student's curve beside the reference's, or None when `curves` is malformed."""
    student, reference = _series(curves.get("student")), _series(curves.get("reference"))
    if student is None and reference is None:
        return None
    with numpy.errstate(all="ignore"):  # values near the float range overflow matplotlib's arithmetic
        return _draw_curves(curves, student, reference)


def _draw_curves(curves: Mapping, student: list[float] | None, reference: list[float] | None) -> bytes:
    figure = _figure(6.0, 3.2)
    axes = figure.add_subplot()
    if reference is not None:
        axes.plot(range(1, len(reference) + 1), reference, color=REFERENCE_COLOUR, linewidth=2.5, label="reference")
    if student is not None:
        axes.plot(range(1, len(student) + 1), student, color=STUDENT_COLOUR, linewidth=1.5, linestyle="--", label="yours")
    finite = [v for v in (student or []) + (reference or []) if math.isfinite(v)]
    if finite and min(finite) > 0 and max(finite) / min(finite) > 1e3:
        axes.set_yscale("log")
    axes.set_xlabel(str(curves.get("xlabel", "epoch"))[:80], parse_math=False)
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.set_ylabel(str(curves.get("ylabel", ""))[:80], parse_math=False)
    axes.set_title(str(curves.get("title", ""))[:120], parse_math=False)
    axes.legend()
    axes.grid(alpha=0.3)
    return _png(figure)


def score_histogram_png(totals: Sequence[float], maximum: float) -> bytes:
    """How many students scored how much."""
    figure = _figure(6.5, 3.2)
    axes = figure.add_subplot()
    top = maximum if maximum > 0 else max([*totals, 1.0])
    bins = int(top) if float(top).is_integer() and top <= 20 else 10
    edges = [top * i / bins for i in range(bins + 1)]
    axes.hist([min(max(t, 0.0), top) for t in totals], bins=edges, color=BAR_COLOUR, edgecolor="white")
    axes.set_xlim(0, top)
    axes.set_xlabel(f"total score (out of {_number(maximum)})", parse_math=False)
    axes.set_ylabel("students", parse_math=False)
    axes.yaxis.get_major_locator().set_params(integer=True)
    return _png(figure)


# ----------------------------------------------------------------------------------------------------- HTML

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; } td, th { padding: 0.25em 0.7em; text-align: left; border-bottom: 1px solid #eee; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.passed { color: #1f7a3a; } .failed { color: #b3261e; } .skipped { color: #777; }
pre { background: #f6f6f6; padding: 0.7em; white-space: pre-wrap; word-break: break-word; max-height: 30em; overflow: auto; }
.hint { background: #fff6d6; border-left: 4px solid #e0b400; padding: 0.4em 0.7em; }
.notes { background: #fdecea; border-left: 4px solid #b3261e; padding: 0.4em 0.7em; }
.bar { background: #e6e6e6; width: 12em; height: 0.9em; display: inline-block; vertical-align: middle; }
.bar span { background: #5a9e6f; height: 100%; display: block; }
img { max-width: 100%; }
"""
POLICY = "default-src 'none'; img-src 'self' data: file:; style-src 'unsafe-inline'"


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{POLICY}\">\n"
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _points(score: float, maximum: float) -> str:
    return f"{_number(score)} / {_number(maximum)}"


def _check_block(result: CheckResult, notes: list[str]) -> str:
    label = " <small>(hidden check)</small>" if result.visibility == "hidden" else ""
    head = f"<h3 class=\"{_e(result.status)}\">{_e(result.status.upper())} {_e(result.qualified_name)}{label} — {_points(result.score, result.max_score)}</h3>"
    parts = [head]
    if result.message:
        parts.append(f"<pre>{_e(result.message)}</pre>")
    if result.hint:
        parts.append(f"<p class=\"hint\"><strong>Hint:</strong> {_e(result.hint)}</p>")
    curves = result.extras.get("curves") if isinstance(result.extras, dict) else None
    if isinstance(curves, dict):
        try:
            picture = curve_png(curves)
        except Exception as error:  # noqa: BLE001 - matplotlib refuses some values (±1.7e308); the page stands without it
            picture = None
            notes.append(f"the curve of {result.qualified_name} could not be drawn ({type(error).__name__}: {str(error)[:200]})")
            parts.append(f"<p><em>Your curve could not be drawn ({_e(type(error).__name__)}); the message above says what was wrong.</em></p>")
        if picture is not None:
            alt = f"your curve beside the reference's: {curves.get('title', '')}"
            parts.append(f"<p><img src=\"{_data_uri(picture)}\" alt=\"{_e(alt)}\"></p>")
    return "\n".join(parts)


def file_problem(result: CheckResult) -> str | None:
    """Why the student's file itself failed (missing, not compiling, stuck or crashing while imported), if it did."""
    problem = result.extras.get("file_problem") if isinstance(result.extras, dict) else None
    return problem if isinstance(problem, str) else None


def _file_block(exercise: str, problem: str, cost: Sequence[CheckResult]) -> str:
    """One failure of a whole file, with the checks it cost."""
    got, out_of = total(cost)
    names = ", ".join(r.name for r in cost)
    return (f"<h3 class=\"failed\">ERROR {_e(exercise)} — {_points(got, out_of)}</h3>\n<pre>{_e(problem)}</pre>\n"
            f"<p>None of its {len(cost)} checks could run: {_e(names)}.</p>")


def feedback_html(student: str, results: Sequence[CheckResult], notes: list[str] | None = None) -> str:
    """A student's page: points per exercise, then each failed check's message, hint and curves.

    Curves are drawn for failed checks only: where a check passed, the student's curve is the reference's. A curve
    that cannot be drawn is left out, saying so on the page and in `notes`.
    """
    notes = [] if notes is None else notes
    score, maximum = total(results)
    by_exercise: dict[str, list[CheckResult]] = {}
    for result in results:
        by_exercise.setdefault(result.exercise, []).append(result)
    rows = []
    for exercise, group in by_exercise.items():
        got, out_of = total(group)
        passed = sum(r.status == "passed" for r in group)
        counted = sum(r.status != "skipped" for r in group)
        rows.append(f"<tr><td>{_e(exercise)}</td><td class=\"num\">{_points(got, out_of)}</td>"
                    f"<td class=\"num\">{passed} of {counted}</td></tr>")
    body = [f"<h1>Feedback for {_e(student)}</h1>",
            f"<p><strong>Total: {_points(score, maximum)}</strong></p>",
            "<table><tr><th>exercise</th><th class=\"num\">points</th><th class=\"num\">checks passed</th></tr>",
            *rows, "</table>"]
    failed = [r for r in results if r.status == "failed"]
    body.append("<h2>What to fix</h2>" if failed else "<h2>Every check passed</h2>")
    shown: set[tuple[str, str]] = set()
    for result in failed:
        problem = file_problem(result)
        if problem is None:
            body.append(_check_block(result, notes))
        elif (result.exercise, problem) not in shown:  # the file itself failed: once for all the checks it cost
            shown.add((result.exercise, problem))
            body.append(_file_block(result.exercise, problem, [r for r in failed if r.exercise == result.exercise
                                                              and file_problem(r) == problem]))
    others = [r for r in results if r.status != "failed"]
    if others:
        body.append("<h2>All other checks</h2><ul>")
        body.extend(f"<li class=\"{_e(r.status)}\">{_e(r.status)}: {_e(r.qualified_name)} ({_points(r.score, r.max_score)})"
                    + (f" — {_e(r.message)}" if r.status == "skipped" and r.message else "") + "</li>" for r in others)
        body.append("</ul>")
    return _page(f"Feedback: {student}", "\n".join(body))


def summary_html(students: Mapping[str, Sequence[CheckResult]], notes: Sequence[str], picture: str | None,
                 similarity: str | None = None) -> str:
    """The class page: notes, the students (each linked to their page, with what went wrong with their files), score
    distribution, average per exercise, each check's pass rate, the most frequent hints, and a link to the similar
    pairs of students where `grader grade --similarity` wrote them."""
    body = ["<h1>Class summary</h1>", f"<p>{len(students)} students graded.</p>"]
    if similarity:
        body.append(f"<p><a href=\"{_e(similarity)}\">Similar submissions</a>: pairs of students whose code is alike, "
                    "side by side (a high score is a reason to look, not a verdict).</p>")
    if notes:
        body.append("<h2>Notes</h2><div class=\"notes\"><ul>")
        body.extend(f"<li>{_e(note)}</li>" for note in notes)
        body.append("</ul></div>")
    totals = {name: total(results) for name, results in students.items()}
    body.append("<h2>Students</h2><table><tr><th>student</th><th class=\"num\">total</th><th>to look at</th></tr>")
    body.extend(f"<tr><td><a href=\"{_e(_link(name))}\">{_e(name)}</a></td><td class=\"num\">{_points(*totals[name])}</td>"
                f"<td>{_e('; '.join(student_flags(students[name])))}</td></tr>" for name in sorted(students))
    body.append("</table>")
    body.append("<h2>Score distribution</h2>")
    if picture:
        body.append(f"<p><img src=\"{_e(picture)}\" alt=\"histogram of the students' total scores\"></p>")
    if totals:
        scores = sorted(score for score, _ in totals.values())
        middle = scores[len(scores) // 2] if len(scores) % 2 else (scores[len(scores) // 2 - 1] + scores[len(scores) // 2]) / 2
        maximum = max(m for _, m in totals.values())
        body.append(f"<p>median {_number(middle)}, lowest {_number(scores[0])}, highest {_number(scores[-1])}, "
                    f"out of {_number(maximum)}.</p>")
    body.append("<h2>Average per exercise</h2>")
    body.append("<table><tr><th>exercise</th><th class=\"num\">mean points</th><th class=\"num\">full marks</th></tr>")
    for exercise, (mean, out_of, full) in exercise_means(students).items():
        body.append(f"<tr><td>{_e(exercise)}</td><td class=\"num\">{_points(round(mean, 2), out_of)}</td>"
                    f"<td class=\"num\">{full} / {len(students)}</td></tr>")
    body.append("</table>")
    body.append("<h2>Pass rate of each check</h2>")
    body.append("<table><tr><th>check</th><th class=\"num\">passed</th><th></th></tr>")
    for name, (passed, counted) in pass_rates(students).items():
        if not counted:
            body.append(f"<tr><td>{_e(name)}</td><td class=\"num skipped\">skipped</td><td></td></tr>")
            continue
        body.append(f"<tr><td>{_e(name)}</td><td class=\"num\">{passed} / {counted}</td>"
                    f"<td><span class=\"bar\"><span style=\"width: {100 * passed / counted:.0f}%\"></span></span></td></tr>")
    body.append("</table>")
    body.append("<h2>Most frequent hints</h2>")
    hints = frequent_hints(students)
    if hints:
        body.append("<table><tr><th class=\"num\">students</th><th>check</th><th>hint</th></tr>")
        body.extend(f"<tr><td class=\"num\">{count}</td><td>{_e(check)}</td><td>{_e(hint)}</td></tr>"
                    for (check, hint), count in hints)
        body.append("</table>")
    else:
        body.append("<p>No recognised mistakes.</p>")
    return _page("Class summary", "\n".join(body))


FLAGS = (("file not submitted", "missing file"), ("does not compile", "syntax error"), ("timed out after", "timed out"))


def student_flags(results: Sequence[CheckResult]) -> list[str]:
    """What the summary flags for one student: missing files, syntax errors, timeouts, and files whose every check met
    an untouched stub, each with its exercises (`syntax error: ex02`)."""
    flagged: dict[str, list[str]] = {}
    for exercise in dict.fromkeys(r.exercise for r in results):
        ran = [r for r in results if r.exercise == exercise and r.status != "skipped"]
        failed = [r.message for r in ran if r.status == "failed"]
        found = [label for text, label in FLAGS if any(text in message for message in failed)]
        if ran and len(failed) == len(ran) and all(STUB_DESCRIPTION in message for message in failed):
            found.append("untouched stubs")
        for label in found:
            flagged.setdefault(label, []).append(exercise.split("_", 1)[0])
    return [f"{label}: {', '.join(exercises)}" for label, exercises in flagged.items()]


def _link(student: str) -> str:
    from urllib.parse import quote

    return f"{quote(student)}/feedback.html"


def exercise_means(students: Mapping[str, Sequence[CheckResult]]) -> dict[str, tuple[float, float, int]]:
    """exercise -> (mean points, most points any student could get, students with full marks), in EXERCISES order."""
    means = {}
    for exercise in EXERCISES:
        scores = [total(r for r in results if r.exercise == exercise) for results in students.values()]
        if scores and any(out_of for _, out_of in scores):
            out_of = max(m for _, m in scores)
            full = sum(got >= m > 0 for got, m in scores)
            means[exercise] = (sum(got for got, _ in scores) / len(scores), out_of, full)
    return means


def pass_rates(students: Mapping[str, Sequence[CheckResult]]) -> dict[str, tuple[int, int]]:
    """check -> (students who passed it, students for whom it ran), in the order checks first appear."""
    rates: dict[str, list[int]] = {}
    for results in students.values():
        for result in results:
            entry = rates.setdefault(result.qualified_name, [0, 0])
            if result.status != "skipped":
                entry[0] += result.status == "passed"
                entry[1] += 1
    return {name: (passed, counted) for name, (passed, counted) in rates.items()}


def frequent_hints(students: Mapping[str, Sequence[CheckResult]], limit: int = 10) -> list[tuple[tuple[str, str], int]]:
    """The `limit` most frequent (check, hint) pairs among failed checks, counted once per student."""
    counts: Counter = Counter()
    for results in students.values():
        counts.update({(r.qualified_name, r.hint) for r in results if r.status == "failed" and r.hint})
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]


# ----------------------------------------------------------------------------------------------------- CSV


def _cell(text: str) -> str:
    """Neutralise spreadsheet formulas: a cell starting with = + - @ (or a tab/CR) is prefixed with a quote."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def gradebook_csv(students: Mapping[str, Sequence[CheckResult]]) -> str:
    """`student,<each exercise>,total,max_total`, one row per student in name order."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", *EXERCISES, "total", "max_total"])
    for student in sorted(students):
        results = students[student]
        per_exercise = exercise_scores(results)
        score, maximum = total(results)
        writer.writerow([_cell(student), *(_number(per_exercise[e]) for e in EXERCISES), _number(score), _number(maximum)])
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------- writing out


def write_student(out: Path, student: str, results: list[CheckResult], *, execution_time: float,
                  folder: Path | None = None) -> list[str]:
    """`OUT/<student>/results.json` and `OUT/<student>/feedback.html` (or in `folder`), each written atomically;
    a note for each curve that could not be drawn."""
    folder = folder or Path(out) / student
    notes: list[str] = []
    atomic_write_json(folder / "results.json", results_json(results, execution_time))
    atomic_write_text(folder / "feedback.html", feedback_html(student, results, notes))
    return [f"{student}'s feedback page: {note}; the grade is complete" for note in notes]


def write_class(out: Path, students: dict[str, list[CheckResult]], *, notes: list[str]) -> None:
    """`OUT/gradebook.csv` and `OUT/summary.html` (with its histogram beside it, and a link to the similar pairs
    where OUT has them), each written atomically."""
    out = Path(out)
    atomic_write_text(out / "gradebook.csv", gradebook_csv(students))
    picture = None
    if students:
        totals = [total(results) for results in students.values()]
        atomic_write_bytes(out / SCORE_PICTURE, score_histogram_png([s for s, _ in totals], max(m for _, m in totals)))
        picture = SCORE_PICTURE
    similarity = SIMILARITY_PAGE if (out / SIMILARITY_PAGE).is_file() else None
    atomic_write_text(out / "summary.html", summary_html(students, notes, picture, similarity))


def format_table(students: Mapping[str, Sequence[CheckResult]]) -> str:
    """A short text table for the console: a row per student, points per exercise, the total."""
    short = [e.split("_", 1)[0] for e in EXERCISES]
    names = sorted(students)
    width = max([len("student"), *(len(n) for n in names)])
    width = min(width, 32)
    header = f"{'student':<{width}} " + " ".join(f"{s:>5}" for s in short) + f" {'total':>13}"
    lines = [header, "-" * len(header)]
    for name in names:
        results = students[name]
        per_exercise = exercise_scores(results)
        score, maximum = total(results)
        shown = "".join(c if c.isprintable() else "?" for c in name)
        shown = shown if len(shown) <= width else shown[: width - 1] + "…"
        lines.append(f"{shown:<{width}} " + " ".join(f"{_number(per_exercise[e]):>5}" for e in EXERCISES)
                     + f" {_points(score, maximum):>13}")
    return "\n".join(lines)
