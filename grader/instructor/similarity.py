"""`grader similarity`: pairs of students whose code is alike, for an instructor to look at.

discover the class as `grader grade` does -> fingerprint each exercise file with copydetect (Pygments tokens with
identifiers, strings and comments normalised, every k-gram of NOISE characters hashed) less the fingerprints of the
code every student was handed (the stub, as a module and as the bundle's notebook) -> compare each pair of students
exercise by exercise -> combine -> write similarity.csv, similarity.html and a side-by-side page per pair shown.

A pair's score is the share of each student's own code (stubs discounted) that matches the other's code of the same
exercise, averaged over the two. Matches never cross exercises, so a helper both paste everywhere weighs only as
much as the code it is. Nothing is sent anywhere: it all runs here.
"""

from __future__ import annotations

import csv
import html
import io
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from grader.checks import EXERCISES
from grader.instructor.files import atomic_write_text
from grader.instructor.submissions import NoSubmissions, Submission, discover
from grader.notebook import module_text

NOISE = 25  # characters of normalised code (`returnV*V` is 9): shorter matches are coincidence; copydetect's default
FLOOR = 0.25  # pairs scoring less are left out of the CSV and the page
SHOWN = 100  # pairs listed on the page, each with its side-by-side view (the CSV has them all)
MAX_CHARS = 1 << 20  # of one file compared; a larger file is compared by its beginning
VERDICT = ("A high score is a reason to look, not a verdict: students who solve a short exercise the natural way "
           "write alike, and a shared idea is not a copy. Read the two submissions side by side, and talk to the "
           "students, before concluding anything.")
PAGES = "pairs"  # folder of the side-by-side views, beside similarity.html
COLLAPSED = 4  # a run of this many lines as handed out (or blank) is shown as one line


@dataclass(frozen=True)
class Stub:
    """What every student was handed for an exercise: its lines, and copydetect's fingerprints of them."""

    lines: frozenset[str]
    hashes: list[int]

    def handed_out(self, line: str) -> bool:
        """Whether `line` is the stub's, and may be left out: a line that opens or closes a multi-line string stays,
        so that the student's code after it still reads as code."""
        return line.strip() in self.lines and (line.count('"""') + line.count("'''")) % 2 == 0


@dataclass
class Code:
    """One student's file for one exercise: the text as handed in, which of its lines are their own (not the stub's,
    not blank), and copydetect's fingerprint of those lines, flattened (each hash where it starts) to compare fast."""

    text: str
    own: list[bool]
    fingerprint: Any  # copydetect.CodeFingerprint
    hashes: Any  # numpy arrays: every fingerprint and where it starts in the normalised code, in that order
    starts: Any
    unique: Any  # the distinct fingerprints, sorted

    @classmethod
    def read(cls, text: str, stub: Stub) -> "Code":
        """`text` fingerprinted without the stub's lines (and without any of the stub's fingerprints left)."""
        from copydetect import CodeFingerprint

        lines = text.splitlines(keepends=True)
        own = [bool(line.strip()) and not stub.handed_out(line) for line in lines]
        mine = "".join(line for line, keep in zip(lines, own) if keep)
        fingerprint = CodeFingerprint("code.py", NOISE, 1, boilerplate=stub.hashes, fp=io.StringIO(mine), language="python")
        pairs = sorted((start, h) for h, starts in fingerprint.hash_idx.items() for start in starts)
        return cls(text, own, fingerprint, np.array([h for _, h in pairs], dtype=np.int64),
                   np.array([start for start, _ in pairs], dtype=np.int64), np.array(sorted(fingerprint.hashes), dtype=np.int64))

    @property
    def size(self) -> int:
        """Tokens compared: the characters of normalised code that fingerprints cover (copydetect's coverage)."""
        return int(self.fingerprint.token_coverage)

    def matched(self, other: "Code") -> int:
        """Tokens of this code in runs that `other` has too: the count of copydetect's compare_files, without its
        regions (every fingerprint found covers NOISE characters from its start; overlaps count once)."""
        where = np.minimum(np.searchsorted(other.unique, self.hashes), len(other.unique) - 1)
        hits = self.starts[other.unique[where] == self.hashes]
        return int(np.minimum(np.diff(hits), NOISE).sum()) + NOISE if len(hits) else 0


@dataclass(frozen=True)
class Match:
    """How much of two students' code for one exercise matches: tokens matched and compared, per student."""

    exercise: str
    matched: tuple[int, int]
    compared: tuple[int, int]

    @property
    def score(self) -> float:
        return sum(m / c for m, c in zip(self.matched, self.compared)) / 2


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    score: float
    matches: tuple[Match, ...]  # the exercises both students wrote code for, best match first

    @property
    def exercises(self) -> list[str]:
        """The exercises that match most: up to three, those scoring at least half the best one."""
        best = self.matches[0].score if self.matches else 0.0
        return [m.exercise for m in self.matches[:3] if m.score > 0 and m.score >= best / 2]


