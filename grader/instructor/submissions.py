"""Finding a class's submissions: `SUBMISSIONS/<student>/` folders and `SUBMISSIONS/<student>.zip` archives.

Each student becomes a `Submission`: the folder to grade (a zip is unpacked into a staging folder first, after
checks that refuse unsafe archives), a fingerprint of the submitted files (to skip unchanged students on a rerun),
or the reason the submission was refused. Each entry is read on its own, bounded in depth, size and file count and
by streaming: whatever is wrong with one (a damaged zip, a bad notebook, a huge file) refuses that student only,
with a line saying what to do.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Callable

from grader.checks import EXERCISES
from grader.model import STUB_MESSAGE
from grader.notebook import module_source

SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}")
MAX_UNPACKED = 50 * 1024 * 1024  # bytes of files in one submission (a folder, or a zip unpacked)
MAX_ARCHIVE = 2 * MAX_UNPACKED  # bytes of a zip file itself (its members are checked on their own)
MAX_MEMBERS = 2000  # files and folders in one submission
MAX_DEPTH = 32  # folders a file may be nested in
CHUNK = 1 << 20
AGAIN = "make the zip again from the exercise files"


@dataclass(frozen=True)
class Submission:
    """One student's files: `folder` to grade, or `problem` saying why there is nothing to grade. `unreadable`:
    (exercise, why) for an exercise whose only file could not be read (a damaged notebook)."""

    student: str
    fingerprint: str
    folder: Path | None = None
    problem: str | None = None
    unreadable: tuple[tuple[str, str], ...] = ()


class NoSubmissions(ValueError):
    """SUBMISSIONS is missing, or holds nothing that looks like a submission."""


class Refused(ValueError):
    """Why a submission cannot be graded, on one line that says what to do."""


def expected_layout(submissions: Path) -> str:
    return (f"expected {submissions / '<student>'}/{EXERCISES[0]}.py (a folder per student) "
            f"or {submissions / '<student>.zip'} (the exercise files at the archive's root or in one folder)")


def discover(submissions: Path, staging: Path, notes: list[str] | None = None,
             unpack: Callable[[str], bool] | None = None) -> list[Submission]:
    """Every student in `submissions`, sorted by name; zips are unpacked under `staging`.

    A folder wins over a zip of the same name (`alice/` beside `alice.zip`: the folder is graded, and `notes` says
    the zip was ignored), so that nothing placed beside a student's folder can get it refused. Where `unpack` is
    given, only the students it names are unpacked and converted (a shard's own); the others are listed by name and
    fingerprint. Every folder or zip gets its own row: an unsafe name is replaced by a quarantine name, which holds
    a `~` that no accepted name holds.
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
        elif entry.is_dir():
            student = entry.name
            folders.add(student)
        elif entry.suffix.lower() == ".zip" and entry.is_file():
            student = entry.name[: -len(".zip")]
            if student in folders:
                if notes is not None:
                    notes.append(f"{_shown(entry.name)} was ignored: the folder {_shown(student)}/ beside it was graded (a folder wins over a zip of the same name)")
                continue
        else:
            continue
        submission = read_submission(entry, student, staging, unpack=SAFE_NAME.fullmatch(student) is not None and unpack(student))
        if not SAFE_NAME.fullmatch(student):
            submission = Submission(_quarantined_name(entry.name), submission.fingerprint,
                                    problem=f"refused {_shown(entry.name)!r}: a student's name may hold only letters, digits and . _ @ + - (rename it)")
        elif student in found:
            problem = f"two submissions are named {student} (zips whose names differ only in case?); keep one of them"
            found[student] = dataclasses.replace(found[student], folder=None, problem=problem, unreadable=())
            submission = Submission(_quarantined_name(entry.name), submission.fingerprint, problem=problem)
        found[submission.student] = submission
    if not found:
        raise NoSubmissions(f"no submissions found in {submissions}: {expected_layout(submissions)}")
    return [found[name] for name in sorted(found)]


def read_submission(entry: Path, student: str, staging: Path, *, unpack: bool) -> Submission:
    """One folder or zip of SUBMISSIONS: fingerprinted, and where `unpack`, unpacked and its notebooks converted.
    Anything that goes wrong refuses this student only; the fingerprint never depends on `unpack`."""
    fingerprint = None
    try:
        if entry.is_symlink():
            raise Refused(f"{_shown(entry.name)} is a link; submit a folder or a zip file")
        if entry.is_dir():
            fingerprint, folder = _fingerprint_folder(entry), entry
        else:
            fingerprint = _fingerprint_zip(entry)
            if not unpack:
                return Submission(student, fingerprint)  # another shard's: its fingerprint only
            folder = _unzip(entry, staging / "unpacked" / student)
        if not unpack or not any(p.suffix == ".ipynb" and p.stem in EXERCISES for p in _files(folder)):
            return Submission(student, fingerprint, folder=folder)
        converted = staging / "notebooks" / student  # notebooks as their code cells, beside the .py files
        unreadable: dict[str, str] = {}
        collect_submission(folder, converted, unreadable)
        return Submission(student, fingerprint, folder=converted, unreadable=tuple(unreadable.items()))
    except Refused as error:
        return Submission(student, fingerprint or _digest(str(error).encode()), problem=str(error))
    except Exception as error:  # noqa: BLE001 - one submission must not stop the class
        problem = (f"refused {_shown(entry.name)}: the grader could not read it ({type(error).__name__}: {_shown(str(error))}); "
                   f"hand in the exercise files again, and report it if it persists")
        return Submission(student, fingerprint or _digest(problem.encode()), problem=problem)


def collect_submission(submission: Path, target: Path, unreadable: dict[str, str] | None = None) -> tuple[list[str], list[str]]:
    """Copy the exercise files of `submission` (anywhere below it; the shallowest wins) into `target`, notebooks as
    their code cells. Where an exercise is there as `.py` and `.ipynb` alike (the bundle ships both), the one with
    fewer untouched stubs wins, the `.py` on a tie; a file that cannot be read (a damaged notebook) does not count,
    and where it was the exercise's only one, `unreadable` gets why. Returns (exercises found, exercises missing);
    Refused when the folder exceeds the bounds of a submission."""
    target.mkdir(parents=True, exist_ok=True)
    files = [p for p in _files(submission) if "__MACOSX" not in p.parts]
    found = []
    for exercise in EXERCISES:
        candidates, problems = [], []
        for path in (p for p in files if p.stem == exercise and p.suffix in (".py", ".ipynb")):
            try:
                candidates.append((path, module_source(path)))
            except (ValueError, OSError) as error:
                problems.append(_shown(str(error), 300))
        if not candidates:
            if problems and unreadable is not None:
                unreadable[exercise] = problems[0]
            continue
        _, text = min(candidates, key=lambda c: (len(c[0].relative_to(submission).parts), c[1].count(STUB_MESSAGE),
                                                 c[0].suffix != ".py", str(c[0])))
        (target / f"{exercise}.py").write_text(text, encoding="utf-8")
        found.append(exercise)
    return found, [e for e in EXERCISES if e not in found]


# ------------------------------------------------------------------------------------------------- folders


def walk(folder: Path) -> list[tuple[PurePosixPath, os.stat_result]]:
    """Everything below `folder` (its path relative to `folder`, and its status; links not followed), in the order
    of the paths' parts. Refused past MAX_MEMBERS entries, MAX_DEPTH folders deep or MAX_UNPACKED bytes of files."""
    found: list[tuple[PurePosixPath, os.stat_result]] = []
    size, folders = 0, [PurePosixPath()]
    while folders:
        parent = folders.pop()
        with os.scandir(folder.joinpath(*parent.parts)) as entries:
            for entry in entries:
                path, status = parent / entry.name, entry.stat(follow_symlinks=False)
                if len(path.parts) > MAX_DEPTH:
                    raise Refused(f"refused: {_shown(path.as_posix())} is nested in more than {MAX_DEPTH} folders; "
                                  f"hand in the exercise files only")
                found.append((path, status))
                if len(found) > MAX_MEMBERS:
                    raise Refused(f"refused: the folder holds more than {MAX_MEMBERS} files; hand in the exercise files only")
                if stat.S_ISDIR(status.st_mode):
                    folders.append(path)
                elif stat.S_ISREG(status.st_mode):
                    size += status.st_size
                    if size > MAX_UNPACKED:
                        raise Refused(f"refused: the folder holds more than {MAX_UNPACKED // 2**20} MiB ({_shown(path.as_posix())} "
                                      f"is {_size(status.st_size)}); hand in the exercise files only")
    return sorted(found, key=lambda item: item[0].parts)


def _files(folder: Path) -> list[Path]:
    """The regular files below `folder` (no link, no device or pipe), bounded as `walk` is."""
    return [folder.joinpath(*path.parts) for path, status in walk(folder) if stat.S_ISREG(status.st_mode)]


def _fingerprint_folder(folder: Path) -> str:
    """A digest of every file's path and content below `folder` (__pycache__ included), each file streamed;
    Refused for a link, or a folder past the bounds of `walk`."""
    digest = hashlib.sha256()
    for path, status in walk(folder):
        if stat.S_ISLNK(status.st_mode):
            raise Refused(f"refused: {_shown(path.as_posix())} is a link; submit the file itself")
        if stat.S_ISREG(status.st_mode):
            digest.update(path.as_posix().encode(errors="surrogateescape") + b"\0" + _file_digest(folder.joinpath(*path.parts)).encode())
    return digest.hexdigest()


def _file_digest(path: Path) -> str:
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------------------------------------------- zips


def _fingerprint_zip(archive: Path) -> str:
    """The zip file's digest, streamed (a zip too large to grade: a digest of its size)."""
    size = archive.stat().st_size
    return _file_digest(archive) if size <= MAX_ARCHIVE else _digest(f"a zip of {size} bytes".encode())


def _unzip(archive: Path, target: Path) -> Path:
    """Unpack `archive` into `target` (from its one top-level folder, if it has one), streaming each file within
    its header's size; Refused, saying why and what to do, for an unsafe or damaged zip."""
    name = _shown(archive.name)
    if archive.stat().st_size > MAX_ARCHIVE:
        raise Refused(f"refused {name}: the zip is larger than {MAX_ARCHIVE // 2**20} MiB; hand in the exercise files only")
    member = None
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = zipped.infolist()
            problem = unsafe_member(members)
            if problem:
                raise Refused(f"refused {name}: {problem}")
            prefix = _common_folder(members)
            target.mkdir(parents=True, exist_ok=True)
            for member in members:
                if member.is_dir() or member.filename.startswith("__MACOSX/"):
                    continue
                relative = PurePosixPath(member.filename)
                destination = target.joinpath(*(relative.relative_to(prefix) if prefix else relative).parts)
                destination.parent.mkdir(parents=True, exist_ok=True)
                with zipped.open(member) as source, open(destination, "wb") as sink:
                    if _copy(source, sink, member.file_size) > member.file_size:
                        raise Refused(f"refused {name}: {_shown(member.filename)} is larger than its header says; make the zip again")
    except Refused:
        raise
    except (EOFError, zipfile.BadZipFile, zlib.error, NotImplementedError, OSError, ValueError) as error:
        raise Refused(f"refused {name}: {_zip_damage(member, error)}") from None
    return target


def _copy(source: BinaryIO, sink: BinaryIO, limit: int) -> int:
    """Copy in chunks, stopping once past `limit` bytes; the bytes read."""
    copied = 0
    while copied <= limit and (chunk := source.read(CHUNK)):
        sink.write(chunk)
        copied += len(chunk)
    return copied


def _zip_damage(member: zipfile.ZipInfo | None, error: BaseException) -> str:
    """What is wrong with a zip that could not be unpacked, and what to do."""
    detail = _shown(str(error) or type(error).__name__, 200)
    if member is None:
        return f"not a readable zip file ({detail}); make the zip again and hand it in again"
    where = _shown(member.filename)
    if isinstance(error, EOFError):
        return f"{where} runs past the end of the zip (the file is cut short); make the zip again and hand it in again"
    if isinstance(error, NotImplementedError):
        return f"{where} is compressed in a way the grader cannot read ({detail}); make the zip again with the usual (deflate) compression"
    if isinstance(error, OSError):
        return f"{where} could not be unpacked ({detail}); make the zip again and hand it in again"
    return f"{where} is damaged ({detail}); make the zip again and hand it in again"


def unsafe_member(members: list[zipfile.ZipInfo]) -> str | None:
    """Why an archive may not be unpacked: a password, a path outside it or too deep, a link, a member that is no
    file name, too many files, or too many bytes; else None."""
    if len(members) > MAX_MEMBERS:
        return f"it holds {len(members)} files (at most {MAX_MEMBERS}); hand in the exercise files only"
    total = 0
    for member in members:
        name, shown = member.filename, _shown(member.filename)
        path = PurePosixPath(name.replace("\\", "/"))
        if member.flag_bits & 0x1:
            return "the zip is encrypted: hand it in again without a password"
        if name.startswith(("/", "\\")) or path.is_absolute() or re.match(r"[A-Za-z]:", name):
            return f"{shown} is an absolute path; {AGAIN}"
        if ".." in path.parts:
            return f"{shown} points outside the archive (..); {AGAIN}"
        if not path.parts and not member.is_dir():
            return f"a member is named {shown!r}, which is no file name; {AGAIN}"
        if len(path.parts) > MAX_DEPTH:
            return f"{shown} is nested in more than {MAX_DEPTH} folders; hand in the exercise files only"
        mode = member.external_attr >> 16
        if stat.S_ISLNK(mode):
            return f"{shown} is a link; {AGAIN}"
        total += member.file_size
        if total > MAX_UNPACKED:
            return f"it unpacks to more than {MAX_UNPACKED // 2**20} MiB; hand in the exercise files only"
    return None


def _common_folder(members: list[zipfile.ZipInfo]) -> str | None:
    """The one top-level folder every file is in, when the exercise files are not at the archive's root."""
    names = [PurePosixPath(m.filename) for m in members if not m.is_dir() and not m.filename.startswith("__MACOSX/")]
    if not names or any(len(n.parts) < 2 for n in names):
        return None
    tops = {n.parts[0] for n in names}
    return tops.pop() if len(tops) == 1 else None


# --------------------------------------------------------------------------------------------------- names


def _quarantined_name(raw: str) -> str:
    """A safe, recognisable stand-in for an unsafe name (its results still need a row). It holds a `~`, which no
    accepted name does, so it can never be another student's name."""
    cleaned = re.sub(r"[^A-Za-z0-9._@+-]", "_", raw).lstrip("._-") or "student"
    return f"refused_{cleaned[:60]}~{_digest(os.fsencode(raw))[:12]}"


def _size(count: int) -> str:
    return f"{count / 2**30:.0f} GiB" if count >= 2**30 else f"{count / 2**20:.1f} MiB"


def _shown(text: str, limit: int = 80) -> str:
    """`text` for a one-line message: non-printable characters as `?`, the middle of a long text cut."""
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= limit else f"{text[: limit // 2]}…{text[-(limit // 2):]}"
