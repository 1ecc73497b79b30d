"""ex05: each check catches a wrong submission of its own, names the known mistakes, and accepts other styles."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import failed, grade_file, hint_of, mutate, solution_source

EX = "ex05_torch_gd"
CUDA_CHECKS = {"manual_gd_cuda", "optim_gd_cuda", "fit_linear_cuda", "mse_cuda"}

MANUAL_GRADIENT = "        gradient = 2 * torch.mean(error * x_train)\n"
MANUAL_RECORD = "        history.append((W.item(), cost.item()))\n        gradient"
OPTIM_ZERO = "        optimizer.zero_grad()\n        cost.backward()\n"


def test_lecture_tables_are_computed_not_typed():
    from grader.instructor.checks.ex05_torch_gd import LECTURE_X, line_fit, scalar_descent, weight_descent

    table = weight_descent([[1.0], [2.0], [3.0]], LECTURE_X)
    assert [round(w, 3) for w, _ in table[:5]] == [0.0, 1.4, 0.84, 1.064, 0.974]
    assert [round(c, 6) for _, c in table[:3]] == [4.666667, 0.746667, 0.119467]
    w, b, _ = line_fit([1.0, 2.0, 3.0, 4.0], [2.0, 4.0, 6.0, 8.0])
    assert (round(w, 4), round(b, 4)) == (1.8463, 0.4518)  # not the w = 2.0, b ≈ 0 a tutorial printed
    assert [tuple(round(v, 2) for v in row) for row in scalar_descent()[:2]] == [(8.0, 4.0, 4.6), (6.56, 3.2, 4.28)]
    assert [row[2] for row in scalar_descent(5.0, 1.0, 4)] == [1.0, 5.0, 1.0, 5.0]


def test_message_shows_input_expected_source_received_and_tolerance(grade_mutant):
    results = grade_mutant(EX, ("        W = W - lr * gradient\n", "        W = W - lr * gradient * 1.01\n"))
    message = results["manual_gd_lecture"].message
    assert message.startswith("ex05_torch_gd.manual_gd at x_train=tensor(")
    assert "y_train=tensor([[1.], [2.], [3.]], dtype=float32, device=cpu): expected [(0.0, 4.666666667), (1.4, 0.7466666667)" in message
    assert "(the grader's own gradient descent on the MSE (torch autograd in float64)" in message and "2/m" not in message and "allowed" in message and "elements differ" in message


def test_sum_gradient_is_named(grade_mutant):
    results = grade_mutant(EX, (MANUAL_GRADIENT, "        gradient = torch.sum(error * x_train)\n"))
    assert {"manual_gd_lecture", "manual_gd_random", "manual_gd_vectors"} <= failed(results)
    assert results["manual_gd_lecture"].hint.startswith("this looks like the plain sum Σ (W·x − y)·x")


def test_missing_factor_two_is_named(grade_mutant):
    results = grade_mutant(EX, (MANUAL_GRADIENT, "        gradient = torch.mean(error * x_train)\n"))
    assert results["manual_gd_random"].hint.startswith("the factor 2 from differentiating the square is missing")


def test_w_recorded_after_the_update_is_named(grade_mutant):
    results = grade_mutant(EX, (MANUAL_RECORD, "        gradient"),
                           ("        W = W - lr * gradient\n", "        W = W - lr * gradient\n        history.append((W.item(), cost.item()))\n"))
    assert results["manual_gd_lecture"].hint.startswith("record (W, cost) before the update")


def test_gradients_never_zeroed_are_named(grade_mutant):
    results = grade_mutant(EX, (OPTIM_ZERO, "        cost.backward()\n"))
    assert {"optim_gd_lecture", "optim_gd_random", "optim_gd_vectors"} <= failed(results)
    assert results["optim_gd_lecture"].hint.startswith("gradients are never zeroed")
    results = grade_mutant(EX, ("        w.grad.zero_()\n        b.grad.zero_()\n", ""))
    assert {"fit_linear_lecture", "fit_linear_random"} <= failed(results)
    assert results["fit_linear_lecture"].hint.startswith("gradients are never zeroed")
    assert "fit_linear at x=tensor(" in results["fit_linear_lecture"].message and ": (w, b): expected" in results["fit_linear_lecture"].message


def test_sum_loss_is_named(grade_mutant):
    results = grade_mutant(EX, ("        cost = torch.mean((x_train * W - y_train) ** 2)\n", "        cost = torch.sum((x_train * W - y_train) ** 2)\n"))
    assert results["optim_gd_random"].hint.startswith("the cost is the mean of the squared errors")
    results = grade_mutant(EX, ("loss = torch.mean((w * x + b - y) ** 2)", "loss = torch.sum((w * x + b - y) ** 2)"))
    assert results["fit_linear_lecture"].hint.startswith("the loss is the mean of the squared errors")


def test_x_recorded_before_the_step_is_named(grade_mutant):
    results = grade_mutant(EX, ("        optimizer.step()\n        history.append((y.item(), x.grad.item(), x.item()))\n",
                                "        history.append((y.item(), x.grad.item(), x.item()))\n        optimizer.step()\n"))
    assert {"descend_scalar_lecture", "descend_scalar_oscillates", "descend_scalar_random"} <= failed(results)
    assert results["descend_scalar_lecture"].hint.startswith("record x after optimizer.step()")


def test_scalar_gradients_never_zeroed_are_named(grade_mutant):
    results = grade_mutant(EX, ("        optimizer.zero_grad()\n        y = (x - 3) ** 2 + 4\n", "        y = (x - 3) ** 2 + 4\n"))
    assert results["descend_scalar_lecture"].hint.startswith("gradients are never zeroed")


def test_hard_coded_lecture_tables_fail_on_random_data(grade_source):
    from grader.instructor.checks.ex05_torch_gd import LECTURE_X, line_fit, weight_descent

    table = weight_descent(LECTURE_X, LECTURE_X)
    w, b, losses = line_fit([1.0, 2.0, 3.0, 4.0], [2.0, 4.0, 6.0, 8.0])
    source = mutate(solution_source(EX),
                    ("    W = torch.zeros(1, dtype=x_train.dtype, device=x_train.device)\n    history = []\n",
                     f"    return {table!r}\n    history = []\n"),
                    ("    w = torch.zeros(1, dtype=x.dtype, device=x.device, requires_grad=True)\n",
                     f"    return {(w, b, losses)!r}\n"))
    results = grade_source(EX, source)
    assert "manual_gd_lecture" not in failed(results)  # right on the lecture's data ...
    assert {"manual_gd_random", "manual_gd_vectors", "fit_linear_random"} <= failed(results)  # ... wrong anywhere else
    assert "fit_linear_lecture" in failed(results)  # (whose second line is a random one)


def test_tutorial_printout_fails(grade_mutant):
    results = grade_mutant(EX, ("    return w.item(), b.item(), losses\n", "    return 2.0, 0.0, losses\n"))
    assert "fit_linear_lecture" in failed(results)


def test_mse_mistakes_are_named(grade_mutant):
    body = "    return torch.mean((y_true - y_pred) ** 2).item()\n"
    results = grade_mutant(EX, (body, "    return torch.sum((y_true - y_pred) ** 2).item()\n"))
    assert {"mse", "mse_random"} <= failed(results) and "their sum" in results["mse"].hint
    assert "RMSE" in grade_mutant(EX, (body, "    return torch.sqrt(torch.mean((y_true - y_pred) ** 2)).item()\n"))["mse"].hint
    assert "before averaging" in grade_mutant(EX, (body, "    return (torch.mean(y_true - y_pred) ** 2).item()\n"))["mse"].hint


def test_equivalent_lr_mistakes_are_named(grade_mutant):
    results = grade_mutant(EX, ("    return lr_sum * m / 2\n", "    return lr_sum * m\n"))
    assert {"equivalent_lr", "equivalent_lr_random"} <= failed(results)
    assert results["equivalent_lr"].hint.startswith("the factor 2 of the true gradient is missing")
    assert "inverted" in grade_mutant(EX, ("    return lr_sum * m / 2\n", "    return 2 * lr_sum / m\n"))["equivalent_lr"].hint


def test_one_epoch_too_few_fails_with_shapes(grade_mutant):
    results = grade_mutant(EX, ("    for _ in range(epochs + 1):\n        error", "    for _ in range(epochs):\n        error"))
    assert "returned shape (10, 2); expected shape (11, 2)" in results["manual_gd_lecture"].message


def test_fixed_dtype_fails_float64_inputs(grade_mutant):
    results = grade_mutant(EX, ("        error = W * x_train - y_train\n", "        error = (W * x_train - y_train).float()\n"))
    assert "manual_gd_random" in failed(results) and "manual_gd_lecture" not in failed(results)


def test_other_styles_pass(grade_source):
    source = (Path(__file__).parent / "styles" / "ex05_functional.py").read_text()
    results = grade_source(EX, source)
    assert failed(results) == set()


def test_device_checks_are_skipped_without_cuda():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: see test_device_checks_pass_on_cuda")
    results = grade_file(EX, Path(__file__).resolve().parents[2] / "solutions" / f"{EX}.py")
    assert {name for name, r in results.items() if r.status == "skipped"} == CUDA_CHECKS
    assert all(results[name].max_score == 0 for name in CUDA_CHECKS)


@pytest.mark.gpu
def test_device_checks_pass_on_cuda(grade_source):
    import torch

    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    results = grade_source(EX, solution_source(EX))
    assert all(results[name].status == "passed" for name in CUDA_CHECKS)
    cpu_only = mutate(solution_source(EX), ("    W = torch.zeros(1, dtype=x_train.dtype, device=x_train.device)\n",
                                            "    W = torch.zeros(1, dtype=x_train.dtype)\n"))
    assert "manual_gd_cuda" in failed(grade_source(EX, cpu_only))


# ------------------------------------------------------------------------------------- more known mistakes (issue 10)

MANUAL_START = "    W = torch.zeros(1, dtype=x_train.dtype, device=x_train.device)\n"
OPTIM_RECORD = "        history.append((W.item(), cost.item()))\n        optimizer.zero_grad()\n        cost.backward()\n        optimizer.step()\n"



def test_float32_arithmetic_on_float64_inputs_names_the_dtype(grade_mutant):
    results = grade_mutant(EX, (MANUAL_START, "    W = torch.zeros(1, device=x_train.device)\n"))
    assert "float64" in hint_of(results, "manual_gd_random") and "float32" in results["manual_gd_random"].hint


def test_recording_w_data_names_the_alias(grade_mutant):
    results = grade_mutant(EX, (OPTIM_RECORD, OPTIM_RECORD.replace("W.item()", "W.data")))
    assert "every row holds the same tensor" in hint_of(results, "optim_gd_lecture")


def test_one_row_too_few_is_named(grade_mutant):
    results = grade_mutant(EX, ("    history = []\n    for _ in range(epochs + 1):\n        error = W * x_train - y_train",
                                "    history = []\n    for _ in range(epochs):\n        error = W * x_train - y_train"))
    assert "one row too few" in hint_of(results, "manual_gd_lecture")


def test_missing_optimizer_step_and_zero_grad_between_backward_and_step_are_named(grade_mutant):
    for wrong in (OPTIM_RECORD.replace("        optimizer.step()\n", ""),
                  OPTIM_RECORD.replace("        optimizer.zero_grad()\n        cost.backward()\n", "        cost.backward()\n        optimizer.zero_grad()\n")):
        results = grade_mutant(EX, (OPTIM_RECORD, wrong))
        assert "W never moves" in hint_of(results, "optim_gd_lecture"), wrong


def test_manual_gd_climbing_the_gradient_or_never_assigning_w_is_named(grade_mutant):
    update = "        W = W - lr * gradient\n"
    results = grade_mutant(EX, (update, "        W = W + lr * gradient\n"))
    assert "against the gradient" in hint_of(results, "manual_gd_lecture")
    results = grade_mutant(EX, (update, "        W - lr * gradient\n"))
    assert "W never moves" in hint_of(results, "manual_gd_lecture")


def test_fit_linear_mistakes_are_named(grade_mutant):
    update = "            w -= lr * w.grad\n            b -= lr * b.grad\n"
    results = grade_mutant(EX, (update, "            w -= lr * w.grad\n"))
    assert "b never changes" in hint_of(results, "fit_linear_lecture")
    record = "        losses.append(loss.item())\n        loss.backward()\n"
    results = grade_mutant(EX, (record, "        loss.backward()\n"),
                           ("        w.grad.zero_()\n        b.grad.zero_()\n",
                            "        w.grad.zero_()\n        b.grad.zero_()\n        losses.append(torch.mean((w * x + b - y) ** 2).item())\n"))
    assert "loss after it" in hint_of(results, "fit_linear_lecture")


def test_mean_absolute_error_is_named(grade_mutant):
    results = grade_mutant(EX, ("    return torch.mean((y_true - y_pred) ** 2).item()", "    return torch.mean(torch.abs(y_true - y_pred)).item()"))
    assert "mean absolute error" in hint_of(results, "mse")


def test_descend_scalar_mistakes_are_named(grade_mutant):
    results = grade_mutant(EX, ("        history.append((y.item(), x.grad.item(), x.item()))",
                                "        history.append((((x - 3) ** 2 + 4).item(), x.grad.item(), x.item()))"))
    assert "record y before the step" in hint_of(results, "descend_scalar_lecture")
    results = grade_mutant(EX, ("        y.backward()\n        optimizer.step()\n", "        y.backward()\n"))
    assert "x never moves" in hint_of(results, "descend_scalar_lecture")


def test_the_lecture_table_whatever_the_inputs_is_named(grade_mutant):
    results = grade_mutant(EX, (MANUAL_START, "    x_train = y_train = torch.tensor(X_TRAIN, dtype=torch.float64)\n    lr, epochs = 0.15, 10\n" + MANUAL_START))
    assert "manual_gd_lecture" not in failed(results)
    assert "the lecture's table, whatever the inputs" in hint_of(results, "manual_gd_random")


def test_manual_gd_with_autograd_is_named(grade_mutant):
    """The text forbids autograd in manual_gd: the grader runs it with autograd off, so such an answer fails, named."""
    results = grade_mutant(EX, ("    W = torch.zeros(1, dtype=x_train.dtype, device=x_train.device)\n    history = []\n",
                                "    W = torch.zeros(1, dtype=x_train.dtype, device=x_train.device, requires_grad=True)\n    history = []\n"),
                           ("        gradient = 2 * torch.mean(error * x_train)\n        W = W - lr * gradient\n",
                            "        cost.backward()\n        W = (W - lr * W.grad).detach().requires_grad_()\n"))
    assert {"manual_gd_lecture", "manual_gd_random"} <= failed(results) and not {n for n in failed(results) if not n.startswith("manual_gd")}
    assert "raised RuntimeError: element 0 of tensors does not require grad" in results["manual_gd_lecture"].message
    assert results["manual_gd_lecture"].hint.startswith("manual_gd computes the gradient by hand, without autograd")


def test_item_before_backward_is_named(grade_mutant):
    results = grade_mutant(EX, ("        loss = torch.mean((w * x + b - y) ** 2)\n        losses.append(loss.item())\n",
                                "        loss = torch.mean((w * x + b - y) ** 2).item()\n        losses.append(loss)\n"))
    assert {"fit_linear_lecture", "fit_linear_random"} <= failed(results)
    assert "raised AttributeError: 'float' object has no attribute 'backward'" in results["fit_linear_lecture"].message
    assert results["fit_linear_lecture"].hint.startswith("backward() was called on a Python number")


def test_float32_parameters_for_float64_inputs_fail_a_public_check(grade_mutant):
    results = grade_mutant(EX, ("    w = torch.zeros(1, dtype=x.dtype, device=x.device, requires_grad=True)\n"
                                "    b = torch.zeros(1, dtype=x.dtype, device=x.device, requires_grad=True)\n",
                                "    w = torch.zeros(1, requires_grad=True)\n    b = torch.zeros(1, requires_grad=True)\n"))
    assert {"fit_linear_lecture", "fit_linear_random"} <= failed(results)  # the public check has a float64 line too
    assert results["fit_linear_lecture"].hint.startswith("the inputs are float64 tensors, but this result has only float32 precision")
