"""`grader report`: the state of a class in OUT (who is graded, missing or failed), from which the class files are
rebuilt."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from grader.model import CheckResult

@dataclass
class ClassState:
    """What OUT holds for a class: each student's current results, and who is missing or failed and why."""

    out: Path
    roster: list[str]  # every student of the class, as the latest grading run saw it ([] when no run recorded it)
    graded: dict[str, list[CheckResult]]
    missing: dict[str, str]  # student -> why their results are not (or no longer) there
    failed: dict[str, str]  # student -> what went wrong when a run tried to grade them
    notes: list[str]  # what the runs noted (a sandbox mechanism a machine lacks)
    unfinished: list[str]  # shard runs that started and have not recorded their end
    shards: int  # N of the latest sharded run (1 when unsharded)
    written: bool = False  # whether gradebook.csv and summary.html were rebuilt

    @property
    def complete(self) -> bool:
        return not self.missing and not self.failed

    def rerun(self) -> list[str]:
        """The shards (K/N) that hold a missing or failed student."""
        from grader.instructor.shards import shard_of

        return [f"{k}/{self.shards}" for k in sorted({shard_of(s, self.shards) for s in [*self.missing, *self.failed]})]

    def how_to_finish(self) -> str:
        if self.shards == 1:
            return f"run `grader grade SUBMISSIONS --out {self.out}` again"
        return f"run `grader grade SUBMISSIONS --out {self.out} --shard K/N` for K/N in {', '.join(self.rerun())}"

    def class_notes(self) -> list[str]:
        """The notes for summary.html: the runs' notes, every failed student, and the missing ones with the fix."""
        notes = [*self.notes, *self.failed.values()]
        if self.missing:
            notes.append(f"{len(self.missing)} of {len(self.roster)} students are not graded yet: {', '.join(sorted(self.missing))} "
                         f"(to finish, {self.how_to_finish()}, then `grader report`)")
        return notes

    def headline(self) -> str:
        where = "gradebook.csv and summary.html rebuilt" if self.written else "the class files were left as they are (locked)"
        size = len(self.roster) or len(self.graded)
        return f"class in {self.out}: {len(self.graded)} of {size} students graded; {where}"

    def describe(self, limit: int = 50) -> str:
        """The headline, then who is missing or failed and which shards to run again."""
        lines = [self.headline()]
        if not self.roster:
            lines.append("no grading run recorded the class's roster here (OUT/_class/), so missing students cannot be named")
        for title, students in (("missing", self.missing), ("failed", self.failed)):
            if students:
                lines.append(f"{title} ({len(students)}):")
                lines.extend(f"  {name}: {students[name]}" for name in sorted(students)[:limit])
                if len(students) > limit:
                    lines.append(f"  … and {len(students) - limit} more (all are named in summary.html)")
        lines.extend(f"shard {run} has not recorded its end" for run in self.unfinished)
        if not self.complete:
            lines.append(f"to finish: {self.how_to_finish()}")
        return "\n".join(lines)


def recorded_student(record_path: Path) -> str:
    """The student a record belongs to (its folder may be `<name>~student`, apart from the class's own files)."""
    try:
        return str(json.loads(record_path.read_text())["student"])
    except (OSError, ValueError, KeyError, TypeError):
        return record_path.parent.name


def class_state(out: Path) -> ClassState:
    """Read OUT: the latest run's roster, every student's record, and what each shard's last run said."""
    from grader.instructor.batch import RECORD, current_results, read_record
    from grader.instructor.shards import read_shard_files, stored_seed

    runs = read_shard_files(out)
    latest = runs[-1] if runs else {}
    if runs:
        roster = dict(latest["roster"])
    else:  # an OUT written before runs recorded their roster: every student folder with a record
        roster = {recorded_student(p): None for p in sorted(Path(out).glob(f"*/{RECORD}"))}
    seed = stored_seed(out) if runs else None
    graded, missing = {}, {}
    for student, fingerprint in sorted(roster.items()):
        record = read_record(out, student)
        results = current_results(record, fingerprint if runs else (record or {}).get("fingerprint"),
                                  latest.get("checks") if runs else (record or {}).get("checks"), seed)
        if results is not None:
            graded[student] = results
        else:
            missing[student] = ("not graded" if record is None else
                                "its results are for other files, checks or seed than the class's now: grade it again")
    failed = {student: why for run in runs for student, why in (run.get("failed") or {}).items() if student in missing}
    for student in failed:
        missing.pop(student)
    notes = list(dict.fromkeys(note for run in runs for note in run.get("notes") or []))
    shards = int(str(latest.get("shard", "1/1")).split("/")[-1]) if runs else 1
    unfinished = [f"{run['shard']} (host {run.get('host')}, pid {run.get('pid')}, {whereabouts(run)})"
                  for run in runs if run.get("state") == "running" and str(run.get("shard")).endswith(f"/{shards}")]
    return ClassState(Path(out), list(roster) if runs else [], graded, missing, failed, notes, unfinished, shards)


def whereabouts(run: dict) -> str:
    """Whether a shard run that has not recorded its end is still at work."""
    from grader.instructor.shards import MACHINE, process_alive

    if run.get("machine") != MACHINE or not isinstance(run.get("pid"), int):
        return "elsewhere: still running, or stopped"
    return "still running" if process_alive(run["pid"], run.get("started")) else "stopped before its end"


def rebuild_class(out: Path) -> ClassState:
    """gradebook.csv and summary.html rebuilt from the students' records in OUT, under the class lock."""
    from grader.instructor.gradebook import write_class
    from grader.instructor.shards import class_lock

    with class_lock(out) as held:
        state = class_state(out)  # read under the lock: a later rebuild never writes an older view over a newer one
        if held:
            write_class(out, state.graded, notes=state.class_notes())
            state.written = True
    return state


def report_class(out: Path) -> int:
    """`grader report OUT`: rebuild the class files and say who is missing; 0 when the class is complete, 1 when a
    student is missing or failed, 2 when OUT holds no graded class."""
    import sys

    if not Path(out).is_dir() or (not any(Path(out).glob("*/record.json")) and not any(Path(out).glob("_class/shard-*"))):
        print(f"grader report: {out} holds no graded students; give the --out folder of `grader grade`", file=sys.stderr)
        return 2
    state = rebuild_class(out)
    print(state.describe())
    return 0 if state.complete and state.written else 1
