"""ex01: each check catches a wrong submission of its own, names the known mistakes, and accepts other styles."""

from __future__ import annotations

from conftest import failed, mutate, solution_source

EX = "ex01_linear_model"


def test_message_shows_input_expected_source_received_and_tolerance(grade_mutant):
    results = grade_mutant(EX, ("    return x * w\n", "    return x * w + 1\n"))
    message = results["forward"].message
    assert message.startswith("ex01_linear_model.forward at x=1.0, w=0.0: expected 0.0 (the model ŷ = x·w), got 1.0; difference 1.0 (allowed 1e-09)")


def test_sum_instead_of_mean_is_named(grade_mutant):
    results = grade_mutant(EX, ("return sum(loss(x, y, w) for x, y in zip(xs, ys)) / len(xs)", "return sum(loss(x, y, w) for x, y in zip(xs, ys))"))
    assert {"cost", "loss_curve_lecture", "loss_curve_random"} <= failed(results)
    assert results["cost"].hint == "the cost is the mean of the losses; this looks like their sum (divide by N)."
    assert "not their sum" in results["loss_curve_lecture"].hint and "not their sum" in results["loss_curve_random"].hint


def test_missing_square_is_named(grade_mutant):
    results = grade_mutant(EX, ("return (forward(x, w) - y) ** 2", "return forward(x, w) - y"))
    assert results["loss"].hint.startswith("the loss squares the error")


def test_absolute_error_is_named(grade_mutant):
    results = grade_mutant(EX, ("return (forward(x, w) - y) ** 2", "return abs(forward(x, w) - y)"))
    assert "absolute error" in results["loss"].hint


def test_grid_without_upper_bound_is_named(grade_mutant):
    results = grade_mutant(EX, ("    axes = [np.linspace(lo, hi, n) for lo, hi in bounds]\n    best_point, best_cost, evaluations = None, None, 0\n    for point",
                                "    axes = [np.arange(lo, hi, (hi - lo) / n) for lo, hi in bounds]\n    best_point, best_cost, evaluations = None, None, 0\n    for point"))
    assert {"grid_search_lecture", "grid_search_random"} <= failed(results)
    assert "upper bound" in results["grid_search_lecture"].hint


def test_grid_with_n_plus_one_points_is_named(grade_mutant):
    results = grade_mutant(EX, ("    axes = [np.linspace(lo, hi, n) for lo, hi in bounds]\n    best_point, best_cost, evaluations = None, None, 0\n    for point",
                                "    axes = [np.linspace(lo, hi, n + 1) for lo, hi in bounds]\n    best_point, best_cost, evaluations = None, None, 0\n    for point"))
    assert "n points per axis" in results["grid_search_lecture"].hint


def test_wrong_evaluation_count_fails(grade_mutant):
    results = grade_mutant(EX, ("    return best_point, evaluations\n    ### END SOLUTION\n\n\ndef refine_search",
                                "    return best_point, n\n    ### END SOLUTION\n\n\ndef refine_search"))
    assert "grid_search_random" in failed(results)
    assert "evaluations should be the number of calls" in results["grid_search_random"].message


def test_last_tie_instead_of_first_fails(grade_mutant):
    results = grade_mutant(EX, ("        if best_cost is None or value < best_cost:\n            best_point, best_cost = point, value\n    return",
                                "        if best_cost is None or value <= best_cost:\n            best_point, best_cost = point, value\n    return"))
    assert failed(results) == {"grid_search_ties"}
    assert "keep the first one" in results["grid_search_ties"].hint


def test_unclamped_refinement_is_named(grade_mutant):
    results = grade_mutant(EX, ("bounds = [(max(lo, b - s), min(hi, b + s))", "bounds = [(b - s, b + s)"))
    assert "refine_search_boundary" in failed(results)
    assert "stay inside the old ones" in results["refine_search_boundary"].hint


def test_last_round_best_is_named(grade_mutant):
    results = grade_mutant(EX, ("        if best_cost is None or round_cost < best_cost:\n", "        if True:\n"))
    bad = failed(results) & {"refine_search_lecture", "refine_search_random"}
    assert bad and any("over all rounds" in (results[n].hint or "") for n in bad)


def test_hard_coded_lecture_table_fails(grade_mutant):
    results = grade_mutant(EX, ("    return [cost(xs, ys, w) for w in ws]", "    return [56 / 3, 14 / 3, 0.0, 14 / 3, 56 / 3]"))
    assert "loss_curve_lecture" not in failed(results)  # the table is right for the lecture's data ...
    assert "loss_curve_random" in failed(results)  # ... and wrong anywhere else


def test_numpy_style_answers_pass(grade_source):
    source = mutate(
        solution_source(EX),
        ("return sum(loss(x, y, w) for x, y in zip(xs, ys)) / len(xs)", "return float(np.mean((np.asarray(xs) * w - np.asarray(ys)) ** 2))"),
        ("return (forward(x, w) - y) ** 2", "return np.square(np.float64(x) * w - y)"),
    )
    assert failed(grade_source(EX, source)) == set()


def test_returning_none_or_nan_gets_a_clear_message(grade_mutant):
    results = grade_mutant(EX, ("    return x * w\n", "    x * w\n"))
    assert "returned None; expected a real number (is a `return` statement missing?)" in results["forward"].message
    results = grade_mutant(EX, ("    return x * w\n", "    return float('nan')\n"))
    assert "returned nan; expected a finite real number" in results["forward"].message


