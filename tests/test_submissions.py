"""Finding submissions: folders, zips (at the root or in one folder), and what is refused.

The damaged class at the end is graded by a real `grader grade` process: each of its submissions once stopped a whole
run before anyone was graded, and each must now cost its own student only, with a row and a one-line reason.
"""

from __future__ import annotations

import csv
import json
import os
import resource
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader.checks import load_checks
from grader.instructor import submissions
from grader.instructor.submissions import NoSubmissions, discover

ROOT = Path(__file__).resolve().parent.parent
EX01 = "ex01_linear_model.py"


def make_zip(path: Path, members: dict[str, str], links: dict[str, str] | None = None) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)


def found(tmp_path: Path) -> dict:
    return {s.student: s for s in discover(tmp_path / "in", tmp_path / "staging")}


@pytest.fixture
def class_folder(tmp_path):
    (tmp_path / "in").mkdir()
    return tmp_path / "in"


def test_folders_and_zips_at_the_root_or_in_one_folder(tmp_path, class_folder):
    (class_folder / "ann").mkdir()
    (class_folder / "ann" / EX01).write_text("A = 1\n")
    make_zip(class_folder / "bob.zip", {EX01: "B = 1\n"})
    make_zip(class_folder / "cat.zip", {f"cat_work/{EX01}": "C = 1\n", "__MACOSX/._x": ""})
    (class_folder / ".DS_Store").write_text("")
    students = found(tmp_path)
    assert sorted(students) == ["ann", "bob", "cat"]
    assert (students["bob"].folder / EX01).read_text() == "B = 1\n"
    assert (students["cat"].folder / EX01).read_text() == "C = 1\n"
    assert all(s.problem is None for s in students.values())


def test_the_fingerprint_changes_with_the_files_only(tmp_path, class_folder):
    (class_folder / "ann").mkdir()
    (class_folder / "ann" / EX01).write_text("A = 1\n")
    first = found(tmp_path)["ann"].fingerprint
    assert found(tmp_path)["ann"].fingerprint == first
    (class_folder / "ann" / EX01).write_text("A = 2\n")
    assert found(tmp_path)["ann"].fingerprint != first


@pytest.mark.parametrize("members, links, reason", [
    ({f"../{EX01}": "x"}, None, "points outside the archive (..)"),
    ({f"/etc/{EX01}": "x"}, None, "is an absolute path"),
    ({EX01: "x"}, {"secret.py": "/work/main/solutions/ex01_linear_model.py"}, "secret.py is a link"),
    ({"big.bin": "0" * (51 * 1024 * 1024)}, None, "unpacks to more than 50 MiB"),
])
def test_unsafe_zips_are_refused_with_the_reason(tmp_path, class_folder, members, links, reason):
    make_zip(class_folder / "eve.zip", members, links)
    eve = found(tmp_path)["eve"]
    assert eve.folder is None and eve.problem.startswith("refused eve.zip: ") and reason in eve.problem


def test_a_broken_zip_and_links_in_folders_are_refused(tmp_path, class_folder):
    (class_folder / "bad.zip").write_bytes(b"not a zip")
    (class_folder / "lin").mkdir()
    (class_folder / "lin" / EX01).symlink_to("/etc/passwd")
    students = found(tmp_path)
    assert "not a readable zip file" in students["bad"].problem
    assert "is a link" in students["lin"].problem


def test_unsafe_student_names_are_refused(tmp_path, class_folder):
    (class_folder / "-rf").mkdir()
    (class_folder / "-rf" / EX01).write_text("x")
    (refused,) = found(tmp_path).values()
    assert refused.student.startswith("refused_rf~") and "a student's name may hold only" in refused.problem


def test_a_folder_named_like_another_students_quarantine_name_gets_its_own_row(tmp_path, class_folder):
    """Five folders, five rows: a quarantine name holds a `~`, which no accepted name holds."""
    names = ["-rf", submissions._quarantined_name("-rf"), "ann", "ann b", "refused_ann_b"]
    for name in names:
        (class_folder / name).mkdir()
        (class_folder / name / EX01).write_text("x = 1\n")
    students = found(tmp_path)
    assert len(students) == len(names) and "ann" in students and "refused_ann_b" in students
    assert not any("two submissions are named" in (s.problem or "") for s in students.values())


def test_two_zips_differing_only_in_case_each_get_a_row_and_are_both_refused(tmp_path, class_folder):
    make_zip(class_folder / "dup.zip", {EX01: "x = 1\n"})
    make_zip(class_folder / "dup.ZIP", {EX01: "x = 2\n"})
    students = found(tmp_path)
    assert len(students) == 2 and "dup" in students
    assert all("two submissions are named dup" in s.problem and s.folder is None for s in students.values())


