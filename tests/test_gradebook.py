"""What a graded class leaves on disk: results.json in Gradescope's format, the gradebook, escaped pages, atomic
writes, and a summary page that a real browser renders with its pictures."""

from __future__ import annotations

import csv
import json
from html.parser import HTMLParser

import jsonschema
import pytest

from grader.instructor import files, gradebook
from grader.checks import EXERCISES
from grader.model import CheckResult
from browser import chromium, pixels_of, screenshot
from gradescope_schema import GRADESCOPE_SCHEMA

EVIL = '<script>alert("x")</script><img src=x onerror="alert(1)"></pre><b>bold</b>&amp;'


def result(exercise="ex01_linear_model", name="forward", status="passed", score=None, max_score=1.0,
           visibility="public", message="", hint=None, extras=None) -> CheckResult:
    if score is None:
        score = max_score if status == "passed" else 0.0
    return CheckResult(exercise, name, status, score, max_score, visibility, message, hint, extras or {})


CURVES = {"curves": {"title": "cost per epoch", "student": [4.0, 3.0, 2.5, float("nan"), 2.4],
                     "reference": [4.0, 2.0, 1.0, 0.5, 0.25], "ylabel": "cost"}}


@pytest.fixture
def alice() -> list[CheckResult]:
    return [
        result(name="forward"),
        result(name="cost", status="failed", max_score=2.0, message="cost(xs=[1.0]) expected 3 " + EVIL,
               hint="divide by N " + EVIL),
        result(name="hidden_grid", status="failed", visibility="hidden", message="wrong best point"),
        result("ex03_quadratic", "train", status="failed", max_score=3.0, message="curve differs", extras=CURVES),
        result("ex05_torch_gd", "on_cuda", status="skipped", max_score=0.0,
               message="skipped: this machine has no cuda; the check counts neither for nor against you"),
        result("ex04_cost_loss_sgd", "sgd", score=1.5, max_score=1.5),
    ]


def test_results_json_follows_gradescope_format(alice):
    data = gradebook.results_json(alice, execution_time=2.25)
    jsonschema.validate(data, GRADESCOPE_SCHEMA)
    json.dumps(data, allow_nan=False)
    tests = {t["name"]: t for t in data["tests"]}
    assert list(tests) == [r.qualified_name + (" (skipped)" if r.status == "skipped" else "") for r in alice]
    assert data["score"] == 2.5 and data["execution_time"] == 2.25
    assert data["score"] == sum(t["score"] for t in data["tests"])
    assert all(t["score"] <= t["max_score"] for t in data["tests"])
    assert tests["ex01_linear_model.cost"]["status"] == "failed"
    assert tests["ex01_linear_model.cost"]["output"].endswith("Hint: divide by N " + EVIL)
    assert tests["ex01_linear_model.forward"]["visibility"] == "visible"
    assert tests["ex01_linear_model.hidden_grid"]["visibility"] == "after_published"
    skipped = tests["ex05_torch_gd.on_cuda (skipped)"]
    assert skipped["max_score"] == 0 and skipped["score"] == 0 and "skipped" in skipped["output"]
    assert skipped["status"] == "failed"  # Gradescope shows "passed" (and 0 of 0) in green: a skipped check is not
    assert all(t["output_format"] == "text" for t in data["tests"])  # student text is never rendered as HTML


def test_results_json_never_writes_nan():
    data = gradebook.results_json([result(score=float("nan"))], execution_time=float("inf"))
    jsonschema.validate(data, GRADESCOPE_SCHEMA)
    json.dumps(data, allow_nan=False)


def test_write_student_files(tmp_path, alice):
    gradebook.write_student(tmp_path, "alice", alice, execution_time=1.0)
    data = json.loads((tmp_path / "alice" / "results.json").read_text())
    jsonschema.validate(data, GRADESCOPE_SCHEMA)
    page = (tmp_path / "alice" / "feedback.html").read_text()
    assert "Feedback for alice" in page
    assert sorted(p.name for p in (tmp_path / "alice").iterdir()) == ["feedback.html", "results.json"]


