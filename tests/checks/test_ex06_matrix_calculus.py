"""ex06: each check catches a wrong submission of its own, names the known mistakes, and accepts other styles."""

from __future__ import annotations

import numpy as np
import sympy

from conftest import failed, hint_of, mutate, solution_source

EX = "ex06_matrix_calculus"
SOLVE_BODY = "    x, y = np.linalg.inv(A) @ b\n"
PARALLEL_GUARD = ("    if det == 0:\n"
                  "        raise ValueError(f\"the lines have the same slope {a1}: they are parallel or identical\")\n")


def test_sympy_derivations_match_the_closed_forms_and_torch():
    from grader.instructor.checks import ex06_matrix_calculus as checks

    rng = np.random.default_rng(0)
    A, b, x, B = rng.normal(size=(3, 2)), rng.normal(size=3), rng.normal(size=2), rng.normal(size=(2, 2))
    assert np.allclose(checks.sympy_affine(A, b, x), A.T) and np.allclose(checks.torch_affine(A, b, x), A.T)
    assert np.allclose(checks.sympy_row_affine(A.T, b, x), A.T) and np.allclose(checks.torch_row_affine(A.T, b, x), A.T)
    assert np.allclose(checks.sympy_quadratic(B, x), (B + B.T) @ x) and np.allclose(checks.torch_quadratic(B, x), (B + B.T) @ x)
    gradient = 2 * A.T @ (A @ x - b)
    assert np.allclose(checks.sympy_least_squares(A, b, x), gradient) and np.allclose(checks.torch_least_squares(A, b, x), gradient)


def test_message_shows_input_expected_source_received_and_tolerance(grade_mutant):
    results = grade_mutant(EX, (SOLVE_BODY, "    x, y = np.linalg.inv(A) @ b + 0.5\n"))
    assert results["solve_lines_homework"].message == (
        "ex06_matrix_calculus.solve_lines at a1=3, c1=4, a2=2, c2=2: expected [-2.0, -2.0] (the point on both lines), "
        "got [-1.5, -1.5]; 2 of 2 elements differ; the largest difference is at [1]: got -1.5, expected -2.0, "
        "difference 0.5 (allowed 3e-07)")


def test_sign_of_the_right_hand_side_is_named(grade_mutant):
    results = grade_mutant(EX, ("    b = np.array([-c1, -c2])\n", "    b = np.array([c1, c2])\n"))
    assert {"solve_lines_homework", "solve_lines_random", "solve_lines_more"} <= failed(results)
    assert results["solve_lines_homework"].hint.startswith("the right-hand side has the wrong sign")
    assert "c1" not in results["solve_lines_homework"].hint  # names the mistake, never the right-hand side itself


def test_hard_coded_homework_answer_fails_on_random_lines(grade_mutant):
    results = grade_mutant(EX, (SOLVE_BODY, "    x, y = -2.0, -2.0\n"))
    assert "solve_lines_homework" not in failed(results)
    assert {"solve_lines_random", "solve_lines_more"} <= failed(results)


def test_parallel_lines_must_raise_value_error(grade_mutant):
    results = grade_mutant(EX, (PARALLEL_GUARD, "    if a1 == a2:\n        return float('inf'), float('inf')\n"))
    assert failed(results) == {"solve_lines_parallel"}
    assert "expected ValueError because lines with equal slopes are parallel or identical" in results["solve_lines_parallel"].message
    results = grade_mutant(EX, (PARALLEL_GUARD, "    if a1 == a2:\n        raise ZeroDivisionError('parallel')\n"))
    assert "raised ZeroDivisionError: parallel" in results["solve_lines_parallel"].message


def test_numpy_linalg_error_counts_as_value_error(grade_mutant):
    results = grade_mutant(EX, (PARALLEL_GUARD, ""), (SOLVE_BODY, "    x, y = np.linalg.solve(A, b)\n"))
    assert failed(results) == set()


