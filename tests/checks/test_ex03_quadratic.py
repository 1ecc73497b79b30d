"""ex03: each check catches a wrong submission of its own, names the known mistakes, and accepts other styles."""

from __future__ import annotations

from conftest import failed

EX = "ex03_quadratic"
EXPRS = '    return {"w1": sympy.diff(squared_error, w1), "w2": sympy.diff(squared_error, w2), "b": sympy.diff(squared_error, b)}\n'
GRADS = "    return 2 * error * x, 2 * error * x * x, 2 * error\n"
UPDATE = ("            d_w1, d_w2, d_b = gradients(x_n, y_n, w1, w2, b)\n"
          "            w1, w2, b = w1 - lr * d_w1, w2 - lr * d_w2, b - lr * d_b\n")


def exprs(w1: str, w2: str, b: str) -> tuple[str, str]:
    return EXPRS, f'    e = x**2 * w2 + x * w1 + b - y\n    return {{"w1": {w1}, "w2": {w2}, "b": {b}}}\n'


def test_other_forms_pass(grade_mutant):
    assert failed(grade_mutant(EX, exprs("2*x*e", "2*x**2*e", "2*e"))) == set()
    assert failed(grade_mutant(EX, exprs("sympy.expand(2*x*e)", "-2*x**2*(y - x**2*w2 - x*w1 - b)", "2*e"))) == set()
    assert failed(grade_mutant(EX, (GRADS, "    return [2 * x * error, 2 * x**2 * error, 2.0 * error]\n"))) == set()


def test_missing_factor_two_is_named(grade_mutant):
    results = grade_mutant(EX, exprs("x*e", "2*x**2*e", "2*e"), (GRADS, "    return error * x, error * x * x, error\n"))
    assert {"gradient_exprs", "gradients", "gradients_random"} <= failed(results)
    assert results["gradient_exprs"].message.startswith("ex03_quadratic.gradient_exprs: ['w1']: got ")
    assert results["gradient_exprs"].hint.startswith("the factor 2 from differentiating the square is missing")
    assert results["gradients"].hint.startswith("the factor 2 from differentiating the square is missing")


def test_sign_flip_is_named(grade_mutant):
    results = grade_mutant(EX, exprs("2*x*e", "-2*x**2*e", "2*e"), (GRADS, "    return -2 * error * x, -2 * error * x * x, -2 * error\n"))
    assert "['w2']" in results["gradient_exprs"].message
    assert results["gradient_exprs"].hint.startswith("the sign is flipped")
    assert results["gradients"].hint.startswith("the sign is flipped")


def test_missing_inner_factor_is_named(grade_mutant):
    results = grade_mutant(EX, exprs("2*e", "2*x**2*e", "2*e"), (GRADS, "    return 2 * error, 2 * error * x * x, 2 * error\n"))
    assert results["gradient_exprs"].hint.startswith("the inner derivative ∂ŷ/∂w1 is missing")
    assert results["gradients"].hint.startswith("the inner derivative ∂ŷ/∂w1 is missing")


def test_w2_with_x_instead_of_x_squared_is_named(grade_mutant):
    results = grade_mutant(EX, exprs("2*x*e", "2*x*e", "2*e"), (GRADS, "    return 2 * error * x, 2 * error * x, 2 * error\n"))
    assert results["gradient_exprs"].hint.startswith("the inner derivative ∂ŷ/∂w2 is wrong")
    assert results["gradients"].hint.startswith("the inner derivative ∂ŷ/∂w2 is wrong")


def test_b_with_a_factor_x_is_named(grade_mutant):
    results = grade_mutant(EX, exprs("2*x*e", "2*x**2*e", "2*x*e"))
    assert results["gradient_exprs"].hint.startswith("the inner derivative ∂ŷ/∂b is wrong")


def test_missing_key_and_unexpected_symbol_are_reported(grade_mutant):
    results = grade_mutant(EX, (EXPRS, '    return {"w1": sympy.diff(squared_error, w1), "w2": sympy.diff(squared_error, w2)}\n'))
    assert "the key(s) ['b'] are missing" in results["gradient_exprs"].message
    results = grade_mutant(EX, exprs("2*x*e", "2*x**2*e", '2*(e + sympy.Symbol("c"))'))
    assert "contains the symbol(s) c" in results["gradient_exprs"].message