def test_syntax_error_fails_every_check_with_the_line(grade_mutant):
    results = grade_mutant(EX, ("    return x * w\n", "    return x * * w\n"))
    assert all(r.status == "failed" for r in results.values())
    assert "does not compile: SyntaxError at line" in results["forward"].message


# ------------------------------------------------------------------------------------- more known mistakes (issue 10)

GRID_BODY = ("        value = cost_fn(point)\n        evaluations += 1\n        if best_cost is None or value < best_cost:\n"
             "            best_point, best_cost = point, value\n    return best_point, evaluations")


def test_grid_search_calling_cost_fn_twice_per_point_names_the_budget(grade_mutant):
    results = grade_mutant(EX, (GRID_BODY, GRID_BODY.replace("or value < best_cost", "or cost_fn(point) < best_cost")))
    assert {"grid_search_lecture", "grid_search_ties"} <= failed(results)
    assert "may call cost_fn only n**d times" in results["grid_search_lecture"].hint
    assert "about 2 times per point" in results["grid_search_lecture"].hint


def test_grid_search_keeping_the_largest_cost_is_named(grade_mutant):
    results = grade_mutant(EX, (GRID_BODY, GRID_BODY.replace("value < best_cost", "value > best_cost")))
    assert "largest cost" in results["grid_search_lecture"].hint


def test_refine_search_reusing_grid_search_then_calling_cost_fn_names_the_budget(grade_mutant):
    old = "    best_point, best_cost, evaluations = None, None, 0\n    for _ in range(rounds):\n        axes"
    new = ("    best_point, best_cost, evaluations = None, None, 0\n    for _ in range(rounds):\n"
           "        point, count = grid_search(cost_fn, bounds, n)\n        value = cost_fn(point)\n        evaluations += count\n"
           "        if best_cost is None or value < best_cost:\n            best_point, best_cost = point, value\n"
           "        steps = [(hi - lo) / (n - 1) for lo, hi in bounds]\n"
           "        bounds = [(max(lo, b - s), min(hi, b + s)) for (lo, hi), b, s in zip(bounds, point, steps)]\n"
           "    return best_point, evaluations\n    for _ in range(rounds):\n        axes")
    results = grade_mutant(EX, (old, new))
    assert {"refine_search_lecture", "refine_search_boundary", "refine_search_random"} <= failed(results)
    assert "may call cost_fn only rounds·n**d times" in results["refine_search_lecture"].hint


def test_refine_search_returning_the_last_rounds_best_fails_a_public_check(grade_mutant):
    results = grade_mutant(EX, ("        if best_cost is None or round_cost < best_cost:\n", "        if True:\n"))
    assert "refine_search_best_seen" in failed(results)
    assert "over all rounds" in results["refine_search_best_seen"].hint
    assert "refine_search_random" in failed(results)  # the hidden check has such a case too, at any seed


def test_refine_search_with_a_step_of_range_over_n_is_named(grade_mutant):
    results = grade_mutant(EX, ("        steps = [(hi - lo) / (n - 1) for lo, hi in bounds]\n        bounds = [(max",
                                "        steps = [(hi - lo) / n for lo, hi in bounds]\n        bounds = [(max"))
    hints = [results[n].hint or "" for n in failed(results)]
    assert hints and any("n points make n − 1 gaps" in h for h in hints)


def test_cost_failing_only_because_loss_is_wrong_says_so(grade_mutant):
    results = grade_mutant(EX, ("return (forward(x, w) - y) ** 2", "return forward(x, w) - y"))
    assert {"loss", "cost", "loss_curve_lecture"} <= failed(results)
    assert "fix `loss` first" in results["cost"].hint
    assert "fix `cost` (or the `loss` it averages) first" in results["loss_curve_lecture"].hint


def test_common_cost_mistakes_are_named(grade_mutant):
    mean = "return sum(loss(x, y, w) for x, y in zip(xs, ys)) / len(xs)"
    cases = {
        "return (sum(loss(x, y, w) for x, y in zip(xs, ys)) / len(xs)) ** 0.5": "without a square root",
        "return sum(loss(x, y, w) for x, y in zip(xs, ys)) / (len(xs) - 1)": "not by N − 1",
        "for x, y in zip(xs, ys):\n        total = loss(x, y, w)\n    return total / 1": "loss of the last sample alone",
    }
    for wrong, hint in cases.items():
        results = grade_mutant(EX, (mean, wrong))
        assert hint in (results["cost"].hint or ""), (wrong, results["cost"].output)


def test_half_squared_loss_and_added_model_are_named(grade_mutant):
    results = grade_mutant(EX, ("return (forward(x, w) - y) ** 2", "return 0.5 * (forward(x, w) - y) ** 2"))
    assert "factor ½" in results["loss"].hint
    results = grade_mutant(EX, ("    return x * w\n", "    return x + w\n"))
    assert "multiplies" in results["forward"].hint


def test_hard_coded_lecture_table_is_named(grade_mutant):
    results = grade_mutant(EX, ("    return [cost(xs, ys, w) for w in ws]", "    return [56 / 3, 14 / 3, 0.0, 14 / 3, 56 / 3]"))
    assert "the lecture's table, whatever the inputs" in results["loss_curve_random"].hint


def test_floor_division_in_the_mean_is_named(grade_mutant):
    results = grade_mutant(EX, ("return sum(loss(x, y, w) for x, y in zip(xs, ys)) / len(xs)", "return sum(loss(x, y, w) for x, y in zip(xs, ys)) // len(xs)"))
    assert "not `//`" in results["cost"].hint
