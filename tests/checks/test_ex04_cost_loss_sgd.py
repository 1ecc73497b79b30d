"""ex04: each check catches a wrong submission of its own, names the known mistakes, and accepts other styles."""

from __future__ import annotations

import pytest

from conftest import failed, hint_of

EX = "ex04_cost_loss_sgd"
LOSS_GRAD = "    return 2 * x * (x * w - y)\n"
COST = "    return sum(loss(x, y, w) for x, y in zip(xs, ys)) / len(xs)\n"
COST_GRAD = "    return sum(loss_gradient(x, y, w) for x, y in zip(xs, ys)) / len(xs)\n"
BATCH_BODY = ("        cost_value = cost(xs, ys, w)\n"
              "        w = w - lr * cost_gradient(xs, ys, w)\n"
              "        history.append((w, cost_value))\n")
SGD_BODY = ("            w = w - lr * loss_gradient(x, y, w)\n"
            "            last_loss = loss(x, y, w)\n")
MINIBATCH_STEP = "            w = w - lr * cost_gradient(xs[start:start + batch_size], ys[start:start + batch_size], w)\n"
EMA_STEP = "        smoothed.append(value if not smoothed else beta * value + (1 - beta) * smoothed[-1])\n"
TRAJECTORIES = {"batch_gd_lecture", "batch_gd_random", "sgd_lecture", "sgd_random", "minibatch_gd"}


def test_numpy_and_other_forms_pass(grade_mutant):
    results = grade_mutant(
        EX,
        ("from typing import Sequence\n", "from typing import Sequence\n\nimport numpy as np\n"),
        (COST, "    return float(np.mean((np.asarray(xs) * w - np.asarray(ys)) ** 2))\n"),
        (COST_GRAD, "    xs, ys = np.asarray(xs), np.asarray(ys)\n    return 2 * np.mean(xs * (xs * w - ys))\n"),
        (LOSS_GRAD, "    return 2 * x * x * w - 2 * x * y\n"),
        (EMA_STEP, "        smoothed.append(value if not smoothed else smoothed[-1] + beta * (value - smoothed[-1]))\n"),
    )
    assert failed(results) == set()


def test_loss_gradient_mistakes_are_named(grade_mutant):
    cases = {"x * (x * w - y)": "the factor 2", "2 * x * (y - x * w)": "the sign is flipped", "2 * (x * w - y)": "the inner derivative is missing"}
    for wrong, words in cases.items():
        results = grade_mutant(EX, (LOSS_GRAD, f"    return {wrong}\n"))
        assert {"loss_gradient", "cost_gradient"} <= failed(results)
        assert words in results["loss_gradient"].hint and words in results["cost_gradient"].hint


def test_unsquared_loss_is_named(grade_mutant):
    results = grade_mutant(EX, ("    return (x * w - y) ** 2\n", "    return x * w - y\n"))
    assert results["loss"].hint.startswith("the loss squares the error")


@pytest.mark.parametrize("wrong, words", [("abs(x * w - y)", "absolute error"), ("0.5 * (x * w - y) ** 2", "no factor ½")])
def test_absolute_and_halved_losses_are_named(grade_mutant, wrong, words):
    results = grade_mutant(EX, ("    return (x * w - y) ** 2\n", f"    return {wrong}\n"))
    assert "loss" in failed(results) and words in results["loss"].hint


def test_cost_as_sum_is_named(grade_mutant):
    results = grade_mutant(EX, (COST, "    return sum(loss(x, y, w) for x, y in zip(xs, ys))\n"))
    assert results["cost"].hint == "the cost is the mean of the losses; this looks like their sum (divide by N)."
    assert "batch_gd_lecture" in failed(results)


def test_cost_gradient_as_sum_is_named_in_the_trajectories_too(grade_mutant):
    results = grade_mutant(EX, (COST_GRAD, "    return sum(loss_gradient(x, y, w) for x, y in zip(xs, ys))\n"))
    assert {"cost_gradient", "batch_gd_lecture", "minibatch_gd", "minibatch_full_batch"} <= failed(results)
    assert results["cost_gradient"].hint.startswith("the cost gradient is the mean of the sample gradients")
    assert results["batch_gd_lecture"].hint.startswith("the cost gradient is the mean of the sample gradients")
    assert results["minibatch_gd"].hint.startswith("each batch steps along the mean of its sample gradients; this used their sum")


def test_batch_gd_cost_after_the_step_is_named(grade_mutant):
    results = grade_mutant(EX, (BATCH_BODY, "        w = w - lr * cost_gradient(xs, ys, w)\n        history.append((w, cost(xs, ys, w)))\n"))
    assert failed(results) == {"batch_gd_lecture", "batch_gd_random", "batch_gd_random_hidden"}
    assert results["batch_gd_lecture"].hint.startswith("append the cost computed before the step (at the old w)")
    assert "batch_gd at xs=[1.0, 2.0, 3.0], ys=[2.0, 4.0, 6.0]: expected" in results["batch_gd_lecture"].message