@dataclass
class ClassCode:
    """Each student's code per exercise, the stubs, and who was left out and why."""

    stubs: dict[str, Stub]
    code: dict[str, dict[str, Code]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------------------------------- steps


def stub(exercise: str) -> Stub:
    """The stub in exercises/ (imports, signatures, docstrings, texts), as a module and as the bundle's notebook;
    nothing where this copy of the kit has no stubs."""
    from copydetect import CodeFingerprint

    from grader.instructor.bundle import check_cells
    from grader.instructor.release import ROOT
    from grader.notebook import notebook_code, percent_to_notebook

    path = ROOT / "exercises" / f"{exercise}.py"
    if not path.is_file():
        return Stub(frozenset(), [])
    text = path.read_text(encoding="utf-8")
    forms = [text, notebook_code(percent_to_notebook(text, extra_cells=check_cells(exercise)))]
    hashes: set[int] = set()
    for form in forms:
        hashes |= CodeFingerprint(path.name, NOISE, 1, fp=io.StringIO(form), language="python").hashes
    return Stub(frozenset(line.strip() for form in forms for line in form.splitlines() if line.strip()), sorted(hashes))


def read_class(students: Sequence[Submission], sources: dict[str, Path] | None = None) -> ClassCode:
    """Every student's exercise files, read as `grader grade` reads them (`<folder>/<exercise>.py`, notebooks
    already turned into their code cells by discovery), fingerprinted with the stubs discounted.

    The stub's lines are left out before fingerprinting, not only its fingerprints afterwards: a run of characters
    that straddles a signature and the first token of an answer would otherwise match every student who starts the
    same way."""
    found = ClassCode({exercise: stub(exercise) for exercise in EXERCISES})
    for submission in students:
        name = submission.student
        if submission.folder is None:
            found.notes.append(f"{name}: {submission.problem}")
            continue
        files = {}
        for exercise in EXERCISES:
            path = submission.folder / f"{exercise}.py"
            if not path.is_file():
                continue
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError as error:
                found.notes.append(f"{name}: {exercise}.py could not be read ({error.strerror or error}); left out")
                continue
            if len(text) > MAX_CHARS:
                found.notes.append(f"{name}: {exercise} is over {MAX_CHARS // 2**20} MiB; only its beginning was compared")
                text = text[:MAX_CHARS]
            code = Code.read(text, found.stubs[exercise])
            if code.size:  # an untouched stub has nothing of its own
                files[exercise] = code
        source = (sources or {}).get(name)
        if source is not None:
            found.notes.extend(f"{name}: {note}" for note in unreadable_notebooks(source, set(files)))
        if files:
            found.code[name] = files
        else:
            found.notes.append(f"{name}: nothing of their own to compare (no exercise file, or only untouched stubs)")
    return found


def unreadable_notebooks(folder: Path, compared: set[str]) -> list[str]:
    """Why an exercise handed in only as a notebook that cannot be read is missing (grading scores it 0 too)."""
    found = []
    for path in sorted(folder.rglob("*.ipynb")):
        if path.stem in EXERCISES and path.stem not in compared and module_text(path) is None:
            found.append(f"{path.relative_to(folder).as_posix()} is not a readable notebook (not JSON?); "
                         f"{path.stem} was left out")
    return found


def compare(a: dict[str, Code], b: dict[str, Code]) -> tuple[float, tuple[Match, ...]]:
    """Two students' score and their matches, exercise by exercise (best first)."""
    matches = []
    for exercise, first in a.items():
        second = b.get(exercise)
        if second is None:
            continue
        matched = (0, 0)
        if not first.fingerprint.hashes.isdisjoint(second.fingerprint.hashes):
            matched = (first.matched(second), second.matched(first))
        matches.append(Match(exercise, matched, (first.size, second.size)))
    if not matches:
        return 0.0, ()
    score = sum(sum(m.matched[side] for m in matches) / sum(m.compared[side] for m in matches) for side in (0, 1)) / 2
    return score, tuple(sorted(matches, key=lambda m: -m.score))


def compare_class(found: ClassCode, floor: float = FLOOR) -> list[Pair]:
    """Every pair scoring at least `floor`, best first (ties by name)."""
    names = sorted(found.code)
    pairs = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            score, matches = compare(found.code[a], found.code[b])
            if matches and score >= floor:
                pairs.append(Pair(a, b, score, matches))
    return sorted(pairs, key=lambda p: (-p.score, p.a, p.b))


# ------------------------------------------------------------------------------------------------- writing


def similarity_csv(pairs: Sequence[Pair]) -> str:
    from grader.instructor.gradebook import _cell

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student_a", "student_b", "score", "exercises"])
    for pair in pairs:
        writer.writerow([_cell(pair.a), _cell(pair.b), f"{pair.score:.3f}", " ".join(pair.exercises)])
    return buffer.getvalue()


STYLE = """
body { max-width: 110em; }
.sides { display: grid; grid-template-columns: 1fr 1fr; gap: 1em; }
.sides pre { max-height: 45em; font-size: 0.85em; }
mark { background: #ffd54f; }
.stub { color: #888; font-style: italic; }
"""


def _page(title: str, body: str) -> str:
    from grader.instructor.gradebook import _page as page

    return page(title, f"<style>{STYLE}</style>\n{body}")


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def shown(code: Code, stub: Stub, slices) -> str:
    """A student's file escaped for HTML: their own lines with the matched regions (`slices` of copydetect's, in the
    text it fingerprinted) in <mark>, and runs of the stub's lines folded into one."""
    marks = sorted(zip(slices[0].tolist(), slices[1].tolist())) if len(slices) and len(slices[0]) else []
    parts: list[str] = []
    run: list[str] = []

    def fold() -> None:
        if len(run) >= COLLAPSED and any(line.strip() for line in run):
            parts.append(f"<span class=\"stub\">⋯ {len(run)} lines as handed out ⋯</span>\n")
        else:
            parts.extend(_e(line) for line in run)
        run.clear()

    start = 0  # where the line starts in the fingerprinted text (the student's own lines)
    for line, own in zip(code.text.splitlines(keepends=True), code.own):
        begin, start = start, start + len(line) if own else start
        if not line.strip() or line.strip() in stub.lines:
            run.append(line)
            continue
        fold()
        position = 0
        for first, last in marks:
            first, last = max(first - begin, position), min(last - begin, len(line))
            if first < last:
                parts += [_e(line[position:first]), "<mark>", _e(line[first:last]), "</mark>"]
                position = last
        parts.append(_e(line[position:]))
    fold()
    return "".join(parts)


def page_name(rank: int) -> str:
    return f"{PAGES}/{rank:04d}.html"


def pair_html(pair: Pair, found: ClassCode) -> str:
    """Two students' code side by side, exercise by exercise (best match first), the matching regions marked."""
    from copydetect import compare_files

    body = [f"<h1>{_e(pair.a)} and {_e(pair.b)}: {pair.score:.2f}</h1>", f"<p class=\"hint\">{_e(VERDICT)}</p>",
            "<p><a href=\"../similarity.html\">All pairs</a></p>"]
    for match in pair.matches:
        body.append(f"<h2>{_e(match.exercise)}: {match.score:.2f}</h2>")
        if not match.score:
            body.append("<p>Nothing in common beyond the stub.</p>")
            continue
        first, second = found.code[pair.a][match.exercise], found.code[pair.b][match.exercise]
        _, _, slices = compare_files(first.fingerprint, second.fingerprint)
        body.append("<div class=\"sides\">")
        for student, code, regions in ((pair.a, first, slices[0]), (pair.b, second, slices[1])):
            body.append(f"<div><h3>{_e(student)}</h3><pre>{shown(code, found.stubs[match.exercise], regions)}</pre></div>")
        body.append("</div>")
    return _page(f"{pair.a} and {pair.b}", "\n".join(body))


def similarity_html(pairs: Sequence[Pair], found: ClassCode, floor: float) -> str:
    """The ranked pairs, each linked to its side-by-side view."""
    body = ["<h1>Similar submissions</h1>", f"<p class=\"hint\"><strong>{_e(VERDICT)}</strong></p>",
            f"<p>{len(found.code)} students compared exercise by exercise, with the code every student was handed "
            f"(stubs, their docstrings and imports) discounted, identifiers and comments normalised. "
            f"{len(pairs)} pairs score {floor:.2f} or more"
            + (f"; the first {SHOWN} are listed, the rest are in similarity.csv" if len(pairs) > SHOWN else "") + ".</p>"]
    if found.notes:
        body.append("<h2>Left out</h2><div class=\"notes\"><ul>")
        body.extend(f"<li>{_e(note)}</li>" for note in found.notes)
        body.append("</ul></div>")
    body.append("<h2>Pairs</h2>")
    if not pairs:
        body.append("<p>No pair scores that high.</p>")
    else:
        body.append("<table><tr><th class=\"num\">rank</th><th>students</th><th class=\"num\">score</th><th></th>"
                    "<th>exercises that match most</th></tr>")
        for rank, pair in enumerate(pairs[:SHOWN], 1):
            body.append(f"<tr><td class=\"num\">{rank}</td><td><a href=\"{page_name(rank)}\">{_e(pair.a)} and {_e(pair.b)}</a></td>"
                        f"<td class=\"num\">{pair.score:.2f}</td><td><span class=\"bar\"><span style=\"width: "
                        f"{100 * pair.score:.0f}%\"></span></span></td><td>{_e(', '.join(pair.exercises))}</td></tr>")
        body.append("</table>")
    body.append("<h2>How the score is computed</h2><p>copydetect turns each exercise file into tokens (every name "
                f"becomes one symbol, comments and whitespace go) and hashes every run of {NOISE} characters. Runs that "
                "are in the stub are dropped. A pair's score is the share of each student's remaining code that is "
                "also in the other's file for the same exercise, averaged over the two students and over the "
                "exercises both wrote code for, by size: 1 is the same code, 0 nothing in common.</p>")
    return _page("Similar submissions", "\n".join(body))


def write_similarity(out: Path, pairs: Sequence[Pair], found: ClassCode, floor: float) -> None:
    """`out/similarity.csv`, `out/similarity.html` and `out/pairs/NNNN.html` for the pairs listed."""
    atomic_write_text(out / "similarity.csv", similarity_csv(pairs))
    shutil.rmtree(out / PAGES, ignore_errors=True)  # an earlier run's views
    for rank, pair in enumerate(pairs[:SHOWN], 1):
        atomic_write_text(out / page_name(rank), pair_html(pair, found))
    atomic_write_text(out / "similarity.html", similarity_html(pairs, found, floor))


def format_pairs(pairs: Sequence[Pair], top: int) -> str:
    if not pairs:
        return "no pair of students is similar enough to list"
    width = max(len(p.a) + len(p.b) for p in pairs[:top]) + 5
    lines = [f"the {min(top, len(pairs))} most similar pairs (a reason to look, not a verdict):"]
    lines += [f"  {p.score:.2f}  {p.a + ' and ' + p.b:<{width}} {', '.join(p.exercises)}" for p in pairs[:top]]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------- commands


def report(students: Sequence[Submission], out: Path, *, floor: float = FLOOR, top: int = 10,
           sources: dict[str, Path] | None = None) -> list[Pair]:
    """Compare `students` (discovered submissions), write the files into `out`, print the top pairs."""
    times = [time.perf_counter()]
    found = read_class(students, sources)
    times.append(time.perf_counter())
    pairs = compare_class(found, floor)
    times.append(time.perf_counter())
    write_similarity(out, pairs, found, floor)
    times.append(time.perf_counter())
    if top:
        print(format_pairs(pairs, top))
    for note in found.notes:
        print(f"note: {note}")
    read, compared, written = (b - a for a, b in zip(times, times[1:]))
    print(f"({len(found.code)} students compared in {times[-1] - times[0]:.1f} s: reading and fingerprints {read:.1f} s, "
          f"pairs {compared:.1f} s, pages {written:.1f} s; {out / 'similarity.html'})")
    return pairs


def sources_of(submissions: Path, staging: Path, students: Sequence[Submission]) -> dict[str, Path]:
    """Each student's files as handed in (their folder, or their unpacked zip), where discovery put them."""
    found = {}
    for submission in students:
        for folder in (submissions / submission.student, staging / "unpacked" / submission.student):
            if folder.is_dir():
                found[submission.student] = folder
                break
    return found


def similarity(*, submissions: Path, out: Path, floor: float | None = None, top: int = 10) -> int:
    """`grader similarity SUBMISSIONS --out DIR`: 0 when written, 2 for bad input."""
    floor = FLOOR if floor is None else floor
    problem = bad_input(submissions, out, floor, top)
    if problem:
        print(f"grader similarity: {problem}", file=sys.stderr)
        return 2
    submissions, out = submissions.resolve(), out.resolve()
    staging = Path(tempfile.mkdtemp(prefix="grader-similarity-"))
    try:
        try:
            students = discover(submissions, staging)
        except NoSubmissions as error:
            print(f"grader similarity: {error}", file=sys.stderr)
            return 2
        try:
            report(students, out, floor=floor, top=top, sources=sources_of(submissions, staging, students))
        except OSError as error:
            print(f"grader similarity: could not write to {out}: {error.strerror or error}", file=sys.stderr)
            return 2
        return 0
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def bad_input(submissions: Path, out: Path, floor: float, top: int) -> str | None:
    if not 0 <= floor <= 1:
        return f"--floor is a score from 0 to 1 (got {floor})"
    if top < 0:
        return f"--top must be 0 or more (got {top})"
    if not submissions.is_dir():
        return f"no folder {submissions}; give the folder that holds one <student>/ folder or <student>.zip per student"
    if out.resolve() == submissions.resolve() or submissions.resolve() in out.resolve().parents:
        return f"--out {out} is inside {submissions}; choose a folder outside the submissions"
    if out.exists() and not out.is_dir():
        return f"--out {out} is a file; choose a folder"
    return None
