"""Checks are data: a probe says what to run in the student's module, a judge turns what came back into a verdict.

A probe is plain data (a recipe name from `grader.probes` and its arguments), so it can cross a process boundary.
What a probe produced comes back as an `Outcome`: the value it returned (already decoded from plain data), the
exception it raised, or why nothing came back at all (a timeout, a crash). Judges only ever see outcomes; they never
touch an object the student made.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable, Generic, Literal, Sequence, TypeVar

STUB_MESSAGE = "replace this line with your code"  # what a generated stub raises NotImplementedError with
STUB_DESCRIPTION = "not implemented yet (the stub still raises NotImplementedError)"  # how an outcome reads when it did
Visibility = Literal["public", "hidden"]
Status = Literal["passed", "failed", "skipped"]


T = TypeVar("T")
REQUIRED = object()


class Argument(Generic[T]):
    """One of a probe's arguments, read from `Probe.params` under the attribute's own name: `probe.x`, not
    `probe.params["x"]`. `default` is what an optional argument reads as when the probe does not set it."""

    def __init__(self, doc: str, default: Any = REQUIRED, convert: Callable[[Any], T] | None = None) -> None:
        self.__doc__, self.default, self.convert = doc, default, convert

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, probe: "Probe | None", owner: type | None = None) -> T:
        if probe is None:
            return self  # type: ignore[return-value]  # the descriptor itself, for help() and docs
        if self.name in probe.params and probe.params[self.name] is not None:
            value = probe.params[self.name]
        elif self.default is REQUIRED:
            raise AttributeError(f"a {probe.recipe} probe has no argument {self.name!r}")
        else:
            value = self.default
        return self.convert(value) if self.convert else value


@dataclass(frozen=True)
class Probe:
    """Run `recipe` (a name in `grader.probes`) on the student's module with plain-data `params`.

    Read the arguments through their typed attributes (`args`, `kwargs`, `x`, `state_dict`, …), never by string keys.
    `once(key, compute)` is the kit's one memo: whatever a judge derives from a probe's inputs (a reference, a known
    mistake's answer, a rendered label) is computed once per probe. Checks are loaded once per batch and every
    student's probe has the same inputs, so that is once per batch; the memo lives and dies with the probe.
    """

    recipe: str
    params: dict
    timeout: float | None = None  # seconds; None: the runner's default
    memo: dict = field(default_factory=dict, init=False, compare=False, repr=False)

    # The arguments, typed (class attributes without annotations: descriptors, not dataclass fields).
    # - a `call` probe
    function = Argument[str | None]("The student's function (or class) this probe calls, where it calls one.", None)
    args = Argument[tuple]("The positional arguments of the call.", (), tuple)
    kwargs = Argument[dict]("The keyword arguments of the call (for a training recipe: the options it passes on).", {})
    names = Argument[tuple]("Labels of the positional arguments, for messages.", (), tuple)
    # - a model recipe (`grader.probes.models`)
    x = Argument[Any]("The input batch (a `TensorData`).")
    y = Argument[Any]("The targets of a training recipe (a `TensorData`).")
    state_dict = Argument[dict | None]("The weights the recipe loads into the student's model (name -> `TensorData`).", None)
    weight_seed = Argument[int | None]("The seed the recipe draws the model's weights from (`grader.probes.models.seeded_weights`), "
                                       "in place of a `state_dict`.", None)
    weight_keys = Argument[tuple]("The state_dict keys those weights are drawn for (the exercise's; no shapes).", (), tuple)
    init = Argument[dict]("The keyword arguments the student's model is constructed with.", {})
    device = Argument[str]("Where the recipe puts the model and its input.", "cpu")
    cotangent = Argument[Any]("The vector a gradient recipe backpropagates: d sum(output · cotangent) / d parameter.")
    init_seed = Argument[int]("The torch seed the student's model is initialised with, before a training recipe.")
    other_seed = Argument[int]("A second seed, to tell data drawn from two seeds apart.")

    def once(self, key: Any, compute: Callable[[], Any]) -> Any:
        """`compute()`, computed the first time `key` is asked for on this probe (values are never mutated)."""
        if key not in self.memo:
            self.memo[key] = compute()
        return self.memo[key]

    def __getstate__(self) -> dict:
        """A probe crosses processes without its memo (references are recomputed, never shipped)."""
        return {"recipe": self.recipe, "params": self.params, "timeout": self.timeout}

    def __setstate__(self, state: dict) -> None:
        for name, value in {**state, "memo": {}}.items():
            object.__setattr__(self, name, value)

    @property
    def tensor_dtype(self) -> str | None:
        """The dtype of the first tensor among the call's arguments (None when it has none)."""
        from grader.wire import TensorData

        return next((v.dtype for v in (*self.args, *self.kwargs.values()) if isinstance(v, TensorData)), None)

    def describe_inputs(self) -> str:
        """`x=2.0, y=4.0` style rendering of a call's arguments, for messages."""
        from grader.compare import render_inputs

        return render_inputs(self.args, self.kwargs, list(self.names) or None)


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

    @property
    def is_stub(self) -> bool:
        """Whether this is a generated stub's NotImplementedError: nothing written yet."""
        return self.type_name == "NotImplementedError" and self.message in ("", STUB_MESSAGE)

    def describe(self) -> str:
        if self.is_stub:
            return STUB_DESCRIPTION
        text = f"raised {self.type_name}: {self.message}" if self.message else f"raised {self.type_name}"
        return f"{text} ({self.where})" if self.where else text


@dataclass(frozen=True)
class Lost:
    """Nothing came back: the file is missing or broken, or the process running the probe timed out or died."""

    reason: str
    whole_file: bool = field(default=False, compare=False)  # the file itself failed (missing, broken, import)

    def describe(self) -> str:
        return self.reason


@dataclass(frozen=True)
class Unavailable:
    """The process that would run the probe lacks what it needs (the GPU: `grader.gpu.unusable_here` says why); the
    check is skipped, neither for nor against the student."""

    reason: str

    def describe(self) -> str:
        return self.reason


Outcome = Returned | Raised | Lost | Unavailable


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


@dataclass(frozen=True, kw_only=True)
class Check:
    """One graded statement about one exercise: run `probes`, then `judge` what came back. Declared by keyword.

    `exercise` and `visibility` come from where the check is declared (`grader/instructor/checks/<exercise>.py` is
    public, `…/checks/hidden/<exercise>.py` hidden): the loader fills them in (`placed`), and refuses a check that
    states one the folder contradicts.
    `requires` names a capability (``"cuda"``) without which the check is skipped: its points leave the maximum.
    `expects_errors` hands raised exceptions to the judge instead of failing the check on them.
    """

    name: str
    points: float
    probes: tuple[Probe, ...]
    judge: Judge
    requires: str | None = None
    expects_errors: bool = False
    description: str = ""
    exercise: str = ""
    visibility: Visibility | None = None

    @property
    def qualified_name(self) -> str:
        return f"{self.exercise}.{self.name}"

    def placed(self, exercise: str, visibility: Visibility) -> "Check":
        """This check as declared in `exercise`'s module of `visibility`; a mismatch with what it states is an error."""
        for field_name, stated, actual in (("exercise", self.exercise, exercise), ("visibility", self.visibility, visibility)):
            if stated and stated != actual:
                raise ValueError(f"check {self.name!r} states {field_name}={stated!r} but is declared in {exercise}'s "
                                 f"{visibility} checks; drop the argument (the module's place decides it) or move the check")
        return replace(self, exercise=exercise, visibility=visibility)


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