def test_batch_gd_old_w_is_named(grade_mutant):
    results = grade_mutant(EX, (BATCH_BODY, "        history.append((w, cost(xs, ys, w)))\n        w = w - lr * cost_gradient(xs, ys, w)\n"))
    assert results["batch_gd_lecture"].hint.startswith("append the new w, after the update")


def test_sign_flipped_step_is_named(grade_mutant):
    results = grade_mutant(EX, (BATCH_BODY, BATCH_BODY.replace("w - lr *", "w + lr *")), (SGD_BODY, SGD_BODY.replace("w - lr *", "w + lr *")))
    assert results["batch_gd_lecture"].hint.startswith("the sign is flipped")
    assert results["sgd_lecture"].hint.startswith("the sign is flipped")


def test_sgd_loss_before_the_update_is_named(grade_mutant):
    results = grade_mutant(EX, (SGD_BODY, "            last_loss = loss(x, y, w)\n            w = w - lr * loss_gradient(x, y, w)\n"))
    assert {"sgd_lecture", "sgd_random", "sgd_random_hidden"} <= failed(results)
    assert results["sgd_lecture"].hint.startswith("record the loss of the last sample computed after its update")


def test_sgd_recording_the_cost_is_named(grade_mutant):
    results = grade_mutant(EX, ("        history.append((w, last_loss))\n", "        history.append((w, cost(xs, ys, w)))\n"))
    assert results["sgd_lecture"].hint.startswith("SGD records the loss of the last sample, not the cost")


def test_minibatch_mistakes_are_named(grade_mutant):
    sum_step = "            w = w - lr * len(xs[start:start + batch_size]) * cost_gradient(xs[start:start + batch_size], ys[start:start + batch_size], w)\n"
    fixed = ("            bx, by = xs[start:start + batch_size], ys[start:start + batch_size]\n"
             "            w = w - lr * cost_gradient(bx, by, w) * len(bx) / batch_size\n")
    drop = ("            if start + batch_size > len(xs):\n                continue\n" + MINIBATCH_STEP)
    for step, words in ((sum_step, "this used their sum"), (fixed, "not by batch_size"), (drop, "the last, shorter batch was skipped")):
        results = grade_mutant(EX, (MINIBATCH_STEP, step))
        assert "minibatch_gd" in failed(results)
        assert words in results["minibatch_gd"].hint, results["minibatch_gd"].output


def test_minibatch_cost_before_the_epoch_is_named(grade_mutant):
    results = grade_mutant(EX, ("        for start in range(0, len(xs), batch_size):\n",
                                "        before = cost(xs, ys, w)\n        for start in range(0, len(xs), batch_size):\n"),
                           ("        history.append((w, cost(xs, ys, w)))\n    return history\n    ### END SOLUTION\n\n\ndef ema",
                            "        history.append((w, before))\n    return history\n    ### END SOLUTION\n\n\ndef ema"))
    assert {"minibatch_gd", "minibatch_gd_random"} <= failed(results)
    assert "minibatch_full_batch" not in failed(results)  # the w are right, only the recorded cost is not
    assert results["minibatch_gd"].hint.startswith("record the cost over all the data after the epoch's updates")


def test_full_batch_and_single_sample_checks_catch_their_own_case(grade_mutant):
    # shuffling-free, but always one step per epoch along the whole data: right only when batch_size = N
    results = grade_mutant(EX, (MINIBATCH_STEP, "            pass\n        w = w - lr * cost_gradient(xs, ys, w)\n"))
    assert "minibatch_full_batch" not in failed(results)
    assert {"minibatch_single_sample", "minibatch_gd"} <= failed(results)
    # one step per sample, whatever batch_size: right only when batch_size = 1
    results = grade_mutant(EX, (MINIBATCH_STEP, "            pass\n        for x, y in zip(xs, ys):\n            w = w - lr * loss_gradient(x, y, w)\n"))
    assert "minibatch_single_sample" not in failed(results)
    assert {"minibatch_full_batch", "minibatch_gd"} <= failed(results)
    assert "the w of batch_gd (batch_size = N is batch gradient descent)" in results["minibatch_full_batch"].message


def test_ema_of_the_raw_previous_value_is_named(grade_mutant):
    raw = ("        smoothed.append(value if not smoothed else beta * value + (1 - beta) * values[len(smoothed) - 1])\n")
    results = grade_mutant(EX, (EMA_STEP, raw))
    assert {"ema", "ema_random"} <= failed(results)
    assert results["ema"].hint.startswith("smooth with the previous smoothed value") and "lecture slide" in results["ema"].hint


