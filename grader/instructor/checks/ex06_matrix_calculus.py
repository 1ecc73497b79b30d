"""Checks of ex06_matrix_calculus: the homework's linear system and matrix derivatives in denominator layout.

Every gradient is checked against a sympy derivation made here — the function written out in symbols for the
probe's shapes and differentiated component by component, symbol by symbol (`derived`, cached per shape) — and,
in the hidden checks, against `torch.autograd.functional.jacobian` on other random shapes. The symbolic answers are
compared by simplification; `least_squares_gd` against the grader's own iteration and `numpy.linalg.lstsq`.
"""

from __future__ import annotations

import random
from functools import lru_cache
from typing import Any, Callable, Sequence

import numpy as np
import sympy

from grader.compare import tolerance_for
from grader.judges import DEFAULT_SOURCE, DataJudge, Mistake, expect, expect_raise, only_if
from grader.model import Check, Probe, call

EXERCISE = "ex06_matrix_calculus"
GRADIENT_TOLERANCE = tolerance_for("float64", 10.0, why="sums of a few products, in another order than sympy's")
SOLVE_TOLERANCE = tolerance_for("float64", 100.0, why="x = A⁻¹b: the rounding of an inverse, for |a1 − a2| ≥ 0.5")
LSTSQ_TOLERANCE = (1e-7, 1e-7)  # gradient descent stops close to, not exactly at, the minimiser


# ------------------------------------------------------------------------------------------------- sympy derivations


def symbol_matrix(name: str, rows: int, cols: int) -> sympy.Matrix:
    """A rows×cols matrix of symbols name11, name12, … (column vectors: name1, name2, …)."""
    if cols == 1:
        return sympy.Matrix(rows, 1, lambda i, _: sympy.Symbol(f"{name}{i + 1}"))
    return sympy.Matrix(rows, cols, lambda i, j: sympy.Symbol(f"{name}{i + 1}{j + 1}"))


def denominator_jacobian(y: sympy.Matrix, x: sympy.Matrix) -> sympy.Matrix:
    """[i, j] = ∂y_j/∂x_i, differentiated entry by entry; a scalar y gives a column shaped like x."""
    components = list(y)
    return sympy.Matrix(len(x), len(components), lambda i, j: sympy.diff(components[j], x[i]))


@lru_cache(maxsize=None)
def derived(kind: str, rows: int, cols: int) -> Callable[..., np.ndarray]:
    """The derivative of `kind` for matrices of shape (rows, cols), derived in sympy and compiled with lambdify.

    The compiled function takes the matrix's entries (row by row), then b's, then x's, and returns the derivative
    in denominator layout.
    """
    A = symbol_matrix("a", rows, cols)
    if kind == "affine":  # y = A·x + b, A (m, n)
        x, b = symbol_matrix("x", cols, 1), symbol_matrix("b", rows, 1)
        result = denominator_jacobian(A * x + b, x)
    elif kind == "row_affine":  # y = xᵀA + bᵀ, A (n, m)
        x, b = symbol_matrix("x", rows, 1), symbol_matrix("b", cols, 1)
        result = denominator_jacobian(x.T * A + b.T, x)
    elif kind == "quadratic":  # q = xᵀBx, B (n, n)
        x, b = symbol_matrix("x", cols, 1), sympy.Matrix(0, 1, [])
        result = denominator_jacobian(x.T * A * x, x)
    elif kind == "least_squares":  # Q = (Ax − b)ᵀ(Ax − b)
        x, b = symbol_matrix("x", cols, 1), symbol_matrix("b", rows, 1)
        residual = A * x - b
        result = denominator_jacobian(residual.T * residual, x)
    else:
        raise KeyError(kind)
    return sympy.lambdify([*A, *b, *x], result, modules="numpy")


def evaluate(kind: str, matrix: np.ndarray, b: np.ndarray | None, x: np.ndarray, vector: bool) -> np.ndarray:
    """The sympy-derived derivative at these numbers; `vector` flattens a gradient to the shape of x."""
    matrix = np.asarray(matrix, dtype=float)
    values = [*matrix.ravel(), *([] if b is None else np.ravel(b)), *np.ravel(x)]
    result = np.asarray(derived(kind, *matrix.shape)(*values), dtype=float)
    return result.reshape(-1) if vector else result