class Elements(HTMLParser):
    """The tags and attributes a browser would build from a page, and its text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(page: str) -> Elements:
    parser = Elements()
    parser.feed(page)
    return parser


def test_feedback_page_escapes_student_text(alice):
    evil_student = [result(name="forward", status="failed", message=EVIL, hint=EVIL,
                           extras={"curves": {"title": EVIL, "student": [1.0], "reference": [1.0], "ylabel": "$\\frac{"}})]
    page = parse(gradebook.feedback_html("mallory<b>", alice + evil_student))
    tags = [tag for tag, _ in page.tags]
    assert "script" not in tags and "b" not in tags
    assert all(not any(a.startswith("on") for a in attrs) for _, attrs in page.tags)
    assert all(attrs["src"].startswith("data:image/png;base64,") for tag, attrs in page.tags if tag == "img")
    text = "".join(page.text)
    assert EVIL in text  # shown to the reader exactly as the student's code produced it
    assert "mallory<b>" in text


def test_feedback_page_shows_failures_hints_and_curves(alice):
    page = gradebook.feedback_html("alice", alice)
    parsed = parse(page)
    text = "".join(parsed.text)
    assert "cost(xs=[1.0]) expected 3" in text and "divide by N" in text and "wrong best point" in text
    assert "2.5 / 8.5" in text  # passed 1 + 1.5 of 1 + 2 + 1 + 3 + 1.5
    images = [attrs for tag, attrs in parsed.tags if tag == "img"]
    assert len(images) == 1 and "cost per epoch" in images[0]["alt"]


def test_malformed_curves_are_left_out():
    for curves in ({"student": "not a list"}, {"student": [1, "x"]}, {"reference": []}, {}):
        page = gradebook.feedback_html("bob", [result(status="failed", message="m", extras={"curves": curves})])
        assert "<img" not in page


def test_summary_escapes_notes_and_names(tmp_path, alice):
    gradebook.write_class(tmp_path, {"alice": alice, "eve": [result(status="failed", hint=EVIL)]}, notes=[EVIL])
    page = parse((tmp_path / "summary.html").read_text())
    tags = [tag for tag, _ in page.tags]
    assert "script" not in tags and "b" not in tags
    assert "".join(page.text).count(EVIL) == 3  # the note and two hints, as text


def test_gradebook_csv(tmp_path, alice):
    bob = [result(name="forward", status="failed"), result("ex08_lenet", "trains", max_score=4.0)]
    gradebook.write_class(tmp_path, {"bob": bob, "alice": alice, "=HYPERLINK(1)": []}, notes=[])
    with (tmp_path / "gradebook.csv").open(newline="") as stream:
        rows = list(csv.reader(stream))
    assert rows[0] == ["student", *EXERCISES, "total", "max_total"]
    assert [row[0] for row in rows[1:]] == ["'=HYPERLINK(1)", "alice", "bob"]  # sorted; formulas neutralised
    table = {row[0]: dict(zip(rows[0], row)) for row in rows[1:]}
    assert table["alice"]["ex01_linear_model"] == "1" and table["alice"]["ex04_cost_loss_sgd"] == "1.5"
    assert table["alice"]["ex03_quadratic"] == "0" and table["alice"]["ex08_lenet"] == "0"
    assert table["alice"]["total"] == "2.5" and table["alice"]["max_total"] == "8.5"
    assert table["bob"]["ex08_lenet"] == "4" and table["bob"]["total"] == "4" and table["bob"]["max_total"] == "5"
    assert table["'=HYPERLINK(1)"]["total"] == "0"


def test_summary_counts_pass_rates_and_hints(alice):
    bob = [result(name="cost", status="failed", max_score=2.0, hint="divide by N " + EVIL), result(name="forward")]
    students = {"alice": alice, "bob": bob}
    rates = gradebook.pass_rates(students)
    assert rates["ex01_linear_model.forward"] == (2, 2)
    assert rates["ex01_linear_model.cost"] == (0, 2)
    assert rates["ex05_torch_gd.on_cuda"] == (0, 0)
    assert gradebook.frequent_hints(students)[0] == (("ex01_linear_model.cost", "divide by N " + EVIL), 2)


def test_format_table(alice):
    table = gradebook.format_table({"alice": alice, "bob\x1b[31m": [result()]})
    lines = table.splitlines()
    assert lines[0].split() == ["student", *(e[:4] for e in EXERCISES), "total"]
    assert lines[2].split()[0] == "alice" and lines[2].endswith("2.5 / 8.5")
    assert "\x1b" not in table  # a student's name cannot drive the terminal


def test_writes_are_atomic(tmp_path, alice, monkeypatch):
    """A failure while writing leaves the previous files whole and no temporary files behind."""
    gradebook.write_student(tmp_path, "alice", alice, execution_time=1.0)
    gradebook.write_class(tmp_path, {"alice": alice}, notes=[])
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        gradebook.write_student(tmp_path, "alice", alice[:1], execution_time=9.0)
    with pytest.raises(KeyboardInterrupt):
        gradebook.write_class(tmp_path, {"alice": alice[:1], "bob": []}, notes=["changed"])
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert after == before


# ------------------------------------------------------------------------------------------ a real browser


@pytest.mark.slow
def test_summary_renders_in_a_browser_with_its_pictures(tmp_path, alice):
    browser = chromium()
    if browser is None:
        pytest.skip("no chromium here (set CHROMIUM=/path/to/browser); the page was not rendered")
    out = tmp_path / "out"
    gradebook.write_class(out, {"alice": alice, "bob": [result()], "carol": []}, notes=["Landlock: unavailable"])
    image = screenshot(browser, out / "summary.html", tmp_path / "shot.png", tmp_path / "profile")
    assert image.std() > 10, "the screenshot is blank"
    assert pixels_of(image, gradebook.BAR_COLOUR) > 1000, "the histogram did not load"

    # The same page without its picture: the colour disappears, so the check above really saw the image.
    (out / gradebook.SCORE_PICTURE).unlink()
    image = screenshot(browser, out / "summary.html", tmp_path / "shot_without.png", tmp_path / "profile")
    assert pixels_of(image, gradebook.BAR_COLOUR) == 0


@pytest.mark.slow
def test_feedback_page_renders_curves_in_a_browser(tmp_path, alice):
    browser = chromium()
    if browser is None:
        pytest.skip("no chromium here (set CHROMIUM=/path/to/browser); the page was not rendered")
    gradebook.write_student(tmp_path / "out", "alice", alice, execution_time=1.0)
    image = screenshot(browser, tmp_path / "out" / "alice" / "feedback.html", tmp_path / "shot.png", tmp_path / "profile")
    assert pixels_of(image, gradebook.STUDENT_COLOUR) > 100 and pixels_of(image, gradebook.REFERENCE_COLOUR) > 100


def test_exercise_means(alice):
    bob = [result(name="forward", status="failed"), result(name="cost", max_score=2.0)]
    means = gradebook.exercise_means({"alice": alice, "bob": bob})
    assert means["ex01_linear_model"] == (1.5, 4.0, 0)  # alice 1 of 4, bob 2 of 3: mean 1.5
    assert means["ex04_cost_loss_sgd"] == (0.75, 1.5, 1)
    assert "ex02_derivative" not in means and "ex05_torch_gd" not in means  # no check ran there / skipped only