def test_ema_swapped_weights_and_zero_start_are_named(grade_mutant):
    swapped = "        smoothed.append(value if not smoothed else (1 - beta) * value + beta * smoothed[-1])\n"
    assert "weights are swapped" in grade_mutant(EX, (EMA_STEP, swapped))["ema"].hint
    zero = "        smoothed.append(beta * value + (1 - beta) * (smoothed[-1] if smoothed else 0.0))\n"
    assert "s[0] = v[0]" in grade_mutant(EX, (EMA_STEP, zero))["ema"].hint


def _lecture_run(step_per_sample: bool) -> list[tuple[float, float]]:
    """The lecture's printed run, computed here once to be pasted into a submission as a literal table."""
    w, history = 1.0, []
    for _ in range(100):
        if step_per_sample:
            for x, y in zip([1.0, 2.0, 3.0], [2.0, 4.0, 6.0]):
                w -= 0.01 * 2 * x * (x * w - y)
            history.append((w, (3.0 * w - 6.0) ** 2))
        else:
            before = sum((x * w - y) ** 2 for x, y in zip([1.0, 2.0, 3.0], [2.0, 4.0, 6.0])) / 3
            w -= 0.01 * sum(2 * x * (x * w - y) for x, y in zip([1.0, 2.0, 3.0], [2.0, 4.0, 6.0])) / 3
            history.append((w, before))
    return history


def test_hard_coded_lecture_tables_fail_the_random_checks(grade_mutant):
    results = grade_mutant(
        EX,
        ("    history = []\n    for _ in range(epochs):\n        cost_value", f"    return {_lecture_run(False)!r}\n    history = []\n    for _ in range(epochs):\n        cost_value"),
        ("    history = []\n    for _ in range(epochs):\n        for x, y", f"    return {_lecture_run(True)!r}\n    history = []\n    for _ in range(epochs):\n        for x, y"),
    )
    assert not failed(results) & {"batch_gd_lecture", "sgd_lecture"}  # the tables are right for the lecture's run ...
    assert {"batch_gd_random", "sgd_random", "batch_gd_random_hidden", "sgd_random_hidden"} <= failed(results)  # ... only


def test_wrong_length_is_reported_with_the_shape(grade_mutant):
    results = grade_mutant(EX, ("    for _ in range(epochs):\n        cost_value", "    for _ in range(epochs + 1):\n        cost_value"))
    assert "returned shape (101, 2); expected shape (100, 2)" in results["batch_gd_lecture"].message


def test_cost_gradient_without_the_mean_fails_on_random_data(grade_mutant):
    results = grade_mutant(EX, ("    return sum(loss_gradient(x, y, w) for x, y in zip(xs, ys)) / len(xs)\n",
                                "    return sum(loss_gradient(x, y, w) for x, y in zip(xs, ys))\n"))
    assert {"cost_gradient", "cost_gradient_random"} <= failed(results)
    assert "mean" in results["cost_gradient_random"].hint


# ------------------------------------------------------------------------------------- more known mistakes (issue 10)



def test_sgd_recording_the_last_samples_loss_before_its_update_is_named(grade_mutant):
    results = grade_mutant(EX, ("            w = w - lr * loss_gradient(x, y, w)\n            last_loss = loss(x, y, w)\n",
                                "            last_loss = loss(x, y, w)\n            w = w - lr * loss_gradient(x, y, w)\n"))
    assert "before the update" in hint_of(results, "sgd_lecture")


def test_sgd_with_one_batch_step_per_epoch_is_named(grade_mutant):
    results = grade_mutant(EX, ("        for x, y in zip(xs, ys):\n            w = w - lr * loss_gradient(x, y, w)\n            last_loss = loss(x, y, w)\n",
                                "        w = w - lr * cost_gradient(xs, ys, w)\n        last_loss = loss(xs[-1], ys[-1], w)\n"))
    assert "one update per epoch" in hint_of(results, "sgd_random")


def test_batch_gd_updating_after_every_sample_is_named(grade_mutant):
    results = grade_mutant(EX, ("        w = w - lr * cost_gradient(xs, ys, w)\n        history.append((w, cost_value))",
                                "        for x, y in zip(xs, ys):\n            w = w - lr * loss_gradient(x, y, w)\n        history.append((w, cost_value))"))
    assert "updated after every sample" in hint_of(results, "batch_gd_random")


def test_batch_gd_without_the_learning_rate_is_named(grade_mutant):
    results = grade_mutant(EX, ("        w = w - lr * cost_gradient(xs, ys, w)\n        history.append((w, cost_value))",
                                "        w = w - cost_gradient(xs, ys, w)\n        history.append((w, cost_value))"))
    assert "scaled by the learning rate" in hint_of(results, "batch_gd_lecture")


