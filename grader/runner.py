"""The grading pipeline for one exercise of one submission: load, probe, judge, score.

Probes are run by a `ProbeRunner`: the sandbox's worker (a class, where the student's code runs in a confined child
process) or `InProcessRunner` (an nbgrader test cell, which runs in the notebook's own kernel). A student's
`grader check` runs them in a forked, unconfined child (`grader.student`). All of them return the same outcomes,
because every value goes through the wire; judging is the same code for all.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Iterable, Protocol, Sequence

from grader import wire
from grader.model import Check, CheckResult, Lost, Outcome, Probe, Raised, Returned, Unavailable, Verdict

DEFAULT_TIMEOUT = 10.0
IMPORT_HINT = "is there a loop outside a function?"  # after a timeout while importing a file


class ProbeRunner(Protocol):
    def run(self, exercise: str, path: Path, probes: Sequence[Probe]) -> list[Outcome]:
        """Run `probes` on the student's file `path` for `exercise`, one outcome per probe, in order."""


def outcome_from_wire(answer: dict) -> Outcome:
    """Decode one probe's answer ({"returned"|"raised"|"lost": ...}) without trusting it."""
    if not isinstance(answer, dict) or len(answer) != 1:
        return Lost("the probe sent back malformed data")
    (kind, body), = answer.items()
    try:
        if kind == "returned":
            return Returned(wire.decode(body))
        if kind == "raised":
            return Raised(str(body["type"])[:100], str(body["message"])[:2000], str(body.get("where", ""))[:500])
        if kind == "lost":
            return Lost(str(body)[:500])
        if kind == "unavailable":
            return Unavailable(str(body)[:500])
    except (wire.WireError, KeyError, TypeError, ValueError, RecursionError) as error:
        return Lost(f"the probe sent back data the grader cannot read ({error})")
    return Lost("the probe sent back malformed data")


def probe_request(probe: Probe) -> dict:
    """A probe as wire data."""
    return {"recipe": probe.recipe, "params": wire.encode(probe.params), "timeout": probe.timeout}


def probe_request_json(probe: Probe) -> bytes:
    """`probe_request` as JSON bytes, encoded once per batch (every student's probe is the same)."""
    return probe.once("request", lambda: json.dumps(probe_request(probe), allow_nan=False).encode())


class InProcessRunner:
    """Runs probes in this process: import the file, call, encode, decode (a time limit by SIGALRM where there is one)."""

    def __init__(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.timeout = timeout

    def run(self, exercise: str, path: Path, probes: Sequence[Probe]) -> list[Outcome]:
        from grader.probes import describe_load_failure, load_module

        if not path.is_file():
            return [Lost(f"file not submitted: {path.name} was not found", whole_file=True)] * len(probes)
        try:
            module = load_module(str(path), f"submission_{exercise}")
        except KeyboardInterrupt:
            raise
        except BaseException as error:  # noqa: BLE001 - any failure to import is the submission's
            return [Lost(describe_load_failure(error, str(path)), whole_file=True)] * len(probes)
        return self.run_loaded(module, probes)

    def run_loaded(self, module: Any, probes: Sequence[Probe]) -> list[Outcome]:
        """Run probes on an already-loaded module or namespace (nbgrader notebooks pass their globals)."""
        from grader.probes import execute, lazy_dynamo

        lazy_dynamo.install()  # a one-shot process need not import torch's compiler for an eager training loop
        outcomes = []
        for probe in probes:
            request = json.loads(probe_request_json(probe))  # the same bytes a child would receive
            answer = execute(module, request["recipe"], request["params"], probe.timeout or self.timeout)
            outcomes.append(outcome_from_wire(json.loads(json.dumps(answer))))
        return outcomes


def capability_available(name: str) -> bool:
    """Whether this machine can run checks that require `name` (only "cuda" is known), asked without a CUDA context."""
    if name == "cuda":
        from grader import gpu

        return gpu.available()
    return False


def judge_check(check: Check, outcomes: Sequence[Outcome]) -> CheckResult:
    """Score one check from its probes' outcomes."""
    cases = list(zip(check.probes, outcomes))
    unavailable = next((o for o in outcomes if isinstance(o, Unavailable)), None)
    if unavailable is not None:
        return CheckResult.skipped(check, f"skipped: {unavailable.reason}; the check counts neither for nor against you")
    failed = None if check.expects_errors else next(((p, o) for p, o in cases if isinstance(o, (Raised, Lost))), None)
    if failed is not None:
        from grader.judges import where

        probe, outcome = failed
        whole_file = {"file_problem": outcome.reason} if isinstance(outcome, Lost) and outcome.whole_file else None
        verdict = Verdict.fail(f"{where(check, probe)}: {outcome.describe()}", extras=whole_file)
    else:
        try:
            verdict = check.judge(check, cases)
        except Exception as error:  # a judge bug must not take the batch down; it is reported, not hidden
            verdict = Verdict.fail(f"{check.qualified_name}: the grader could not judge this answer ({type(error).__name__}: {error}); please report it")
    return CheckResult.of(check, verdict)


def skipped(check: Check) -> CheckResult:
    """A check whose capability is missing here: neither for nor against the student."""
    from grader import gpu

    missing = "the GPU is switched off for this run (--no-gpu)" if check.requires == "cuda" and gpu.disabled() else f"this machine has no {check.requires}"
    reason = f"skipped: {missing}; the check counts neither for nor against you"
    return CheckResult.skipped(check, reason)


def grade_exercise(exercise: str, path: Path, checks: Sequence[Check], runner: ProbeRunner,
                   judge: Callable[[Check, Sequence[Outcome]], CheckResult] = judge_check) -> list[CheckResult]:
    """Run every runnable check's probes in one batch, then judge each check (with `judge`)."""
    runnable = [c for c in checks if c.requires is None or capability_available(c.requires)]
    probes = [p for c in runnable for p in c.probes]
    outcomes = iter(runner.run(exercise, path, probes) if probes else [])
    results = {}
    for check in runnable:
        results[check.name] = judge(check, [next(outcomes) for _ in check.probes])
    return [results[c.name] if c.name in results else skipped(c) for c in checks]


def total(results: Iterable[CheckResult]) -> tuple[float, float]:
    """(score, max_score) over results; skipped checks count in neither."""
    results = list(results)
    return sum(r.score for r in results), sum(r.max_score for r in results)