def test_numerator_layout_is_named(grade_mutant):
    results = grade_mutant(EX, ("    return A.T.copy()\n", "    return A.copy()\n"))
    assert {"grad_affine", "grad_affine_autograd"} <= failed(results)
    assert results["grad_affine"].hint.startswith("this is the numerator layout (the transpose of what is asked)")
    assert "returned shape (2, 3); expected shape (3, 2)" in results["grad_affine"].message
    results = grade_mutant(EX, ("    return A.copy()\n", "    return A.T.copy()\n"))
    assert {"grad_row_affine", "grad_row_affine_autograd"} <= failed(results)
    assert results["grad_row_affine"].hint.startswith("this is the numerator layout")


def test_two_bx_for_a_non_symmetric_b_is_named(grade_mutant):
    results = grade_mutant(EX, ("    return (B + B.T) @ x\n", "    return 2 * B @ x\n"))
    assert {"grad_quadratic_form", "grad_quadratic_form_autograd"} <= failed(results)
    assert results["grad_quadratic_form"].hint == "2Bx holds only for a symmetric B; differentiate xᵀBx for a general B."


def test_hessian_instead_of_gradient_is_named(grade_mutant):
    results = grade_mutant(EX, ("    return (B + B.T) @ x\n", "    return B + B.T\n"))
    assert "the Hessian" in results["grad_quadratic_form"].hint and "slide made this slip" in results["grad_quadratic_form"].hint


def test_one_term_of_the_quadratic_form_is_named(grade_mutant):
    results = grade_mutant(EX, ("    return (B + B.T) @ x\n", "    return B @ x\n"))
    assert results["grad_quadratic_form"].hint.startswith("x appears twice in xᵀBx")


def test_missing_two_in_least_squares_is_named(grade_mutant):
    results = grade_mutant(EX, ("    return 2 * A.T @ (A @ x - b)\n", "    return A.T @ (A @ x - b)\n"))
    assert {"grad_least_squares", "grad_least_squares_autograd", "least_squares_gd_steps", "least_squares_gd_random"} <= failed(results)
    assert results["grad_least_squares"].hint.startswith("the factor 2 from differentiating the square")
    assert results["least_squares_gd_steps"].hint.startswith("the factor 2 is missing from the step")


def test_least_squares_gradient_as_a_row_is_named(grade_mutant):
    results = grade_mutant(EX, ("    return 2 * A.T @ (A @ x - b)\n", "    return (2 * A.T @ (A @ x - b)).reshape(1, -1)\n"))
    assert "shaped like x" in results["grad_least_squares"].hint


def test_symbolic_mistakes_are_named(grade_mutant):
    quadratic = "    return (B + B.T) * x\n"
    results = grade_mutant(EX, (quadratic, "    return 2 * B * x\n"))
    assert failed(results) == {"quadratic_form_gradient_sym"}
    assert results["quadratic_form_gradient_sym"].hint.startswith("2Bx holds only for a symmetric B")
    message = results["quadratic_form_gradient_sym"].message
    assert "which is not equal to sympy: ∂/∂x_i of xᵀBx" in message and "B11 + B" not in message  # values, not the closed form
    assert "the Hessian" in grade_mutant(EX, (quadratic, "    return B + B.T\n"))["quadratic_form_gradient_sym"].hint
    assert "column matrix" in grade_mutant(EX, (quadratic, "    return ((B + B.T) * x).T\n"))["quadratic_form_gradient_sym"].hint
    results = grade_mutant(EX, ("    return 2 * A.T * (A * x - b)\n", "    return A.T * (A * x - b)\n"))
    assert failed(results) == {"least_squares_gradient_sym"}
    assert results["least_squares_gradient_sym"].hint.startswith("the factor 2 from differentiating the square")


def test_symbolic_answer_must_be_a_matrix(grade_mutant):
    results = grade_mutant(EX, ("    return (B + B.T) * x\n", "    return list((B + B.T) * x)\n"))
    assert "returned a list; expected a sympy Matrix of shape" in results["quadratic_form_gradient_sym"].message


