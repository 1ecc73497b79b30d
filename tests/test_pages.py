"""What an instructor reads after `grader grade`: a file that fails as a whole is shown once per exercise, the
summary starts with the students and flags their files, and a rerun says what it reused."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a small class graded for real: about 17 s

ROOT = Path(__file__).resolve().parent.parent
EX02 = "ex02_derivative"


def grade(submissions: Path, out: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-m", "grader", "grade", str(submissions), "--out", str(out), "--seed", "5",
                           "--timeout", "2", "--workers", "2", "--quiet"], env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("pages")
    solution = (ROOT / "solutions" / f"{EX02}.py").read_text()
    files = {"hangs": solution + "\nwhile True:\n    pass\n", "broken": solution + "\ndef oops(:\n",
             "untouched": (ROOT / "exercises" / f"{EX02}.py").read_text(), "solved": solution}
    for student, text in files.items():
        (base / "in" / student).mkdir(parents=True)
        (base / "in" / student / f"{EX02}.py").write_text(text)
    first = grade(base / "in", base / "out")
    assert first.returncode == 0, first.stderr
    assert "reused" not in first.stdout
    return base


def test_an_import_that_hangs_is_reported_once_with_where_to_look(graded):
    page = (graded / "out" / "hangs" / "feedback.html").read_text()
    assert page.count("timed out after 2 s during import") == 1, page
    assert "during import: is there a loop outside a function?" in page
    assert "ERROR ex02_derivative" in page and "None of its" in page


def test_a_syntax_error_is_reported_once(graded):
    page = (graded / "out" / "broken" / "feedback.html").read_text()
    assert page.count("does not compile") == 1, page


def test_the_summary_starts_with_the_students_and_flags_their_files(graded):
    page = (graded / "out" / "summary.html").read_text()
    assert page.index("<h2>Students</h2>") < page.index("<h2>Score distribution</h2>") < page.index("<h2>Pass rate")
    rows = {m.group(1): m.group(2) for m in re.finditer(r'<a href="[^"]+">([^<]+)</a></td><td class="num">[^<]*</td><td>([^<]*)</td>', page)}
    assert rows["hangs"].startswith("missing file: ex01, ex03, ex04") and rows["hangs"].endswith("; timed out: ex02")
    assert rows["broken"].endswith("; syntax error: ex02") and rows["untouched"].endswith("; untouched stubs: ex02")
    assert "ex02" not in rows["solved"]


def test_a_rerun_says_what_it_reused(graded):
    again = grade(graded / "in", graded / "out")
    assert again.returncode == 0, again.stderr
    assert "4 unchanged, reused" in again.stdout
