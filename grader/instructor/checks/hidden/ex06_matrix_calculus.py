"""Hidden checks of ex06_matrix_calculus: the gradients against torch.autograd on other random shapes, more lines,
and another least-squares problem."""

from __future__ import annotations

import random

from grader.instructor.checks.ex06_matrix_calculus import (
    AFFINE_MISTAKES, LEAST_SQUARES_MISTAKES, QUADRATIC_MISTAKES, ROW_AFFINE_MISTAKES, affine_case, expect_array,
    gradient_probe, judge_descent_lstsq, judge_descent_steps, judge_solve, least_squares_problem, matrix, nonsymmetric,
    random_lines, row_affine_case, torch_affine, torch_least_squares, torch_quadratic, torch_row_affine,
)
from grader.model import Check, call

TORCH = "torch.autograd.functional.jacobian, transposed to denominator layout"


def checks(rng: random.Random) -> list[Check]:
    shapes = [(rng.randint(1, 6), rng.randint(1, 6)) for _ in range(2)]
    n = rng.randint(3, 6)
    A, b, lr = least_squares_problem(rng)
    return [
        Check(name="grad_affine_autograd", points=1,
              probes=tuple(gradient_probe("grad_affine", *affine_case(rng, m, k)) for m, k in shapes),
              judge=expect_array(torch_affine, f"{TORCH} of A·x + b", AFFINE_MISTAKES, source=f"{TORCH} of A·x + b")),
        Check(name="grad_row_affine_autograd", points=1,
              probes=tuple(gradient_probe("grad_row_affine", *row_affine_case(rng, k, m)) for m, k in shapes),
              judge=expect_array(torch_row_affine, f"{TORCH} of xᵀA + bᵀ", ROW_AFFINE_MISTAKES, source=f"{TORCH} of xᵀA + bᵀ")),
        Check(name="grad_quadratic_form_autograd", points=1,
              probes=(gradient_probe("grad_quadratic_form", nonsymmetric(rng, n), matrix(rng, n)),),
              judge=expect_array(torch_quadratic, f"{TORCH} of xᵀBx", QUADRATIC_MISTAKES, source=f"{TORCH} of xᵀBx")),
        Check(name="grad_least_squares_autograd", points=1,
              probes=tuple(gradient_probe("grad_least_squares", *affine_case(rng, m, k)) for m, k in shapes),
              judge=expect_array(torch_least_squares, f"{TORCH} of (Ax − b)ᵀ(Ax − b)", LEAST_SQUARES_MISTAKES, source=f"{TORCH} of (Ax − b)ᵀ(Ax − b)")),
        Check(name="solve_lines_more", points=1,
              probes=tuple(call("solve_lines", *random_lines(rng), names=["a1", "c1", "a2", "c2"]) for _ in range(4)), judge=judge_solve),
        Check(name="least_squares_gd_random", points=2,
              probes=(call("least_squares_gd", A, b, lr, rng.randint(1, 8), names=["A", "b", "lr", "steps"]),), judge=judge_descent_steps),
        Check(name="least_squares_gd_lstsq_random", points=1,
              probes=(call("least_squares_gd", A, b, lr, 1500, names=["A", "b", "lr", "steps"]),), judge=judge_descent_lstsq),
    ]