def test_wrong_number_of_steps_is_named_and_too_few_steps_miss_lstsq(grade_mutant):
    results = grade_mutant(EX, ("    for _ in range(steps):\n        x = x - lr", "    for _ in range(steps - 1):\n        x = x - lr"))
    assert "one update fewer" in results["least_squares_gd_steps"].hint
    results = grade_mutant(EX, ("    for _ in range(steps):\n        x = x - lr", "    for _ in range(min(steps, 5)):\n        x = x - lr"))
    assert {"least_squares_gd_lstsq", "least_squares_gd_lstsq_random"} <= failed(results)
    assert "(numpy.linalg.lstsq(A, b), which the descent should reach)" in results["least_squares_gd_lstsq"].message


def test_other_styles_pass(grade_source):
    source = mutate(
        solution_source(EX),
        (PARALLEL_GUARD, "    if abs(a1 - a2) == 0:\n        raise ValueError('parallel')\n"),
        (SOLVE_BODY, "    det = -a1 + a2  # Cramer's rule\n    x, y = (c1 - c2) / det, (a2 * c1 - a1 * c2) / det\n"),
        ("    return A.T.copy()\n", "    return np.array([[A[j, i] for j in range(A.shape[0])] for i in range(A.shape[1])])\n"),
        ("    return A.copy()\n", "    return np.einsum('ij->ij', A)\n"),
        ("    return (B + B.T) @ x\n", "    return np.einsum('ij,j->i', B, x) + np.einsum('ji,j->i', B, x)\n"),
        ("    return 2 * A.T @ (A @ x - b)\n", "    return 2 * (A @ x - b) @ A\n"),
        ("    return (B + B.T) * x\n", "    q = (x.T * B * x)[0]\n    return sympy.Matrix([sympy.diff(q, v) for v in x])\n"),
        ("    return 2 * A.T * (A * x - b)\n", "    r = A * x - b\n    return sympy.Matrix([(r.T * r)[0]]).jacobian(x).T\n"),
    )
    assert failed(grade_source(EX, source)) == set()


def test_symbol_matrices_cross_the_wire_both_ways():
    from grader import wire

    B = sympy.Matrix(2, 2, sympy.symbols("B11 B12 B21 B22"))
    assert wire.loads(wire.dumps(B)) == B


# ------------------------------------------------------------------------------------- more known mistakes (issue 10)

INVERSE = "    x, y = np.linalg.inv(A) @ b\n"
SINGULAR_TEST = "    if det == 0:\n        raise ValueError(f\"the lines have the same slope {a1}: they are parallel or identical\")\n"



def test_solve_lines_multiplying_by_the_determinant_is_named(grade_mutant):
    results = grade_mutant(EX, (INVERSE, "    x, y = np.array([[A[1, 1], -A[0, 1]], [-A[1, 0], A[0, 0]]]) @ b * det\n"))
    assert "multiplied by it" in hint_of(results, "solve_lines_random")
    results = grade_mutant(EX, (INVERSE, "    x, y = np.array([[A[1, 1], -A[0, 1]], [-A[1, 0], A[0, 0]]]) @ b\n"))
    assert "division by the determinant is missing" in hint_of(results, "solve_lines_random")


def test_a_singular_system_inverted_anyway_is_named(grade_mutant):
    by_hand = ("    adjugate = np.array([[A[1, 1], -A[0, 1]], [-A[1, 0], A[0, 0]]])\n"
               "    x, y = (adjugate @ b) / float(det)\n")
    results = grade_mutant(EX, (SINGULAR_TEST, ""), (INVERSE, by_hand))
    assert "singular" in hint_of(results, "solve_lines_parallel")


def test_values_instead_of_derivatives_are_named(grade_mutant):
    results = grade_mutant(EX, ("    return A.T.copy()\n", "    return A @ x + b\n"))
    assert "not its derivative" in hint_of(results, "grad_affine")
    results = grade_mutant(EX, ("    return (B + B.T) @ x\n", "    return x @ B @ x\n"))
    assert "not its gradient" in hint_of(results, "grad_quadratic_form")


