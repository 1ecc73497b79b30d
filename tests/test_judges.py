"""The common judge: references from the probe's own arguments, messages, hints, and curves for feedback pages."""

from __future__ import annotations

from grader.judges import Curve, Mistake, expect
from grader.model import Check, Raised, Returned, call


def trajectory(epochs: int, rate: float) -> list[tuple[float, float]]:
    return [(float(i), rate ** i) for i in range(epochs)]


def make_check(judge) -> Check:
    return Check(exercise="ex04_cost_loss_sgd", name="demo", points=1, visibility="public", probes=(call("batch_gd", 5, 0.5, names=["epochs", "rate"]),), judge=judge)


JUDGE = expect(trajectory, "rate**i", [Mistake("the rate is squared.", lambda epochs, rate: trajectory(epochs, rate ** 2))],
               curve=Curve("cost per epoch", "cost", lambda t: t[:, 1]))


def test_a_pass_carries_both_curves():
    check = make_check(JUDGE)
    verdict = check.judge(check, [(check.probes[0], Returned(trajectory(5, 0.5)))])
    assert verdict.passed
    assert verdict.extras["curves"]["student"] == verdict.extras["curves"]["reference"] == [1.0, 0.5, 0.25, 0.125, 0.0625]


def test_a_failure_carries_the_students_curve_beside_the_reference_and_names_the_mistake():
    check = make_check(JUDGE)
    verdict = check.judge(check, [(check.probes[0], Returned(trajectory(5, 0.25)))])
    assert not verdict.passed and verdict.hint == "the rate is squared."
    assert verdict.extras["curves"]["student"][1] == 0.25 and verdict.extras["curves"]["reference"][1] == 0.5
    assert verdict.message.startswith("ex04_cost_loss_sgd.batch_gd at epochs=5, rate=0.5: expected ")
    assert "4 of 10 elements differ; the largest difference is at [1, 1]" in verdict.message


def test_a_wrong_shape_is_a_message_not_a_crash():
    check = make_check(JUDGE)
    verdict = check.judge(check, [(check.probes[0], Returned(trajectory(4, 0.5)))])
    assert not verdict.passed and "returned shape (4, 2); expected shape (5, 2)" in verdict.message


def test_an_exception_is_reported_with_the_students_line():
    from grader.runner import judge_check

    check = make_check(JUDGE)
    result = judge_check(check, [Raised("ZeroDivisionError", "division by zero", "line 12: return 1 / 0")])
    assert result.status == "failed"
    assert result.message == "ex04_cost_loss_sgd.batch_gd at epochs=5, rate=0.5: raised ZeroDivisionError: division by zero (line 12: return 1 / 0)"


def test_only_the_stubs_own_not_implemented_error_reads_as_not_attempted():
    assert Raised("NotImplementedError", "replace this line with your code").describe().startswith("not implemented yet")
    assert Raised("NotImplementedError", "Cannot copy out of meta tensor").describe().startswith("raised NotImplementedError")


def test_a_file_saved_twice_in_one_second_at_the_same_size_is_graded_afresh(tmp_path):
    """No stale bytecode: the second version of the file is the one that runs."""
    import os

    from grader.probes import load_module

    path = tmp_path / "ex.py"
    path.write_text("def f():\n    return 1\n")
    assert load_module(str(path), "ex_first").f() == 1
    stat = path.stat()
    path.write_text("def f():\n    return 2\n")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same size, same mtime
    assert load_module(str(path), "ex_second").f() == 2
    assert not (tmp_path / "__pycache__").exists()


def test_where_two_known_mistakes_give_the_same_answer_the_hint_names_both():
    squared = Mistake("the rate is squared.", lambda epochs, rate: trajectory(epochs, rate ** 2))
    halved = Mistake("the rate is halved.", lambda epochs, rate: trajectory(epochs, rate / 2))
    check = make_check(expect(trajectory, "rate**i", [squared, halved]))  # at rate 0.5 both give 0.25
    verdict = check.judge(check, [(check.probes[0], Returned(trajectory(5, 0.25)))])
    assert verdict.hint == "at these inputs this answer fits several known mistakes: the rate is squared; or the rate is halved."
    other = Check(exercise="ex04_cost_loss_sgd", name="demo", points=1, visibility="public", probes=(call("batch_gd", 5, 0.8, names=["epochs", "rate"]),),
                  judge=expect(trajectory, "rate**i", [squared, halved]))
    verdict = other.judge(other, [(other.probes[0], Returned(trajectory(5, 0.4)))])
    assert verdict.hint == "the rate is halved."


def test_a_baked_judge_decides_as_the_data_judge_it_was_baked_from():
    """The values a release bakes (through the wire, as a bundle stores them) give the same verdicts, hints included."""
    from grader import wire
    from grader.judges import BakedJudge

    squared = Mistake("the rate is squared.", lambda epochs, rate: trajectory(epochs, rate ** 2))
    judge = expect(trajectory, "rate**i", [squared], source="the rate to the power i")
    check = make_check(judge)
    probe = check.probes[0]
    baked = BakedJudge(judge.logic, wire.decode(wire.encode(dict(judge.spec))), [wire.decode(wire.encode(judge.bake(probe)))])
    shipped = Check(exercise=check.exercise, name=check.name, points=1, visibility="public", probes=(probe,), judge=baked)
    for answer in (trajectory(5, 0.5), trajectory(5, 0.25), trajectory(5, 0.3), trajectory(4, 0.5)):
        ours, theirs = check.judge(check, [(probe, Returned(answer))]), shipped.judge(shipped, [(probe, Returned(answer))])
        assert (ours.passed, ours.message, ours.hint) == (theirs.passed, theirs.message, theirs.hint)
    assert shipped.judge(shipped, [(probe, Returned(trajectory(5, 0.25)))]).hint == "the rate is squared."


def test_a_message_names_the_source_and_the_formula_only_on_request():
    from grader.judges import show_formulas

    judge = expect(trajectory, "rate**i", source="the rate to the power i")
    check = make_check(judge)
    wrong = [(check.probes[0], Returned(trajectory(5, 0.25)))]
    message = check.judge(check, wrong).message
    assert "expected [(0.0, 1.0), (1.0, 0.5)" in message and "(the rate to the power i), got " in message and "rate**i" not in message
    try:
        show_formulas()
        assert "from rate**i (the rate to the power i), got " in check.judge(check, wrong).message
    finally:
        show_formulas(False)
