"""Finding a class's submissions: `SUBMISSIONS/<student>/` folders and `SUBMISSIONS/<student>.zip` archives.

Each student becomes a `Submission`: the folder to grade (a zip is unpacked into a staging folder first, after
checks that refuse unsafe archives), a fingerprint of the submitted files (to skip unchanged students on a rerun),
or the reason the submission was refused.
"""

from __future__ import annotations

import hashlib
import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable

from grader.checks import EXERCISES
from grader.model import STUB_MESSAGE
from grader.notebook import module_text

SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}")
MAX_UNPACKED = 50 * 1024 * 1024
MAX_MEMBERS = 2000


@dataclass(frozen=True)
class Submission:
    """One student's files: `folder` to grade, or `problem` saying why there is nothing to grade."""

    student: str
    fingerprint: str
    folder: Path | None = None
    problem: str | None = None


class NoSubmissions(ValueError):
    """SUBMISSIONS is missing, or holds nothing that looks like a submission."""


def expected_layout(submissions: Path) -> str:
    return (f"expected {submissions / '<student>'}/{EXERCISES[0]}.py (a folder per student) "
            f"or {submissions / '<student>.zip'} (the exercise files at the archive's root or in one folder)")


def discover(submissions: Path, staging: Path, notes: list[str] | None = None,
             unpack: Callable[[str], bool] | None = None) -> list[Submission]:
    """Every student in `submissions`, sorted by name; zips are unpacked under `staging`.

    A folder wins over a zip of the same name (`alice/` beside `alice.zip`: the folder is graded, and `notes` says
    the zip was ignored), so that nothing placed beside a student's folder can get it refused. Where `unpack` is
    given, only the students it names are unpacked and converted (a shard's own); the others are listed by name and
    fingerprint.
    """
    unpack = unpack or (lambda student: True)
    if not submissions.is_dir():
        raise NoSubmissions(f"no folder {submissions}; {expected_layout(submissions)}")
    found: dict[str, Submission] = {}
    folders: set[str] = set()
    for entry in sorted(submissions.iterdir()):
        if entry.name.startswith(".") or entry.name == "__MACOSX":
            continue
        if entry.is_symlink():
            student = entry.name.removesuffix(".zip")
            found[student] = Submission(student, _digest(entry.name.encode()), problem=f"{entry.name} is a link; submit a folder or a zip file")
            continue
        if entry.is_dir():
            student = entry.name
            submission = _from_folder(student, entry)
            folders.add(student)
        elif entry.suffix.lower() == ".zip" and entry.is_file():
            student = entry.name[: -len(".zip")]
            if student in folders:
                if notes is not None:
                    notes.append(f"{entry.name} was ignored: the folder {student}/ beside it was graded (a folder wins over a zip of the same name)")
                continue
            if SAFE_NAME.fullmatch(student) and not unpack(student):
                submission = Submission(student, _digest(entry.read_bytes()))  # another shard's: its fingerprint only
            else:
                submission = _from_zip(student, entry, staging / "unpacked")
        else:
            continue
        if submission.folder is not None and unpack(student) and any(p.suffix == ".ipynb" and p.stem in EXERCISES for p in submission.folder.rglob("*.ipynb")):
            converted = staging / "notebooks" / student  # notebooks as their code cells, beside the .py files
            collect_submission(submission.folder, converted)
            submission = Submission(student, submission.fingerprint, folder=converted)
        if not SAFE_NAME.fullmatch(student):
            student = _quarantined_name(entry.name)
            submission = Submission(student, submission.fingerprint, problem=f"refused {entry.name!r}: a student's name may hold only letters, digits and . _ @ + - (rename it)")
        if student in found:
            submission = Submission(student, submission.fingerprint, problem=f"two submissions are named {student} (zips whose names differ only in case?); keep one of them")
        found[student] = submission
    if not found:
        raise NoSubmissions(f"no submissions found in {submissions}: {expected_layout(submissions)}")
    return [found[name] for name in sorted(found)]