def test_least_squares_value_instead_of_gradient_is_named(grade_mutant):
    results = grade_mutant(EX, ("    return 2 * A.T @ (A @ x - b)\n", "    return float((A @ x - b) @ (A @ x - b))\n"))
    assert "not its gradient" in hint_of(results, "grad_least_squares")


def test_descent_with_a_gradient_taken_once_is_named(grade_mutant):
    results = grade_mutant(EX, ("    x = np.zeros(A.shape[1])\n    for _ in range(steps):\n        x = x - lr * grad_least_squares(A, b, x)\n",
                                "    x = np.zeros(A.shape[1])\n    g = grad_least_squares(A, b, x)\n    for _ in range(steps):\n        x = x - lr * g\n"))
    assert "recompute the gradient" in hint_of(results, "least_squares_gd_steps")


def test_hard_coded_homework_answer_is_named(grade_mutant):
    results = grade_mutant(EX, (SOLVE_BODY, "    x, y = -2.0, -2.0\n"))
    assert "the homework's answer, whatever the inputs" in hint_of(results, "solve_lines_random")


def test_a_row_affine_gradient_that_keeps_b_fails_both_row_affine_checks(grade_mutant):
    """d(xᵀA + bᵀ)/dx does not depend on b: adding it in is caught by the value check and by the autograd check."""
    results = grade_mutant(EX, ("    return A.copy()\n", "    return A + b[np.newaxis, :]\n"))
    assert {"grad_row_affine", "grad_row_affine_autograd"} <= failed(results)


def test_a_least_squares_gradient_of_the_wrong_sign_fails(grade_mutant):
    results = grade_mutant(EX, ("    return 2 * A.T * (A * x - b)\n", "    return 2 * A.T * (b - A * x)\n"))
    assert failed(results) == {"least_squares_gradient_sym"}
    assert "least_squares_gradient_sym" in results["least_squares_gradient_sym"].message


def test_a_product_of_mismatched_shapes_in_sympy_is_named(grade_mutant):
    results = grade_mutant(EX, ("    return 2 * A.T * (A * x - b)\n", "    return 2 * A * (A * x - b)\n"))
    assert failed(results) == {"least_squares_gradient_sym"}
    assert "raised ShapeError: Matrix size mismatch" in results["least_squares_gradient_sym"].message
    assert results["least_squares_gradient_sym"].hint.startswith("sympy raised ShapeError: a product multiplies matrices whose shapes do not fit")


def test_values_at_by_xreplace_equals_subs():
    """values_at substitutes with xreplace + evalf (about 30 times faster than Matrix.subs(dict).evalf() on a 3×3 least
    squares): the numbers subs gives, bit for bit or within a few units of the last place where subs rounds each
    product as it substitutes (far inside the judge's 1e-9), and the reference goes through the same function."""
    import numpy as np
    import sympy

    from grader.instructor.checks.ex06_matrix_calculus import points_of
    from grader.public.ex06_matrix_calculus import values_at

    A, b, x = sympy.Matrix(3, 2, sympy.symbols("A0:6")), sympy.Matrix(sympy.symbols("b0:3")), sympy.Matrix(sympy.symbols("x0:2"))
    B = sympy.Matrix(2, 2, sympy.symbols("B0:4"))
    for value in (2 * A.T * (A * x - b), (B + B.T) * x, (A * x - b).T * (A * x - b), sympy.sqrt((x.T * x)[0]) * x, x / (x.T * x)[0], A.T * A * x):
        points = points_of(A, b, x, B)
        subs = [np.array(value.subs({sympy.Symbol(k): v for k, v in p.items()}).evalf(), dtype=float) for p in points]
        assert all(np.allclose(s, v, rtol=1e-13, atol=1e-13) for s, v in zip(subs, values_at(value, points)))