def test_swapped_weights_in_forward_are_named(grade_mutant):
    results = grade_mutant(EX, ("    return x * x * w2 + x * w1 + b\n", "    return x * x * w1 + x * w2 + b\n"))
    assert "forward" in failed(results) and results["forward"].hint.startswith("w2 multiplies x²")


def test_sequential_updates_are_named(grade_mutant):
    sequential = ("            w1 = w1 - lr * gradients(x_n, y_n, w1, w2, b)[0]\n"
                  "            w2 = w2 - lr * gradients(x_n, y_n, w1, w2, b)[1]\n"
                  "            b = b - lr * gradients(x_n, y_n, w1, w2, b)[2]\n")
    results = grade_mutant(EX, (UPDATE, sequential))
    assert {"train_lecture_data", "train_random", "train_random_hidden"} <= failed(results)
    assert results["train_lecture_data"].hint.startswith("take all three derivatives at the current parameters before updating any")
    assert "sequential" in results["train_random"].hint


def test_w1_updated_before_the_w2_gradient_fails(grade_mutant):
    half_sequential = ("            d_w1 = gradients(x_n, y_n, w1, w2, b)[0]\n"
                       "            w1 = w1 - lr * d_w1\n"
                       "            _, d_w2, d_b = gradients(x_n, y_n, w1, w2, b)\n"
                       "            w2, b = w2 - lr * d_w2, b - lr * d_b\n")
    results = grade_mutant(EX, (UPDATE, half_sequential))
    assert {"train_lecture_data", "train_random"} <= failed(results)


def test_cost_before_the_update_is_named(grade_mutant):
    results = grade_mutant(EX,
                           ("        for x_n, y_n in zip(xs, ys):\n            d_w1", "        cost = sum(loss(x_n, y_n, w1, w2, b) for x_n, y_n in zip(xs, ys)) / len(xs)\n        for x_n, y_n in zip(xs, ys):\n            d_w1"),
                           ("        cost = sum(loss(x_n, y_n, w1, w2, b) for x_n, y_n in zip(xs, ys)) / len(xs)\n        history", "        history"))
    assert {"train_lecture_data", "train_random"} <= failed(results)
    assert results["train_lecture_data"].hint.startswith("record the cost after the epoch's updates")


def test_last_sample_loss_and_sum_are_named(grade_mutant):
    cost_line = "        cost = sum(loss(x_n, y_n, w1, w2, b) for x_n, y_n in zip(xs, ys)) / len(xs)\n"
    results = grade_mutant(EX, (cost_line, "        cost = loss(x_n, y_n, w1, w2, b)\n"))
    assert "not the loss of the last sample" in results["train_random"].hint
    results = grade_mutant(EX, (cost_line, "        cost = sum(loss(x_n, y_n, w1, w2, b) for x_n, y_n in zip(xs, ys))\n"))
    assert "their sum" in results["train_random"].hint


def test_one_entry_too_many_fails_with_the_shape(grade_mutant):
    results = grade_mutant(EX, ("    history = []\n", "    history = [(w1, w2, b, 0.0)]\n"))
    assert "returned shape (21, 4); expected shape (20, 4)" in results["train_random"].message



def test_unsquared_loss_is_named(grade_mutant):
    results = grade_mutant(EX, ("    return (forward(x, w1, w2, b) - y) ** 2\n", "    return forward(x, w1, w2, b) - y\n"))
    assert "loss" in failed(results) and results["loss"].hint.startswith("the loss squares the error")


# ------------------------------------------------------------------------------------- more known mistakes (issue 10)

SWAPPED_HINT = "the other lecture's convention"


def test_the_other_lectures_convention_is_named_in_every_check(grade_mutant):
    results = grade_mutant(
        EX,
        ("    return x * x * w2 + x * w1 + b", "    return x * x * w1 + x * w2 + b"),
        ("squared_error = (x**2 * w2 + x * w1 + b - y) ** 2", "squared_error = (x**2 * w1 + x * w2 + b - y) ** 2"),
        ("return 2 * error * x, 2 * error * x * x, 2 * error", "return 2 * error * x * x, 2 * error * x, 2 * error"),
    )
    for name in ("forward", "loss", "gradient_exprs", "gradients", "train_lecture_data", "train_random"):
        assert SWAPPED_HINT in (results[name].hint or ""), (name, results[name].output)