def sympy_affine(A, b, x):
    return evaluate("affine", A, b, x, vector=False)


def sympy_row_affine(A, b, x):
    return evaluate("row_affine", A, b, x, vector=False)


def sympy_quadratic(B, x):
    return evaluate("quadratic", B, None, x, vector=True)


def sympy_least_squares(A, b, x):
    return evaluate("least_squares", A, b, x, vector=True)


# ------------------------------------------------------------------------------------------------- torch autograd


def autograd(function: Callable, x: np.ndarray) -> np.ndarray:
    """The derivative of `function` (torch tensors in, out) at x in denominator layout, from torch's jacobian."""
    import torch

    jacobian = torch.autograd.functional.jacobian(function, torch.tensor(np.asarray(x, dtype=float), dtype=torch.float64))
    return jacobian.T.numpy() if jacobian.dim() == 2 else jacobian.numpy()


def torch_affine(A, b, x):
    return autograd(lambda v: _t(A) @ v + _t(b), x)


def torch_row_affine(A, b, x):
    return autograd(lambda v: v @ _t(A) + _t(b), x)


def torch_quadratic(B, x):
    return autograd(lambda v: v @ _t(B) @ v, x)


def torch_least_squares(A, b, x):
    return autograd(lambda v: (_t(A) @ v - _t(b)) @ (_t(A) @ v - _t(b)), x)


def _t(array: np.ndarray):
    import torch

    return torch.tensor(np.asarray(array, dtype=float), dtype=torch.float64)


# ------------------------------------------------------------------------------------------------- other references


def intersection(a1, c1, a2, c2):
    """Where y = a1·x + c1 meets y = a2·x + c2: x = (c2 − c1)/(a1 − a2)."""
    x = (c2 - c1) / (a1 - a2)
    return [x, a1 * x + c1]


def descent(A, b, lr, steps, factor=2.0, sign=1.0, start=0.0, frozen_gradient=False):
    """x after `steps` updates x ← x − lr·factor·Aᵀ(Ax − b) from 0; factor 1, sign −1, another `start` and a gradient
    taken once at the start (`frozen_gradient`) model known mistakes."""
    A, b = np.asarray(A, dtype=float), np.asarray(b, dtype=float)
    x = np.full(A.shape[1], float(start))
    first = A.T @ (A @ x - b)
    for _ in range(int(steps)):
        x = x - sign * lr * factor * (first if frozen_gradient else A.T @ (A @ x - b))
    return x


def lstsq(A, b, lr=None, steps=None):
    return np.linalg.lstsq(np.asarray(A, dtype=float), np.asarray(b, dtype=float), rcond=None)[0]


# ------------------------------------------------------------------------------------------------- mistakes

NUMERATOR = "this is the numerator layout (the transpose of what is asked); in the denominator layout entry [i, j] is ∂y_j/∂x_i."
AFFINE_MISTAKES = [Mistake(NUMERATOR, lambda A, b, x: np.asarray(A, dtype=float)),
                   Mistake("this is the value of A·x + b at x, not its derivative with respect to x.", lambda A, b, x: np.asarray(A) @ x + b)]
ROW_AFFINE_MISTAKES = [Mistake(NUMERATOR, lambda A, b, x: np.asarray(A, dtype=float).T),
                       Mistake("this is the value of xᵀA + bᵀ at x, not its derivative with respect to x.", lambda A, b, x: x @ np.asarray(A) + b)]