def collect_submission(submission: Path, target: Path) -> tuple[list[str], list[str]]:
    """Copy the exercise files of `submission` (anywhere below it; the shallowest wins) into `target`, notebooks as
    their code cells. Where an exercise is there as `.py` and `.ipynb` alike (the bundle ships both), the one with
    fewer untouched stubs wins, the `.py` on a tie. Returns (exercises found, exercises missing)."""
    target.mkdir(parents=True, exist_ok=True)
    files = [p for p in submission.rglob("*") if p.is_file() and not p.is_symlink() and "__MACOSX" not in p.parts]
    found = []
    for exercise in EXERCISES:
        candidates = [(p, module_text(p)) for p in files if p.stem == exercise and p.suffix in (".py", ".ipynb")]
        candidates = [(p, text) for p, text in candidates if text is not None]  # an unreadable notebook: missing
        if not candidates:
            continue
        _, text = min(candidates, key=lambda c: (len(c[0].relative_to(submission).parts), c[1].count(STUB_MESSAGE),
                                                 c[0].suffix != ".py", str(c[0])))
        (target / f"{exercise}.py").write_text(text, encoding="utf-8")
        found.append(exercise)
    return found, [e for e in EXERCISES if e not in found]


def _quarantined_name(raw: str) -> str:
    """A safe, recognisable stand-in for an unsafe name (its results still need a row)."""
    cleaned = re.sub(r"[^A-Za-z0-9._@+-]", "_", raw).lstrip("._-") or "student"
    return f"refused_{cleaned[:60]}_{_digest(raw.encode())[:8]}"


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _from_folder(student: str, folder: Path) -> Submission:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if "__pycache__" in path.parts:
            continue
        if path.is_symlink():
            return Submission(student, _digest(relative.encode()), problem=f"refused: {relative} is a link; submit the file itself")
        if path.is_file():
            digest.update(relative.encode() + b"\0" + _digest(path.read_bytes()).encode())
    return Submission(student, digest.hexdigest(), folder=folder)


def _from_zip(student: str, archive: Path, staging: Path) -> Submission:
    fingerprint = _digest(archive.read_bytes())
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = zipped.infolist()
            problem = unsafe_member(members)
            if problem:
                return Submission(student, fingerprint, problem=f"refused {archive.name}: {problem}")
            target = staging / student
            prefix = _common_folder(members)
            for member in members:
                if member.is_dir() or member.filename.startswith("__MACOSX/"):
                    continue
                relative = PurePosixPath(member.filename).relative_to(prefix) if prefix else PurePosixPath(member.filename)
                destination = target.joinpath(*relative.parts)
                destination.parent.mkdir(parents=True, exist_ok=True)
                with zipped.open(member) as source:
                    data = source.read(MAX_UNPACKED + 1)
                if len(data) > member.file_size:  # the header lied about the size
                    return Submission(student, fingerprint, problem=f"refused {archive.name}: {member.filename} is larger than its header says")
                destination.write_bytes(data)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as error:
        return Submission(student, fingerprint, problem=f"refused {archive.name}: not a readable zip file ({error})")
    (staging / student).mkdir(parents=True, exist_ok=True)
    return Submission(student, fingerprint, folder=staging / student)


def unsafe_member(members: list[zipfile.ZipInfo]) -> str | None:
    """Why an archive may not be unpacked: a path outside it, a link, a password, too many files, or too many bytes;
    else None."""
    if len(members) > MAX_MEMBERS:
        return f"it holds {len(members)} files (at most {MAX_MEMBERS})"
    total = 0
    for member in members:
        name = member.filename
        path = PurePosixPath(name.replace("\\", "/"))
        if name.startswith(("/", "\\")) or path.is_absolute() or re.match(r"[A-Za-z]:", name):
            return f"{name} is an absolute path"
        if ".." in path.parts:
            return f"{name} points outside the archive (..)"
        mode = member.external_attr >> 16
        if stat.S_ISLNK(mode):
            return f"{name} is a link"
        if member.flag_bits & 0x1:
            return f"{name} is encrypted; submit the zip without a password"
        total += member.file_size
        if total > MAX_UNPACKED:
            return f"it unpacks to more than {MAX_UNPACKED // 2**20} MiB"
    return None


def _common_folder(members: list[zipfile.ZipInfo]) -> str | None:
    """The one top-level folder every file is in, when the exercise files are not at the archive's root."""
    names = [PurePosixPath(m.filename) for m in members if not m.is_dir() and not m.filename.startswith("__MACOSX/")]
    if not names or any(len(n.parts) < 2 for n in names):
        return None
    tops = {n.parts[0] for n in names}
    return tops.pop() if len(tops) == 1 else None
