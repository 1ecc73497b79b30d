"""A student's judging budget: an answer whose judging explodes fails its check with the reason, within the
budget, and the student's later checks fail at once; the judging lock is free again."""

from __future__ import annotations

import threading
import time

import sympy

from grader.instructor import batch
from grader.checks import load_checks
from grader.instructor.judging import JudgingBudget, interrupted_after, OverBudget
from grader.model import Returned
from grader.runner import judge_check


def exploding_derivative(shift: int = 0) -> sympy.Expr:
    """A product of 30 binomials in x·w − y: comparing it with 2x(xw − y) expands it (13 s of sympy on the 2-core
    machine, far past a 2 s budget). Another `shift` gives another product: sympy caches parts of the work, and an
    earlier judging of the same product, even an interrupted one, would make it fast."""
    x, w, y = sympy.symbols("x w y")
    return sympy.Mul(*[x * w - y + i + sympy.Rational(shift, 7) for i in range(30)])


def test_an_answer_whose_judging_explodes_fails_within_the_budget_and_so_do_the_students_later_checks():
    check = next(c for c in load_checks("ex02_derivative", seed=1) if c.name == "dloss_dw")
    judge = batch.student_judge(seconds=2.0)
    started = time.monotonic()
    first = judge(check, [Returned(exploding_derivative())])
    second = judge(check, [Returned(exploding_derivative())])
    assert time.monotonic() - started < 30  # both are stopped by the budget (each takes 13 s without it)
    for result in (first, second):
        assert result.status == "failed" and result.score == 0 and result.max_score == check.points
        assert "not judged: judging this submission's answers took more than 2 s" in result.message
    assert not batch._JUDGING.locked()


def test_a_budget_is_spent_check_by_check_and_a_correct_answer_within_it_passes():
    check = next(c for c in load_checks("ex02_derivative", seed=1) if c.name == "dloss_dw")
    x, w, y = sympy.symbols("x w y")
    budget = JudgingBudget(5.0, judge_check)
    assert budget.judge(check, [Returned(2 * x * (x * w - y))]).status == "passed"
    assert 0 < budget.left < 5.0


def test_an_interruption_after_the_block_is_taken_back():
    """The timer may fire as the block ends: nothing may be raised later, outside it."""
    for _ in range(200):
        try:
            with interrupted_after(0.0005):
                sum(range(2000))
        except OverBudget:
            pass
        for _ in range(2000):  # bytecodes after the block, where a stray interruption would land
            pass
    deadline = time.monotonic() + 1.5  # longer than REPEAT: a watcher left running would interrupt this loop
    while time.monotonic() < deadline:
        pass
    assert threading.active_count() < 5


def test_ctrl_c_interrupts_a_judge_at_once():
    from grader.instructor.judging import _ACTIVE, interrupt_all

    check = next(c for c in load_checks("ex02_derivative", seed=1) if c.name == "dloss_dw")
    results = []
    answer = exploding_derivative(shift=1)  # not the product the other tests judged (and sympy cached parts of)
    thread = threading.Thread(target=lambda: results.append(JudgingBudget(600, judge_check).judge(check, [Returned(answer)])))
    thread.start()
    deadline = time.monotonic() + 60
    while thread.ident not in _ACTIVE and time.monotonic() < deadline:  # until the judge is at work, however slow the machine
        time.sleep(0.01)
    time.sleep(0.2)
    interrupt_all()
    thread.join(timeout=20)
    assert not thread.is_alive() and results[0].status == "failed" and "not judged" in results[0].message