TWO_TERMS = "x appears twice in xᵀBx: the product rule gives a term for each appearance, and this is only one of them."
QUADRATIC_MISTAKES = [
    Mistake("2Bx holds only for a symmetric B; differentiate xᵀBx for a general B.", lambda B, x: 2 * np.asarray(B) @ x),
    Mistake("this is the second derivative (the Hessian) of xᵀBx, a matrix; the gradient is a vector shaped like x (a lecture slide made this slip).",
            lambda B, x: np.asarray(B) + np.asarray(B).T),
    Mistake(TWO_TERMS, lambda B, x: np.asarray(B) @ x),
    Mistake(TWO_TERMS, lambda B, x: np.asarray(B).T @ x),
    Mistake("this is the value of xᵀBx at x, not its gradient.", lambda B, x: float(x @ np.asarray(B) @ x)),
]
LEAST_SQUARES_MISTAKES = [
    Mistake("the factor 2 from differentiating the square rᵀr of the residual r = Ax − b is missing.", lambda A, b, x: np.asarray(A).T @ (np.asarray(A) @ x - b)),
    Mistake("the sign is flipped: differentiate (Ax − b)ᵀ(Ax − b) as written; the gradient points uphill.", lambda A, b, x: -2 * np.asarray(A).T @ (np.asarray(A) @ x - b)),
    Mistake("the inner derivative is missing: by the chain rule, the derivative of Ax − b with respect to x multiplies the outer one.", lambda A, b, x: 2 * (np.asarray(A) @ x - b)),
    Mistake("the gradient of a scalar is shaped like x, (n,), not a row or column matrix.",
            lambda A, b, x: (2 * np.asarray(A).T @ (np.asarray(A) @ x - b)).reshape(1, -1)),
    Mistake("this is the value of (Ax − b)ᵀ(Ax − b) at x, not its gradient.",
            lambda A, b, x: float((np.asarray(A) @ x - b) @ (np.asarray(A) @ x - b))),
]
SOLVE_MISTAKES = [
    Mistake("the right-hand side has the wrong sign: a constant moved across the equals sign changes its sign.",
            lambda a1, c1, a2, c2: intersection(a1, -c1, a2, -c2)),
    Mistake("return (x, y) in that order.", lambda a1, c1, a2, c2: intersection(a1, c1, a2, c2)[::-1]),
    Mistake("this is the homework's answer, whatever the inputs: solve the system of the lines given.",
            lambda a1, c1, a2, c2: only_if((a1, c1, a2, c2) != (3, 4, 2, 2), lambda: [-2.0, -2.0])),
    Mistake("the inverse of a 2×2 matrix divides its adjugate by the determinant; this multiplied by it.",
            lambda a1, c1, a2, c2: [(a1 - a2) ** 2 * v for v in intersection(a1, c1, a2, c2)]),
    *[Mistake("this is the adjugate times b: the division by the determinant is missing.",
              lambda a1, c1, a2, c2, sign=sign: [sign * determinant_not_one(a1, a2) * v for v in intersection(a1, c1, a2, c2)])
      for sign in (1, -1)],
]


def determinant_not_one(a1: float, a2: float) -> float:
    """a1 − a2, the determinant up to its sign; where it is ±1 the missing division cannot be told from a sign slip."""
    if abs(abs(a1 - a2) - 1.0) < 1e-12:
        raise ValueError("a determinant of ±1: dividing by it changes nothing but the sign")
    return a1 - a2
DESCENT_MISTAKES = [
    Mistake("the factor 2 is missing from the step (the square's factor 2 in the gradient).", lambda A, b, lr, steps: descent(A, b, lr, steps, factor=1.0)),
    Mistake("the step goes uphill: subtract the gradient, x ← x − lr·gradient.", lambda A, b, lr, steps: descent(A, b, lr, steps, sign=-1.0)),
    Mistake("`steps` updates are asked for; this looks like one update fewer.", lambda A, b, lr, steps: descent(A, b, lr, steps - 1)),
    Mistake("`steps` updates are asked for; this looks like one update more.", lambda A, b, lr, steps: descent(A, b, lr, steps + 1)),
    Mistake("x starts at 0 (numpy.zeros), not at 1.", lambda A, b, lr, steps: descent(A, b, lr, steps, start=1.0)),
    Mistake("recompute the gradient at the current x in every step; this kept the gradient of the starting point.",
            lambda A, b, lr, steps: descent(A, b, lr, steps, frozen_gradient=True)),
]


def symbolic_quadratic(B, x):
    """∂(xᵀBx)/∂x_i for each symbol x_i, as a column."""
    return denominator_jacobian(x.T * B * x, x)


def symbolic_least_squares(A, b, x):
    residual = A * x - b
    return denominator_jacobian(residual.T * residual, x)


