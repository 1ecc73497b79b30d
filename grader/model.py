"""Checks are data: a probe says what to run in the student's module, a judge turns what came back into a verdict.

A probe is plain data (a recipe name from `grader.probes` and its arguments), so it can cross a process boundary.
What a probe produced comes back as an `Outcome`: the value it returned (already decoded from plain data), the
exception it raised, or why nothing came back at all (a timeout, a crash). Judges only ever see outcomes; they never
touch an object the student made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Sequence

STUB_MESSAGE = "replace this line with your code"  # what a generated stub raises NotImplementedError with
Visibility = Literal["public", "hidden"]
Status = Literal["passed", "failed", "skipped"]


@dataclass(frozen=True)
class Probe:
    """Run `recipe` (a name in `grader.probes`) on the student's module with plain-data `params`."""

    recipe: str
    params: dict
    timeout: float | None = None  # seconds; None: the runner's default

    @property
    def function(self) -> str | None:
        """The student's function this probe calls, where it calls one."""
        return self.params.get("function")

    def describe_inputs(self) -> str:
        """`x=2.0, y=4.0` style rendering of a call's arguments, for messages."""
        from grader.compare import render_inputs

        return render_inputs(self.params.get("args", ()), self.params.get("kwargs", {}), self.params.get("names"))


def call(function: str, *args: Any, names: Sequence[str] | None = None, timeout: float | None = None, **kwargs: Any) -> Probe:
    """A probe that calls `function(*args, **kwargs)` in the student's module; `names` label the positional args."""
    return Probe("call", {"function": function, "args": list(args), "kwargs": kwargs, "names": list(names or ())}, timeout)


@dataclass(frozen=True)
class Returned:
    """The probe ran to the end and produced `value` (plain data, decoded)."""

    value: Any


@dataclass(frozen=True)
class Raised:
    """The student's code raised `type_name(message)`; `where` is the line of the student's file it came from."""

    type_name: str
    message: str
    where: str = ""

    def describe(self) -> str:
        if self.type_name == "NotImplementedError" and self.message in ("", STUB_MESSAGE):
            return "not implemented yet (the stub still raises NotImplementedError)"
        text = f"raised {self.type_name}: {self.message}" if self.message else f"raised {self.type_name}"
        return f"{text} ({self.where})" if self.where else text


@dataclass(frozen=True)
class Lost:
    """Nothing came back: the file is missing or broken, or the process running the probe timed out or died."""

    reason: str

    def describe(self) -> str:
        return self.reason


Outcome = Returned | Raised | Lost


@dataclass(frozen=True)
class Verdict:
    """A judge's decision; `message` explains a failure, `hint` names a recognised mistake."""

    passed: bool
    message: str = ""
    hint: str | None = None
    extras: dict = field(default_factory=dict)  # plain data for feedback pages, e.g. {"curves": {...}}

    @classmethod
    def ok(cls, extras: dict | None = None) -> "Verdict":
        return cls(True, extras=extras or {})

    @classmethod
    def fail(cls, message: str, hint: str | None = None, extras: dict | None = None) -> "Verdict":
        return cls(False, message, hint, extras or {})


Judge = Callable[["Check", Sequence[tuple[Probe, Outcome]]], Verdict]


@dataclass(frozen=True)
class Check:
    """One graded statement about one exercise: run `probes`, then `judge` what came back.

    `requires` names a capability (``"cuda"``) without which the check is skipped: its points leave the maximum.
    `expects_errors` hands raised exceptions to the judge instead of failing the check on them.
    """

    exercise: str
    name: str
    points: float
    visibility: Visibility
    probes: tuple[Probe, ...]
    judge: Judge
    requires: str | None = None
    expects_errors: bool = False
    description: str = ""

    @property
    def qualified_name(self) -> str:
        return f"{self.exercise}.{self.name}"


@dataclass(frozen=True)
class CheckResult:
    """The verdict of one check for one student, with everything a gradebook row or a feedback page needs."""

    exercise: str
    name: str
    status: Status
    score: float
    max_score: float
    visibility: Visibility
    message: str = ""
    hint: str | None = None
    extras: dict = field(default_factory=dict)  # plain data for feedback pages (e.g. training curves)

    @classmethod
    def of(cls, check: Check, verdict: Verdict) -> "CheckResult":
        """`check` judged by `verdict`: all its points when passed, none when failed, out of its points."""
        score = check.points if verdict.passed else 0.0
        return cls(check.exercise, check.name, "passed" if verdict.passed else "failed", score, check.points,
                   check.visibility, verdict.message, verdict.hint, verdict.extras)

    @classmethod
    def skipped(cls, check: Check, reason: str) -> "CheckResult":
        """`check` not run here (`reason` says why): none of its points, and none out of the maximum either."""
        return cls(check.exercise, check.name, "skipped", 0.0, 0.0, check.visibility, message=reason)

    @property
    def qualified_name(self) -> str:
        return f"{self.exercise}.{self.name}"

    @property
    def output(self) -> str:
        """The failure text as a student reads it: the message, then the `Hint:` line."""
        lines = [self.message] if self.message else []
        if self.hint:
            lines.append(f"Hint: {self.hint}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "exercise": self.exercise,
            "name": self.name,
            "status": self.status,
            "score": self.score,
            "max_score": self.max_score,
            "visibility": self.visibility,
            "message": self.message,
            "hint": self.hint,
            "extras": self.extras,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "CheckResult":
        return cls(**data)
