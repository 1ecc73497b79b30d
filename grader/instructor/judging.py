"""A time budget for judging one student's answers, so that one answer cannot stop the class.

Judges run in the grader's worker threads, on data the student chose: an expression whose expansion explodes can
keep sympy busy for hours. `JudgingBudget.judge` gives each check what is left of the student's budget; past it, an
`OverBudget` exception is raised in the judging thread (`PyThreadState_SetAsyncExc`, checked between bytecodes),
and that check fails with the reason, as do the student's later checks once the budget is spent. Nothing runs
until a budget runs out: a timer per check, no subprocess. A single C-level operation cannot be interrupted this
way, which is why `grader.wire` bounds the numbers it decodes.
"""

from __future__ import annotations

import ctypes
import threading
import time
from contextlib import contextmanager
from typing import Callable, Iterator, Sequence

from grader.model import Check, CheckResult, Outcome, Verdict

REPEAT = 1.0  # seconds between two interruptions, should a judge swallow the first
_ACTIVE: dict[int, tuple[threading.Lock, threading.Event]] = {}  # threads judging now, with their watcher's lock


class OverBudget(BaseException):
    """Raised in a judging thread whose budget ran out (a BaseException: judges catch Exception)."""


def _raise_in(thread: int, exception: type[BaseException] | None) -> None:
    """Raise `exception` in `thread` at its next bytecode; None takes back one not raised yet."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread), ctypes.py_object(exception) if exception else None)


@contextmanager
def interrupted_after(seconds: float) -> Iterator[None]:
    """Raise `OverBudget` in this thread if the block runs longer than `seconds`."""
    thread, lock, done = threading.get_ident(), threading.Lock(), threading.Event()

    def watch() -> None:
        delay = seconds
        while not done.wait(delay):
            with lock:
                if not done.is_set():
                    _raise_in(thread, OverBudget)
            delay = REPEAT

    watcher = threading.Thread(target=watch, name="judging-budget", daemon=True)
    try:
        _ACTIVE[thread] = (lock, done)
        watcher.start()  # inside: the first interruption may come before start() returns
        yield
    finally:
        while True:  # an interruption may land anywhere here too: repeat until the watcher is off and none is pending
            try:
                with lock:
                    done.set()
                _raise_in(thread, None)
                break
            except OverBudget:
                continue
        _ACTIVE.pop(thread, None)
        if watcher.ident is not None:
            watcher.join()


def interrupt_all() -> None:
    """Interrupt every judge running now (Ctrl-C: the grader stops without waiting for their budgets)."""
    for thread, (lock, done) in list(_ACTIVE.items()):
        with lock:
            if not done.is_set():
                _raise_in(thread, OverBudget)


class JudgingBudget:
    """`seconds` of judging for one student, spent check by check."""

    def __init__(self, seconds: float, judge: Callable[[Check, Sequence[Outcome]], CheckResult]) -> None:
        self.seconds, self.left, self.inner = seconds, seconds, judge

    def judge(self, check: Check, outcomes: Sequence[Outcome]) -> CheckResult:
        """`inner(check, outcomes)` within what is left of the budget; a failed check saying why past it."""
        if self.left <= 0:
            return self.over(check)
        started = time.monotonic()
        try:
            with interrupted_after(self.left):
                return self.inner(check, outcomes)
        except OverBudget:
            return self.over(check)
        finally:
            self.left -= time.monotonic() - started

    def over(self, check: Check) -> CheckResult:
        message = (f"{check.qualified_name}: not judged: judging this submission's answers took more than "
                   f"{self.seconds:g} s of the grader's time (an answer that is far too large or complex?)")
        return CheckResult.of(check, Verdict.fail(message))
