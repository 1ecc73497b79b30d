"""Finding submissions: folders, zips (at the root or in one folder), and what is refused."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest

from grader.instructor.submissions import NoSubmissions, discover

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
    assert refused.student.startswith("refused_rf_") and "a student's name may hold only" in refused.problem


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