def test_gradients_returning_the_function_itself_or_the_wrong_variable_are_named(grade_mutant):
    results = grade_mutant(EX, ("    return 2 * x * (x * w - y)\n", "    return (x * w - y) ** 2\n"))
    assert "not its derivative" in hint_of(results, "loss_gradient")
    assert "not its derivative" in hint_of(results, "cost_gradient")  # the cost's gradient only averages loss_gradient
    results = grade_mutant(EX, ("    return 2 * x * (x * w - y)\n", "    return 2 * w * (x * w - y)\n"))
    assert "differentiate with respect to w" in hint_of(results, "loss_gradient")


def test_cost_gradient_of_the_last_sample_alone_is_named(grade_mutant):
    results = grade_mutant(EX, ("    return sum(loss_gradient(x, y, w) for x, y in zip(xs, ys)) / len(xs)\n",
                                "    for x, y in zip(xs, ys):\n        g = loss_gradient(x, y, w)\n    return g\n"))
    assert "last sample alone" in hint_of(results, "cost_gradient")


def test_minibatch_recording_the_last_batchs_cost_is_named(grade_mutant):
    results = grade_mutant(EX, ("            w = w - lr * cost_gradient(xs[start:start + batch_size], ys[start:start + batch_size], w)\n        history.append((w, cost(xs, ys, w)))",
                                "            w = w - lr * cost_gradient(xs[start:start + batch_size], ys[start:start + batch_size], w)\n"
                                "        history.append((w, cost(xs[start:start + batch_size], ys[start:start + batch_size], w)))"))
    assert "not the cost of the last batch" in hint_of(results, "minibatch_gd")


def test_ema_with_bias_correction_is_named(grade_mutant):
    results = grade_mutant(EX, ("    smoothed = []\n    for value in values:\n        smoothed.append(value if not smoothed else beta * value + (1 - beta) * smoothed[-1])\n    return smoothed",
                                "    smoothed, s = [], 0.0\n    for i, value in enumerate(values):\n        s = beta * value + (1 - beta) * s\n"
                                "        smoothed.append(s / (1 - (1 - beta) ** (i + 1)))\n    return smoothed"))
    assert "no bias correction" in hint_of(results, "ema")


def test_cost_as_root_mean_square_is_named(grade_mutant):
    results = grade_mutant(EX, ("    return sum(loss(x, y, w) for x, y in zip(xs, ys)) / len(xs)\n",
                                "    return (sum(loss(x, y, w) for x, y in zip(xs, ys)) / len(xs)) ** 0.5\n"))
    assert "square root" in hint_of(results, "cost")


def test_runs_that_ignore_their_inputs_are_named(grade_mutant):
    start = "    history = []\n    for _ in range(epochs):\n        cost_value = cost(xs, ys, w)\n"
    results = grade_mutant(EX, (start, "    xs, ys, w, lr, epochs = XS, YS, 1.0, 0.01, 100\n" + start))
    assert "batch_gd_lecture" not in failed(results)
    assert "the lecture's run, whatever the inputs" in hint_of(results, "batch_gd_random")


def test_one_epoch_too_few_is_named(grade_mutant):
    start = "    history = []\n    for _ in range(epochs):\n        cost_value = cost(xs, ys, w)\n"
    results = grade_mutant(EX, (start, start.replace("range(epochs)", "range(epochs - 1)")))
    assert "one too few" in hint_of(results, "batch_gd_lecture")


def test_minibatch_ignoring_batch_size_is_named(grade_mutant):
    results = grade_mutant(EX, (MINIBATCH_STEP, "            pass\n        w = w - lr * cost_gradient(xs, ys, w)\n"))
    assert "batch_size is ignored" in hint_of(results, "minibatch_gd")


def test_sgd_with_a_starting_row_is_named(grade_mutant):
    results = grade_mutant(EX, ("            last_loss = loss(x, y, w)\n        history.append((w, last_loss))\n    return history",
                                "            last_loss = loss(x, y, w)\n        history.append((w, last_loss))\n    return [(0.0, 0.0)] + history"))
    assert hint_of(results, "sgd_random").startswith("one row too many")


def test_the_lectures_data_hard_coded_is_named(grade_mutant):
    """The lecture's xs and ys written into the body, the other arguments used: named wherever the inputs differ."""
    lecture = "    xs, ys = [1.0, 2.0, 3.0], [2.0, 4.0, 6.0]\n"
    results = grade_mutant(EX, ("        cost_value = cost(xs, ys, w)\n", lecture.replace("    ", "        ", 1) + "        cost_value = cost(xs, ys, w)\n"))
    assert "batch_gd_lecture" not in failed(results) and "batch_gd_random" in failed(results)
    assert results["batch_gd_random"].hint.startswith("xs and ys are the lecture's data here")
    results = grade_mutant(EX, (COST_GRAD, lecture + COST_GRAD))
    assert results["cost_gradient"].hint.startswith("xs and ys are the lecture's data here")