def test_gradient_exprs_with_the_w1_and_w2_entries_swapped_is_named(grade_mutant):
    results = grade_mutant(EX, ('return {"w1": sympy.diff(squared_error, w1), "w2": sympy.diff(squared_error, w2)',
                                'return {"w1": sympy.diff(squared_error, w2), "w2": sympy.diff(squared_error, w1)'))
    assert failed(results) == {"gradient_exprs"}
    assert "entries for w1 and w2 are swapped" in results["gradient_exprs"].hint


TRAIN_UPDATE = "            w1, w2, b = w1 - lr * d_w1, w2 - lr * d_w2, b - lr * d_b\n"


def test_training_mistakes_are_named(grade_mutant):
    cases = {
        "            w1, w2, b = w1 + lr * d_w1, w2 + lr * d_w2, b + lr * d_b\n": "steps against the gradient",
        "            w1, w2 = w1 - lr * d_w1, w2 - lr * d_w2\n": "b never changes",
    }
    for wrong, hint in cases.items():
        results = grade_mutant(EX, (TRAIN_UPDATE, wrong))
        assert hint in (results["train_random"].hint or ""), (wrong, results["train_random"].output)


def test_one_update_per_epoch_is_named_as_batch_descent(grade_mutant):
    loop = ("        for x_n, y_n in zip(xs, ys):\n            d_w1, d_w2, d_b = gradients(x_n, y_n, w1, w2, b)\n" + TRAIN_UPDATE)
    batch = ("        grads = [gradients(x_n, y_n, w1, w2, b) for x_n, y_n in zip(xs, ys)]\n"
             "        d_w1, d_w2, d_b = (sum(g) / len(xs) for g in zip(*grads))\n" + TRAIN_UPDATE.replace("            ", "        "))
    results = grade_mutant(EX, (loop, batch))
    assert "one update per epoch" in results["train_random"].hint


def test_missing_bias_and_half_loss_are_named(grade_mutant):
    results = grade_mutant(EX, ("    return x * x * w2 + x * w1 + b", "    return x * x * w2 + x * w1"))
    assert "bias b is missing" in results["forward"].hint
    results = grade_mutant(EX, ("    return (forward(x, w1, w2, b) - y) ** 2", "    return (forward(x, w1, w2, b) - y) ** 2 / 2"))
    assert "factor ½" in results["loss"].hint


def test_w1_updated_before_the_other_gradients_is_named(grade_mutant):
    half_sequential = ("            d_w1 = gradients(x_n, y_n, w1, w2, b)[0]\n            w1 = w1 - lr * d_w1\n"
                       "            _, d_w2, d_b = gradients(x_n, y_n, w1, w2, b)\n            w2, b = w2 - lr * d_w2, b - lr * d_b\n")
    results = grade_mutant(EX, ("            d_w1, d_w2, d_b = gradients(x_n, y_n, w1, w2, b)\n" + TRAIN_UPDATE, half_sequential))
    assert "before updating any of them" in results["train_random"].hint


def test_training_on_the_lecture_data_whatever_the_inputs_is_named(grade_mutant):
    results = grade_mutant(EX, ("    history = []\n", "    xs, ys, w1, w2, b, lr, epochs = [1.0, 2.0, 3.0], [2.0, 4.0, 6.0], 0.0, 0.0, 0.0, 0.01, 100\n    history = []\n"))
    assert "train_lecture_data" not in failed(results)
    assert "the run on the lecture's data" in results["train_random"].hint


def test_gradient_exprs_returning_the_loss_is_named(grade_mutant):
    results = grade_mutant(EX, ('return {"w1": sympy.diff(squared_error, w1), "w2": sympy.diff(squared_error, w2), "b": sympy.diff(squared_error, b)}',
                                'return {"w1": squared_error, "w2": squared_error, "b": squared_error}'))
    assert "the loss itself" in results["gradient_exprs"].hint


def test_a_starting_row_is_named_as_one_row_too_many(grade_mutant):
    results = grade_mutant(EX, ("    history = []\n", "    history = [(w1, w2, b, 0.0)]\n"))
    assert results["train_random"].hint.startswith("one row too many: one row per epoch")