SYMBOLIC_QUADRATIC_MISTAKES = [
    Mistake(QUADRATIC_MISTAKES[0].hint, lambda B, x: 2 * B * x),
    Mistake(QUADRATIC_MISTAKES[1].hint, lambda B, x: B + B.T),
    Mistake("return a column matrix (n×1), shaped like x; this is its transpose.", lambda B, x: ((B + B.T) * x).T),
    Mistake(QUADRATIC_MISTAKES[2].hint, lambda B, x: B * x),
    Mistake(QUADRATIC_MISTAKES[3].hint, lambda B, x: B.T * x),
]
SYMBOLIC_LEAST_SQUARES_MISTAKES = [
    Mistake(LEAST_SQUARES_MISTAKES[0].hint, lambda A, b, x: A.T * (A * x - b)),
    Mistake(LEAST_SQUARES_MISTAKES[1].hint, lambda A, b, x: -2 * A.T * (A * x - b)),
    Mistake("return a column matrix (n×1), shaped like x; this is its transpose.", lambda A, b, x: 2 * (A * x - b).T * A),
]


# ------------------------------------------------------------------------------------------------- judges


def expect_array(reference: Callable, formula: str, mistakes: Sequence[Mistake] = (), tolerance=GRADIENT_TOLERANCE, *,
                 source: str = DEFAULT_SOURCE) -> DataJudge:
    """`grader.judges.expect`, recognising mistakes of another shape too (a transposed Jacobian, a Hessian)."""
    return expect(reference, formula, mistakes, tolerance, source=source, shaped=True)


def points_of(*matrices: sympy.Matrix, count: int = 3) -> list[dict[str, float]]:
    """Fixed random values (the same on every run) for the symbols of these matrices."""
    names = sorted({s.name for m in matrices for s in m.free_symbols})
    rng = random.Random("|".join(names))
    return [{name: round(rng.uniform(-2, 2), 3) for name in names} for _ in range(count)]


def at_points(value: sympy.Matrix, points: Sequence[dict[str, float]]) -> list[np.ndarray]:
    from grader.public.ex06_matrix_calculus import values_at

    return values_at(value, points)


def expect_symbolic(reference: Callable, formula: str, mistakes: Sequence[Mistake], *, source: str = DEFAULT_SOURCE) -> DataJudge:
    """The returned sympy Matrix must equal the reference derivation: compared at fixed random values of the symbols."""
    points = lambda probe: points_of(*probe.args)  # noqa: E731
    sources = {"points": points, "expected": lambda probe: at_points(reference(*probe.args), points(probe))}
    sources.update({f"mistake:{i}": (lambda probe, m=m: at_points(m.answer(*probe.args), points(probe)))
                    for i, m in enumerate(mistakes)})
    return DataJudge("grader.public.ex06_matrix_calculus:judge_symbolic_matrix",
                     {"source": source, "hints": [m.hint for m in mistakes], "raises": [list(r) for r in SHAPE_ERRORS]}, sources, formula)


SHAPE_ERRORS = [("ShapeError", "Matrix size mismatch",
                 "sympy raised ShapeError: a product multiplies matrices whose shapes do not fit (A is m×n, Ax − b is m×1). "
                 "Follow the shapes through the chain rule in the denominator layout: the gradient is a column shaped like x.")]


def with_singular_hint(judge: DataJudge) -> DataJudge:
    """`judge` (an `expect_raise`), naming a singular matrix inverted anyway (grader.public.ex06_matrix_calculus)."""
    return DataJudge("grader.public.ex06_matrix_calculus:judge_singular", {**judge.spec, "inner": judge.logic}, judge.sources, judge.formula)


AFFINE_FORMULA = "Aᵀ"
ROW_AFFINE_FORMULA = "A"
QUADRATIC_FORMULA = "(B + Bᵀ)x"
LEAST_SQUARES_FORMULA = "2Aᵀ(Ax − b)"
JACOBIAN = "the sympy Jacobian of {} in denominator layout, [i, j] = ∂y_j/∂x_i, at these inputs"
GRADIENT = "sympy: ∂/∂x_i of {} for each x_i, at these inputs"