def test_the_fingerprint_covers_every_file_pycache_included(tmp_path, class_folder):
    """A swapped .pyc alone is a change: the sandbox never imports one, but a rerun must not keep stale results."""
    (class_folder / "ann" / "__pycache__").mkdir(parents=True)
    (class_folder / "ann" / EX01).write_text("A = 1\n")
    (class_folder / "ann" / "__pycache__" / "ex01_linear_model.cpython-311.pyc").write_bytes(b"one")
    first = found(tmp_path)["ann"].fingerprint
    (class_folder / "ann" / "__pycache__" / "ex01_linear_model.cpython-311.pyc").write_bytes(b"two")
    assert found(tmp_path)["ann"].fingerprint != first


def test_an_empty_folder_says_which_layout_it_expected(tmp_path, class_folder):
    with pytest.raises(NoSubmissions, match=r"expected .*<student>/ex01_linear_model.py .* or .*<student>.zip"):
        found(tmp_path)


def test_a_folder_wins_over_a_zip_of_the_same_name_and_the_notes_say_so(tmp_path, class_folder):
    (class_folder / "alice").mkdir()
    (class_folder / "alice" / EX01).write_text("A = 1\n")
    make_zip(class_folder / "alice.zip", {EX01: "raise SystemExit('planted')\n"})
    notes: list[str] = []
    students = discover(class_folder, tmp_path / "staging", notes)
    assert [(s.student, s.folder, s.problem) for s in students] == [("alice", class_folder / "alice", None)]
    assert notes == ["alice.zip was ignored: the folder alice/ beside it was graded (a folder wins over a zip of the same name)"]


def test_only_the_students_asked_for_are_unpacked_and_the_others_keep_their_fingerprints(tmp_path, class_folder):
    """A shard unpacks its own students' zips only; the class's roster (names and fingerprints) stays whole."""
    make_zip(class_folder / "ann.zip", {EX01: "x = 1\n"})
    make_zip(class_folder / "bob.zip", {"bob/" + EX01: "x = 2\n"})
    make_zip(class_folder / "cy.zip", {"../evil.py": "x = 3\n"})
    everyone = found(tmp_path)
    mine = {s.student: s for s in discover(class_folder, tmp_path / "shard", unpack=lambda student: student == "ann")}
    assert {name: s.fingerprint for name, s in mine.items()} == {name: s.fingerprint for name, s in everyone.items()}
    assert mine["ann"].folder is not None and (mine["ann"].folder / EX01).read_text() == "x = 1\n"
    assert mine["bob"].folder is None and mine["bob"].problem is None and mine["cy"].folder is None
    assert [p.name for p in (tmp_path / "shard" / "unpacked").iterdir()] == ["ann"]


# ------------------------------------------------------------------------------------- a class of damaged submissions


def patch(path: Path, *edits: tuple[bytes, int, bytes]) -> None:
    """Overwrite bytes of a zip: at `offset` after the first occurrence of `signature`, write `data`."""
    data = bytearray(path.read_bytes())
    for signature, offset, new in edits:
        at = data.index(signature) + offset
        data[at:at + len(new)] = new
    path.write_bytes(bytes(data))


def encrypted(path: Path, solution: str) -> None:
    """What `zip -e` makes: bit 0 of the flags set, in the member's local header and in the central directory."""
    make_zip(path, {EX01: solution})
    data = path.read_bytes()
    local, central = data.index(b"PK\x03\x04") + 6, data.index(b"PK\x01\x02") + 8
    patch(path, (b"PK\x03\x04", 6, bytes([data[local] | 1])), (b"PK\x01\x02", 8, bytes([data[central] | 1])))


def runs_past_its_end(path: Path, solution: str) -> None:
    """The headers say the stored member holds 10 MB; the file ends after a few kilobytes."""
    make_zip(path, {EX01: solution})
    size = (10_000_000).to_bytes(4, "little")
    patch(path, (b"PK\x03\x04", 18, size * 2), (b"PK\x01\x02", 20, size * 2))


