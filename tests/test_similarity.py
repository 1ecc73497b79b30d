"""`grader similarity`: a disguised copy tops a class of independent authors, stubs pair with nobody, bad inputs get
a reason, pages escape what students wrote and render in a real browser, and `grader grade --similarity` links it."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import similarity_class
from browser import chromium, pixels_of, screenshot
from grader.cli import main
from grader.instructor import gradebook, similarity
from grader.instructor.submissions import discover

INDEPENDENT = {"ada_reference", "ben_numpy", "cleo_loops"}


@pytest.fixture(scope="module")
def class_folder(tmp_path_factory) -> Path:
    return similarity_class.write_class(tmp_path_factory.mktemp("class"))


def rows(out: Path) -> list[dict]:
    with open(out / "similarity.csv", newline="") as table:
        return list(csv.DictReader(table))


def run(capsys, *args: str) -> tuple[int, str, str]:
    status = main(["similarity", *map(str, args)])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def copy_of(class_folder: Path, tmp_path: Path, *students: str) -> Path:
    folder = tmp_path / "in"
    for student in students:
        shutil.copytree(class_folder / student, folder / student)
    return folder


def test_the_disguised_copy_tops_every_pair_of_independent_authors(class_folder, tmp_path, capsys):
    status, out, _ = run(capsys, class_folder, "--out", tmp_path / "out", "--floor", "0")
    assert status == 0
    table = rows(tmp_path / "out")
    assert list(table[0]) == ["student_a", "student_b", "score", "exercises"]
    scores = {frozenset((r["student_a"], r["student_b"])): float(r["score"]) for r in table}
    copy = scores.pop(frozenset(("cleo_loops", "dan_disguised")))
    assert (table[0]["student_a"], table[0]["student_b"]) == ("cleo_loops", "dan_disguised")
    assert copy > 0.8, copy
    independent = {pair: score for pair, score in scores.items() if pair <= INDEPENDENT}
    assert len(independent) == 3 and max(independent.values()) < 0.3 < copy, scores
    # every exercise of the copy matches, the notebook (ex03) too
    assert set(table[0]["exercises"].split()) == set(similarity_class.EXERCISES)
    # the untouched stubs pair with nobody, and the output says why
    assert not any("sam_stubs" in pair for pair in scores)
    assert "sam_stubs: nothing of their own to compare" in out
    assert out.splitlines()[1].split()[1:4] == ["cleo_loops", "and", "dan_disguised"]


def test_the_default_floor_leaves_only_the_copy(class_folder, tmp_path, capsys):
    status, out, _ = run(capsys, class_folder, "--out", tmp_path / "out")
    assert status == 0
    assert [(r["student_a"], r["student_b"]) for r in rows(tmp_path / "out")] == [("cleo_loops", "dan_disguised")]
    page = (tmp_path / "out" / "similarity.html").read_text()
    assert similarity.VERDICT.split(":")[0] in page and 'href="pairs/0001.html"' in page
    view = (tmp_path / "out" / "pairs" / "0001.html").read_text()
    assert view.count("<mark>") > 20 and "lines as handed out" in view


def test_one_shared_helper_does_not_make_two_students_alike(class_folder, tmp_path):
    helper = "\n\ndef _mean(values):\n    total = 0.0\n    for value in values:\n        total += value\n    return total / len(values)\n"
    folder = copy_of(class_folder, tmp_path, "ada_reference", "ben_numpy")
    for student in ("ada_reference", "ben_numpy"):
        for exercise in similarity_class.EXERCISES:
            path = folder / student / f"{exercise}.py"
            path.write_text(path.read_text() + helper)
    found = similarity.read_class(discover(folder, tmp_path / "staging"))
    (pair,) = similarity.compare_class(found, floor=0)
    assert pair.score < 0.3, pair


def test_matched_tokens_are_what_copydetect_counts(class_folder, tmp_path):
    from copydetect import compare_files

    found = similarity.read_class(discover(class_folder, tmp_path / "staging"))
    names = sorted(found.code)
    checked = 0
    for a in names:
        for b in names:
            for exercise, first in found.code[a].items():
                second = found.code[b].get(exercise)
                if a != b and second is not None:
                    overlap, (share, _), _ = compare_files(first.fingerprint, second.fingerprint)
                    assert first.matched(second) == overlap
                    assert first.matched(second) == pytest.approx(share * first.size)
                    checked += 1
    assert checked == 4 * 3 * 3


def test_bad_submissions_get_a_reason_each(class_folder, tmp_path, capsys):
    folder = copy_of(class_folder, tmp_path, "ada_reference", "cleo_loops")
    (folder / "nina_notebook").mkdir()
    (folder / "nina_notebook" / "ex01_linear_model.ipynb").write_text("{ this is not json")
    archive = folder / "zoe_locked.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("ex01_linear_model.py", "def forward(x, w):\n    return x * w\n")
    data = bytearray(archive.read_bytes())  # mark it encrypted, as `zip -e` does (bit 0 of the flags)
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.index(signature) + offset
        data[at] |= 1
    archive.write_bytes(bytes(data))
    status, out, err = run(capsys, folder, "--out", tmp_path / "out")
    assert status == 0 and "Traceback" not in out + err
    assert "zoe_locked: refused zoe_locked.zip: the zip is encrypted" in out
    assert "nina_notebook: ex01_linear_model.ipynb is not a readable notebook" in out
    page = (tmp_path / "out" / "similarity.html").read_text()
    assert "is encrypted" in page and "is not a readable notebook" in page


@pytest.mark.parametrize("arguments, message", [
    (["{tmp}/absent", "--out", "{tmp}/out"], "no folder {tmp}/absent; give the folder that holds one <student>/ folder"),
    (["{tmp}/empty", "--out", "{tmp}/out"], "no submissions found in {tmp}/empty: expected"),
    (["{tmp}/empty", "--out", "{tmp}/empty/out"], "--out {tmp}/empty/out is inside {tmp}/empty"),
    (["{tmp}/empty", "--out", "{tmp}/file"], "--out {tmp}/file is a file"),
    (["{tmp}/empty", "--out", "{tmp}/out", "--floor", "2"], "--floor is a score from 0 to 1 (got 2.0)"),
])
def test_bad_arguments_are_one_line_and_exit_2(tmp_path, capsys, arguments, message):
    (tmp_path / "empty").mkdir()
    (tmp_path / "file").write_text("")
    status, out, err = run(capsys, *(a.format(tmp=tmp_path) for a in arguments))
    assert status == 2 and out == ""
    assert err.startswith("grader similarity: " + message.format(tmp=tmp_path)) and err.count("\n") == 1


def test_pages_escape_what_students_wrote(tmp_path, capsys):
    hostile = ('def forward(x, w):\n    """</pre><script>alert(1)</script>"""\n    return x * w  # <img src=x onerror=alert(2)>\n\n'
               'def loss(x, y, w):\n    evil = "</mark><b>&amp;"\n    return (forward(x, w) - y) ** 2 + len(evil) * 0\n')
    for student in ("mal", "mallory"):
        (tmp_path / "in" / student).mkdir(parents=True)
        (tmp_path / "in" / student / "ex01_linear_model.py").write_text(hostile)
    status, _, _ = run(capsys, tmp_path / "in", "--out", tmp_path / "out")
    assert status == 0
    view = (tmp_path / "out" / "pairs" / "0001.html").read_text()
    assert "<script" not in view and "<img" not in view and "<b>" not in view
    assert "&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in view and "&lt;/mark&gt;&lt;b&gt;&amp;amp;" in view


def test_summary_links_the_similarity_page_when_there_is_one(tmp_path):
    gradebook.write_class(tmp_path, {"alice": []}, notes=[])
    assert "similarity/similarity.html" not in (tmp_path / "summary.html").read_text()
    (tmp_path / "similarity").mkdir()
    (tmp_path / "similarity" / "similarity.html").write_text("")
    gradebook.write_class(tmp_path, {"alice": []}, notes=[])
    assert 'href="similarity/similarity.html"' in (tmp_path / "summary.html").read_text()


def test_a_shard_does_not_compare_the_class(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    assert main(["grade", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--shard", "1/2", "--similarity"]) == 2
    assert "--similarity compares the whole class" in capsys.readouterr().err


@pytest.mark.slow
def test_grade_with_similarity_links_it_from_the_summary(class_folder, tmp_path, capsys):
    folder = copy_of(class_folder, tmp_path, "cleo_loops", "dan_disguised", "sam_stubs")
    status = main(["grade", str(folder), "--out", str(tmp_path / "out"), "--similarity", "--quiet", "--timeout", "5"])
    out = capsys.readouterr().out
    assert status == 0 and "cleo_loops and dan_disguised" in out
    assert [(r["student_a"], r["student_b"]) for r in rows(tmp_path / "out" / "similarity")] == [("cleo_loops", "dan_disguised")]
    assert 'href="similarity/similarity.html"' in (tmp_path / "out" / "summary.html").read_text()


@pytest.mark.slow
def test_the_pages_render_in_a_browser(class_folder, tmp_path, capsys):
    browser = chromium()
    if browser is None:
        pytest.skip("no chromium here (set CHROMIUM=/path/to/browser); the pages were not rendered")
    assert run(capsys, class_folder, "--out", tmp_path / "out", "--floor", "0")[0] == 0
    ranked = screenshot(browser, tmp_path / "out" / "similarity.html", tmp_path / "ranked.png", tmp_path / "profile")
    assert ranked.std() > 10, "the screenshot is blank"
    assert pixels_of(ranked, "#5a9e6f") > 500, "the score bars are not drawn"
    side_by_side = screenshot(browser, tmp_path / "out" / "pairs" / "0001.html", tmp_path / "pair.png", tmp_path / "profile")
    assert pixels_of(side_by_side, "#ffd54f") > 5000, "the matching regions are not marked"


@pytest.mark.slow
def test_the_benchmark_runs():
    done = subprocess.run([sys.executable, "bench/similarity.py", "--smoke"], cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "grader similarity: " in done.stdout and "pairs above the floor" in done.stdout and "target: " in done.stdout