judge_affine = expect_array(sympy_affine, AFFINE_FORMULA, AFFINE_MISTAKES, source=JACOBIAN.format("y = A·x + b"))
judge_row_affine = expect_array(sympy_row_affine, ROW_AFFINE_FORMULA, ROW_AFFINE_MISTAKES, source=JACOBIAN.format("y = xᵀA + bᵀ"))
judge_quadratic = expect_array(sympy_quadratic, QUADRATIC_FORMULA, QUADRATIC_MISTAKES, source=GRADIENT.format("xᵀBx"))
judge_least_squares = expect_array(sympy_least_squares, LEAST_SQUARES_FORMULA, LEAST_SQUARES_MISTAKES, source=GRADIENT.format("(Ax − b)ᵀ(Ax − b)"))
judge_solve = expect_array(intersection, "x = (c2 − c1)/(a1 − a2), y = a1·x + c1", SOLVE_MISTAKES, SOLVE_TOLERANCE,
                           source="the point on both lines")
judge_parallel = with_singular_hint(expect_raise("ValueError", "lines with equal slopes are parallel or identical: no single intersection (det A = 0)",
                                                also=["LinAlgError"]))  # numpy's LinAlgError is a subclass of ValueError
judge_descent_steps = expect_array(descent, "x ← x − lr·2Aᵀ(Ax − b), `steps` times from x = 0", DESCENT_MISTAKES, tolerance_for("float64", 100.0, why="`steps` updates accumulate rounding"),
                                   source="the grader's own `steps` steps of gradient descent on (Ax − b)ᵀ(Ax − b) from x = 0")
judge_descent_lstsq = expect_array(lstsq, "numpy.linalg.lstsq(A, b)", (), LSTSQ_TOLERANCE,
                                   source="numpy.linalg.lstsq(A, b), which the descent should reach")


# ------------------------------------------------------------------------------------------------- inputs


def matrix(rng: random.Random, rows: int, cols: int | None = None) -> np.ndarray:
    """Random entries in [-3, 3], two decimals, so that messages stay readable."""
    shape = (rows,) if cols is None else (rows, cols)
    return np.round(np.array([rng.uniform(-3.0, 3.0) for _ in range(int(np.prod(shape)))]).reshape(shape), 2)


