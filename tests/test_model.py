"""grader.model: checks placed by where they are declared, typed probe arguments, and the one memo (Probe.once)."""

from __future__ import annotations

import pickle
import random

import pytest

from grader.checks import load_checks
from grader.compare import tolerance_for
from grader.judges import expect
from grader.model import Check, Probe, call
from grader.wire import TensorData


def demo(**stated) -> Check:
    return Check(name="double", points=1, probes=(call("double", 2.0, names=["x"]),), judge=expect(lambda x: 2 * x, "2*x"), **stated)


def test_the_loader_places_a_check_where_its_module_lives():
    from grader.instructor.checks import ex03_quadratic
    from grader.instructor.checks.hidden import ex03_quadratic as hidden

    placed = {c.name: (c.exercise, c.visibility) for c in load_checks("ex03_quadratic", seed=1, hidden=True)}
    public, secret = ex03_quadratic.checks(random.Random(1)), hidden.checks(random.Random(1))
    assert {(c.exercise, c.visibility) for c in public + secret} == {("", None)}  # as declared: nothing stated
    assert placed == {**{c.name: ("ex03_quadratic", "public") for c in public}, **{c.name: ("ex03_quadratic", "hidden") for c in secret}}


def test_a_check_that_contradicts_its_place_is_refused():
    check = demo()
    assert (check.placed("ex09_toy", "public").exercise, check.placed("ex09_toy", "public").visibility) == ("ex09_toy", "public")
    assert demo(visibility="hidden").placed("ex09_toy", "hidden").visibility == "hidden"
    with pytest.raises(ValueError, match="states visibility='hidden' but is declared in ex09_toy's public checks"):
        demo(visibility="hidden").placed("ex09_toy", "public")
    with pytest.raises(ValueError, match="states exercise='ex01_linear_model'"):
        demo(exercise="ex01_linear_model").placed("ex09_toy", "public")
    with pytest.raises(TypeError):
        Check("ex09_toy", "double", 1, "public", (), None)  # positional declarations are gone


def test_probe_arguments_are_typed():
    probe = call("gradient", 2.0, 4.0, names=["x", "y"], h=1e-6)
    assert (probe.function, probe.args, probe.kwargs, probe.names) == ("gradient", (2.0, 4.0), {"h": 1e-6}, ("x", "y"))
    assert probe.describe_inputs() == "x=2.0, y=4.0, h=1e-06"
    with pytest.raises(AttributeError, match="a call probe has no argument 'x'"):
        probe.x  # noqa: B018 - a model recipe's argument
    x = TensorData(None, "float32", "meta", (3, 1, 32, 32))
    model = Probe("models.forward", {"function": "LeNet5", "x": x, "device": "meta"})
    assert (model.x, model.device, model.init, model.state_dict) == (x, "meta", {}, None)
    assert call("f", TensorData(None, "float64", "cpu", (2,))).tensor_dtype == "float64" and call("f", 1.0).tensor_dtype is None


def test_once_computes_a_value_once_per_probe_and_never_ships_it():
    probe, computed = call("f", 1.0), []
    assert [probe.once("reference", lambda: computed.append(1) or len(computed)) for _ in range(3)] == [1, 1, 1]
    assert call("f", 1.0).once("reference", lambda: "another probe") == "another probe"  # keyed by the probe, not its inputs
    copy = pickle.loads(pickle.dumps(probe))
    assert copy == probe and copy.memo == {} and probe.memo == {"reference": 1}


def test_a_widened_tolerance_states_why():
    assert tolerance_for("float32") == (1.3e-6, 1e-5)
    assert tolerance_for("float32", 10, why="ten float32 sums in a row") == pytest.approx((1.3e-5, 1e-4))
    with pytest.raises(ValueError, match="say why"):
        tolerance_for("float32", 10)


def test_a_batch_derives_each_reference_once_however_many_students_it_judges():
    from grader.model import Returned
    from grader.runner import judge_check

    derived = []

    def reference(x: float) -> float:
        derived.append(x)
        return 2 * x

    check = Check(name="double", points=1, probes=(call("double", 2.0), call("double", 3.0)), judge=expect(reference, "2*x")).placed("ex09_toy", "public")
    students = [[Returned(4.0), Returned(6.0)], [Returned(4.0), Returned(7.0)], [Returned(5.0), Returned(6.0)]]
    assert [judge_check(check, outcomes).status for outcomes in students] == ["passed", "failed", "failed"]
    assert derived == [2.0, 3.0]