def corrupt_deflate(path: Path, solution: str) -> None:
    """The member's compressed data starts with a block of the reserved type."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(EX01, solution)
    patch(path, (b"PK\x03\x04", 30 + len(EX01), b"\xff" * 16))


def dot_member(path: Path, solution: str) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(".", solution)


def deep_zip(path: Path, solution: str) -> None:
    make_zip(path, {"d/" * 1200 + EX01: solution})


def deep_folder(path: Path, solution: str) -> None:
    (path / EX01).write_text(solution)
    deep = path
    for _ in range(1200):  # os.makedirs recurses once per folder
        deep = deep / "d"
        deep.mkdir()
    (deep / EX01).write_text(solution)


def remove_deep(path: Path) -> None:
    """shutil.rmtree recurses once per folder too: remove the deep folder from its bottom up."""
    deep = path
    while (deep / "d").is_dir():
        deep = deep / "d"
    while deep != path:
        for child in deep.iterdir():
            child.unlink()
        deep.rmdir()
        deep = deep.parent


def notebook(path: Path, text: str) -> None:
    (path / "ex01_linear_model.ipynb").write_text(text)


def source_not_text(path: Path, solution: str) -> None:
    notebook(path, json.dumps({"cells": [{"cell_type": "code", "source": [1], "metadata": {}, "outputs": []}],
                               "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))


def nested_lists(path: Path, solution: str) -> None:
    notebook(path, "[" * 100_000 + "]" * 100_000)


def sparse_file(path: Path, solution: str) -> None:
    (path / EX01).write_text(solution)
    with open(path / "data.bin", "wb") as stream:
        stream.truncate(30 * 2**30)  # 30 GiB that take no disk


# entry in SUBMISSIONS -> (how it is made, what its every ex01 check says)
DAMAGED = {
    "encrypted.zip": (encrypted, "refused encrypted.zip: the zip is encrypted: hand it in again without a password"),
    "cut_short.zip": (runs_past_its_end, "refused cut_short.zip: ex01_linear_model.py runs past the end of the zip (the file is cut short); make the zip again and hand it in again"),
    "bad_deflate.zip": (corrupt_deflate, "refused bad_deflate.zip: ex01_linear_model.py is damaged (Error -3 while decompressing data: invalid block type); make the zip again and hand it in again"),
    "dot_member.zip": (dot_member, "refused dot_member.zip: a member is named '.', which is no file name; make the zip again from the exercise files"),
    "deep_zip.zip": (deep_zip, "is nested in more than 32 folders; hand in the exercise files only"),
    "deep_folder": (deep_folder, "is nested in more than 32 folders; hand in the exercise files only"),
    "source_not_text": (source_not_text, "ex01_linear_model.ipynb is not a readable notebook (the source of cell 1 is not text); save it again from Jupyter and hand it in again"),
    "nested_lists": (nested_lists, "ex01_linear_model.ipynb is not a readable notebook (its JSON is nested too deeply); save it again from Jupyter and hand it in again"),
    "sparse_file": (sparse_file, "refused: the folder holds more than 50 MiB (data.bin is 30 GiB); hand in the exercise files only"),
}


def row_name(entry: str) -> str:
    return entry.removesuffix(".zip")


@pytest.fixture(scope="module")
def damaged_class(tmp_path_factory):
    """One `grader grade` process over a class holding one of each damaged submission, a correct student, and a
    folder named like another's quarantine name: (SUBMISSIONS, OUT, the process's output)."""
    base = tmp_path_factory.mktemp("damaged")
    folder, out = base / "submissions", base / "out"
    folder.mkdir()
    solution = (ROOT / "solutions" / EX01).read_text()
    for entry, (make, _) in DAMAGED.items():
        if not entry.endswith(".zip"):
            (folder / entry).mkdir()
        make(folder / entry, solution)
    for name in ("passes", "-rf", submissions._quarantined_name("-rf")):
        (folder / name).mkdir()
        (folder / name / EX01).write_text(solution)

    def at_most_16_gib() -> None:  # a grader that read the sparse file into memory fails here, not the machine
        resource.setrlimit(resource.RLIMIT_AS, (16 * 2**30, resource.getrlimit(resource.RLIMIT_AS)[1]))

    try:
        done = subprocess.run([sys.executable, "-m", "grader", "grade", str(folder), "--out", str(out), "--seed", "5",
                               "--workers", "2", "--timeout", "5", "--quiet"], cwd=ROOT, capture_output=True, text=True,
                              timeout=600, preexec_fn=at_most_16_gib)
        yield folder, out, done.stdout + done.stderr
    finally:
        remove_deep(folder / "deep_folder")


def gradebook_rows(out: Path) -> dict[str, dict]:
    with open(out / "gradebook.csv", newline="") as stream:
        return {row["student"]: row for row in csv.DictReader(stream)}


@pytest.mark.slow
def test_a_class_of_damaged_submissions_is_graded_whole_with_a_row_for_every_folder_and_zip(damaged_class):
    folder, out, output = damaged_class
    rows = gradebook_rows(out)
    assert len(rows) == len(list(folder.iterdir())), output  # a quarantine name's twin too: no two merged
    full = sum(c.points for c in load_checks("ex01_linear_model", seed=5, hidden=True))
    assert float(rows["passes"]["ex01_linear_model"]) == full


@pytest.mark.slow
@pytest.mark.parametrize("entry", DAMAGED)
def test_each_damaged_submission_costs_its_own_student_with_a_one_line_reason(damaged_class, entry):
    folder, out, output = damaged_class
    assert row_name(entry) in gradebook_rows(out), output
    record = json.loads((out / row_name(entry) / "record.json").read_text())
    ex01 = [r for r in record["results"] if r["exercise"] == "ex01_linear_model"]
    reason = DAMAGED[entry][1]
    assert ex01 and all(r["status"] == "failed" and reason in r["message"] and "\n" not in r["message"] for r in ex01), ex01[0]["message"]