def affine_case(rng: random.Random, m: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return matrix(rng, m, n), matrix(rng, m), matrix(rng, n)


def row_affine_case(rng: random.Random, n: int, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return matrix(rng, n, m), matrix(rng, m), matrix(rng, n)


def nonsymmetric(rng: random.Random, n: int) -> np.ndarray:
    while True:
        B = matrix(rng, n, n)
        if np.abs(B - B.T).max() > 0.5:
            return B


def random_lines(rng: random.Random) -> tuple[float, float, float, float]:
    """Two lines whose slopes differ by at least 0.5."""
    a1 = round(rng.uniform(-5.0, 5.0), 2)
    a2 = round(a1 + rng.choice([-1, 1]) * rng.uniform(0.5, 4.0), 2)
    return a1, round(rng.uniform(-10.0, 10.0), 2), a2, round(rng.uniform(-10.0, 10.0), 2)


def least_squares_problem(rng: random.Random) -> tuple[np.ndarray, np.ndarray, float]:
    """A tall, well-conditioned A (condition number at most 4), b, and a learning rate 0.9/(2σ_max²)."""
    n = rng.randint(2, 3)
    m = n + rng.randint(1, 3)
    while True:
        A = matrix(rng, m, n)
        singular = np.linalg.svd(A, compute_uv=False)
        if singular[-1] > 0 and singular[0] / singular[-1] <= 4.0:
            return A, matrix(rng, m), round(0.9 / (2 * singular[0] ** 2), 5)


def symbolic_case(rng: random.Random, rows: int, cols: int) -> tuple[sympy.Matrix, sympy.Matrix, sympy.Matrix]:
    return symbol_matrix("a", rows, cols), symbol_matrix("b", rows, 1), symbol_matrix("x", cols, 1)


def gradient_probe(function: str, *args: Any) -> Probe:
    names = ["B", "x"] if function in ("grad_quadratic_form", "quadratic_form_gradient_sym") else ["A", "b", "x"]
    return call(function, *args, names=names)


# ------------------------------------------------------------------------------------------------- the checks


def checks(rng: random.Random) -> list[Check]:
    square, tall = rng.randint(2, 4), (rng.randint(2, 4), rng.randint(1, 3))
    wide = (tall[0], tall[0] + rng.randint(1, 2))
    lstsq_A, lstsq_b, lstsq_lr = least_squares_problem(rng)
    symmetric = matrix(rng, 3, 3)
    n_sym = rng.randint(2, 3)
    return [
        Check(name="solve_lines_homework", points=1,
              probes=(call("solve_lines", 3, 4, 2, 2, names=["a1", "c1", "a2", "c2"]),), judge=judge_solve,
              description="y = 3x + 4 and y = 2x + 2 meet at (−2, −2)"),
        Check(name="solve_lines_random", points=1,
              probes=tuple(call("solve_lines", *random_lines(rng), names=["a1", "c1", "a2", "c2"]) for _ in range(3)), judge=judge_solve),
        Check(name="solve_lines_parallel", points=1,
              probes=(call("solve_lines", 2.0, 1.0, 2.0, 5.0, names=["a1", "c1", "a2", "c2"]),
               call("solve_lines", 3.0, 4.0, 3.0, 4.0, names=["a1", "c1", "a2", "c2"]),
               call("solve_lines", (a := round(rng.uniform(-5, 5), 2)), round(rng.uniform(-5, 5), 2), a, round(rng.uniform(-5, 5), 2),
                    names=["a1", "c1", "a2", "c2"])),
              judge=judge_parallel, expects_errors=True, description="parallel and identical lines raise ValueError"),
        Check(name="grad_affine", points=2,
              probes=tuple(gradient_probe("grad_affine", *affine_case(rng, m, n)) for m, n in ((2, 3), (square, square), tall)), judge=judge_affine),
        Check(name="grad_row_affine", points=2,
              probes=tuple(gradient_probe("grad_row_affine", *row_affine_case(rng, n, m)) for n, m in ((2, 3), (square, square), wide)), judge=judge_row_affine),
        Check(name="grad_quadratic_form", points=2,
              probes=(gradient_probe("grad_quadratic_form", nonsymmetric(rng, 2), matrix(rng, 2)),
               gradient_probe("grad_quadratic_form", nonsymmetric(rng, square), matrix(rng, square)),
               gradient_probe("grad_quadratic_form", symmetric + symmetric.T, matrix(rng, 3))),
              judge=judge_quadratic, description="non-symmetric B, then a symmetric one"),
        Check(name="grad_least_squares", points=2,
              probes=tuple(gradient_probe("grad_least_squares", *affine_case(rng, m, n)) for m, n in ((3, 2), tall, (square, square))), judge=judge_least_squares),
        Check(name="quadratic_form_gradient_sym", points=2, expects_errors=True,
              probes=(gradient_probe("quadratic_form_gradient_sym", symbol_matrix("B", n_sym, n_sym), symbol_matrix("x", n_sym, 1)),),
              judge=expect_symbolic(symbolic_quadratic, "(B + Bᵀ)x", SYMBOLIC_QUADRATIC_MISTAKES, source=GRADIENT.format("xᵀBx") + ", as a column")),
        Check(name="least_squares_gradient_sym", points=2, expects_errors=True,
              probes=(gradient_probe("least_squares_gradient_sym", *symbolic_case(rng, 3, 2)),
               gradient_probe("least_squares_gradient_sym", *symbolic_case(rng, 2, n_sym))),
              judge=expect_symbolic(symbolic_least_squares, "2Aᵀ(Ax − b)", SYMBOLIC_LEAST_SQUARES_MISTAKES,
                              source=GRADIENT.format("(Ax − b)ᵀ(Ax − b)") + ", as a column")),
        Check(name="least_squares_gd_steps", points=1,
              probes=(call("least_squares_gd", lstsq_A, lstsq_b, lstsq_lr, rng.randint(2, 5), names=["A", "b", "lr", "steps"]),),
              judge=judge_descent_steps),
        Check(name="least_squares_gd_lstsq", points=2,
              probes=(call("least_squares_gd", lstsq_A, lstsq_b, lstsq_lr, 1500, names=["A", "b", "lr", "steps"]),),
              judge=judge_descent_lstsq, description="enough small steps reach numpy.linalg.lstsq"),
    ]
