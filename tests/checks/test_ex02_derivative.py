"""ex02: each check catches a wrong submission of its own, names the known mistakes, and accepts other styles."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT, failed

EX = "ex02_derivative"
SYMBOLIC = ("    return sympy.diff((x * w - y) ** 2, w)\n",)
NUMERIC = ("    return 2 * x * (x * w - y)\n",)
CENTRAL = ("    return (f(w + h) - f(w - h)) / (2 * h)\n",)


def symbolic(new: str) -> tuple[str, str]:
    return SYMBOLIC[0], f"    return {new}\n"


def numeric(new: str) -> tuple[str, str]:
    return NUMERIC[0], f"    return {new}\n"


def difference(new: str) -> tuple[str, str]:
    return CENTRAL[0], f"    return {new}\n"


def test_other_algebraic_forms_pass(grade_mutant):
    assert failed(grade_mutant(EX, symbolic("2 * w * x**2 - 2 * x * y"))) == set()
    assert failed(grade_mutant(EX, symbolic("-2 * x * (y - x * w)"))) == set()
    assert failed(grade_mutant(EX, numeric("2.0 * x * x * w - 2.0 * x * y"))) == set()
    assert failed(grade_mutant(EX, difference("0.5 * (f(w + h) - f(w - h)) / h"))) == set()


def test_symbols_with_assumptions_are_matched_by_name(grade_mutant):
    results = grade_mutant(EX, symbolic('(lambda a, b, c: sympy.diff((a * b - c) ** 2, b))(*sympy.symbols("x w y", real=True))'))
    assert failed(results) == set()


def test_missing_factor_two_is_named(grade_mutant):
    results = grade_mutant(EX, symbolic("x * (x * w - y)"), numeric("x * (x * w - y)"))
    assert {"dloss_dw", "gradient", "gradient_random"} <= failed(results)
    for name in ("dloss_dw", "gradient"):
        assert results[name].hint.startswith("the factor 2 from differentiating the square is missing")
    message = results["dloss_dw"].message
    assert message.startswith("ex02_derivative.dloss_dw: got x*(w*x - y), which is not equal to the derivative "
                              "(sympy: d/dw of (x·w − y)²) for every x, w, y: at x=")
    assert "2*x" not in message  # the derivative's closed form is never shown


def test_sign_flip_is_named(grade_mutant):
    results = grade_mutant(EX, symbolic("2 * x * (y - x * w)"), numeric("2 * x * (y - x * w)"))
    assert results["dloss_dw"].hint.startswith("the sign is flipped")
    assert results["gradient"].hint.startswith("the sign is flipped")


def test_missing_inner_factor_is_named(grade_mutant):
    results = grade_mutant(EX, symbolic("2 * (x * w - y)"), numeric("2 * (x * w - y)"))
    assert results["dloss_dw"].hint.startswith("the inner derivative is missing")
    assert results["gradient"].hint.startswith("the inner derivative")


def test_derivative_with_respect_to_x_is_named(grade_mutant):
    results = grade_mutant(EX, symbolic("sympy.diff((x * w - y) ** 2, x)"))
    assert "with respect to x" in results["dloss_dw"].hint


def test_unexpected_symbols_are_named(grade_mutant):
    results = grade_mutant(EX, symbolic('2 * sympy.Symbol("X") * (sympy.Symbol("X") * w - y)'))
    assert "contains the symbol(s) X, which the exercise does not use" in results["dloss_dw"].message


def test_a_number_instead_of_an_expression_fails_clearly(grade_mutant):
    results = grade_mutant(EX, symbolic("lambda x, w, y: 2 * x * (x * w - y)"))
    assert "expected a sympy expression in the symbols x, w, y" in results["dloss_dw"].message
    results = grade_mutant(EX, symbolic("-8.0"))
    assert "dloss_dw" in failed(results)


def test_forward_difference_is_named(grade_mutant):
    results = grade_mutant(EX, difference("(f(w + h) - f(w)) / h"))
    assert {"numerical_gradient_central", "numerical_gradient_random"} <= failed(results)
    assert results["numerical_gradient_central"].hint.startswith("this is the forward difference (f(w + h) − f(w)) / h")
    assert results["numerical_gradient_default_h"].hint.startswith("this is the forward difference")


def test_backward_difference_and_wrong_divisor_are_named(grade_mutant):
    assert "backward difference" in grade_mutant(EX, difference("(f(w) - f(w - h)) / h"))["numerical_gradient_central"].hint
    assert "divide by 2h, not h" in grade_mutant(EX, difference("(f(w + h) - f(w - h)) / h"))["numerical_gradient_central"].hint


def test_wrong_default_step_fails(grade_mutant):
    results = grade_mutant(EX, ("h: float = 1e-6", "h: float = 1e-2"))
    assert failed(results) == {"numerical_gradient_default_h"}


def test_hard_coded_lecture_gradients_fail_the_random_points(grade_mutant):
    table = "{(1.0, 2.0, 0.0): -4.0, (2.0, 4.0, 0.0): -16.0, (3.0, 6.0, 0.0): -36.0, (1.0, 2.0, 1.0): -2.0, (2.0, 4.0, 1.0): -8.0, (3.0, 6.0, 1.0): -18.0}"
    results = grade_mutant(EX, numeric(f"{table}.get((x, y, w), 0.0)"))
    assert {"gradient", "gradient_random"} <= failed(results)
    assert "at x=1.0, y=2.0" not in results["gradient"].message and "at x=" in results["gradient"].message  # a random point fails


def test_public_check_never_imports_torch():
    """ex02 needs no torch, so `grader check` never pays its import (the latency itself: bench/check_latency.py)."""
    code = ("import sys; from grader.cli import main; "
            "rc = main(['check', 'ex02', '--path', 'solutions']); "
            "assert rc == 0, rc; assert 'torch' not in sys.modules, 'torch was imported'")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_larger_default_step_is_named(grade_mutant):
    results = grade_mutant(EX, ("h: float = 1e-6", "h: float = 1e-3"))
    assert failed(results) == {"numerical_gradient_default_h"}
    assert "default step" in results["numerical_gradient_default_h"].hint


def test_the_loss_itself_instead_of_its_derivative_is_named(grade_mutant):
    results = grade_mutant(EX, symbolic("(x * w - y) ** 2"), numeric("(x * w - y) ** 2"))
    assert "not its derivative" in results["dloss_dw"].hint and "not its derivative" in results["gradient"].hint


def test_the_same_answer_is_derived_once_per_class():
    """Two students who return the same expression (built separately) cost one simplification: the second is a hit."""
    import sympy

    from grader.symbolic import same_function

    x, w, y = sympy.symbols("x w y")
    expected = sympy.diff((x * w - y) ** 2, w)
    first, second = 2 * x * (x * w - y) + 0 * y, sympy.sympify("2*x*(x*w - y)")
    before = same_function.cache_info()
    assert same_function(first, expected) and same_function(second, expected)
    after = same_function.cache_info()
    assert after.misses - before.misses <= 1 and after.hits - before.hits >= 1
