# %% [markdown]
# # Exercise 6 — the matrix-derivative homework
#
# ## Two lines as a linear system
#
# Where do y = 3x + 4 and y = 2x + 2 cross? Move the unknowns to the left and the constants to the right:
# 3x − y = −4 and 2x − y = −2. In matrix form A·[x, y] = b with
#
#     A = [[3, −1],      b = [−4,
#          [2, −1]]           −2]
#
# and, when A is invertible, [x, y] = A⁻¹b. For a 2×2 matrix, A⁻¹ = (1/det A)·[[d, −b], [−c, a]] with
# det A = a·d − b·c; here det A = −3 + 2 = −1, and the lines meet at (−2, −2).
#
# **`solve_lines(a1, c1, a2, c2) -> (x, y)`**: where y = a1·x + c1 meets y = a2·x + c2, two floats, found the same
# way (write the system as A·[x, y] = b and apply A⁻¹). When the two lines have no single intersection — parallel
# (none) or identical (infinitely many) — A is singular: raise `ValueError` with a message saying so instead of
# inverting it. Self-check: `solve_lines(3, 4, 2, 2)` is (−2, −2).

# %%
import numpy as np
import sympy


# %%
def solve_lines(a1: float, c1: float, a2: float, c2: float) -> tuple[float, float]:
    """The point (x, y) where y = a1·x + c1 meets y = a2·x + c2, from A·[x, y] = b; ValueError if there is none."""
    A = np.array([[a1, -1.0], [a2, -1.0]])
    b = np.array([-c1, -c2])
    det = A[0, 0] * A[1, 1] - A[0, 1] * A[1, 0]  # = a2 − a1
    if det == 0:
        raise ValueError(f"the lines have the same slope {a1}: they are parallel or identical")
    x, y = np.linalg.inv(A) @ b
    return float(x), float(y)


# %% [markdown]
# ## Derivatives with respect to a vector
#
# The homework's Q5 asks for four derivatives — answer them yourself, then code them:
#
# 1. y = Ax + b with A of shape (m, n), x of shape (n,), b of shape (m,): dy/dx = ?
# 2. y = xᵀA + bᵀ with A of shape (n, m), x of shape (n,), b of shape (m,): dy/dx = ?
# 3. q = xᵀBx with B of shape (n, n): dq/dx = ?
# 4. Q = (Ax − b)ᵀ(Ax − b) = ‖Ax − b‖²: dQ/dx = ?
#
# **The layout convention.** A vector-valued y(x) has one partial derivative ∂yⱼ/∂xᵢ for every pair (i, j). This
# kit arranges them in the **denominator layout**: dy/dx is the (n, len(y)) matrix whose entry [i, j] is ∂yⱼ/∂xᵢ —
# x's index runs down the rows, y's across the columns. The derivative of a scalar is then a vector shaped like x
# (shape (n,)): exactly the gradient used by gradient descent. (The *numerator layout* is the transpose; both
# appear in books, so always check which one is meant.)
#
# **Method: write it in components.** Expand y (or q, Q) as sums over indices, differentiate with respect to one
# xᵢ (every other component is a constant), and read the result back as a matrix or vector expression. For a
# composition, the chain rule in this layout multiplies the derivatives right to left: if Q = g(r) and r = h(x),
# then dQ/dx = (dr/dx)·(dQ/dr).
#
# Worked on a *different* function: y = (x₁², x₁·x₂) for x = (x₁, x₂). Then ∂y₁/∂x₁ = 2x₁, ∂y₁/∂x₂ = 0,
# ∂y₂/∂x₁ = x₂, ∂y₂/∂x₂ = x₁, and in the denominator layout (row i = ∂/∂xᵢ, column j = yⱼ)
#
#     dy/dx = [[2x₁, x₂],
#              [0,   x₁]]
#
# For a scalar, f(x) = Σₖ xₖ³ gives ∂f/∂xᵢ = 3xᵢ², so df/dx is the vector (3x₁², …, 3xₙ²), shaped like x.
#
# **A slide to check.** For question 3 a lecture slide gives the answer B + Bᵀ. Hold it against the layout: the
# derivative of the scalar q must be a vector of shape (n,), and B + Bᵀ is an (n, n) matrix. Derive dq/dx yourself
# (write q = Σₖ Σₗ xₖ Bₖₗ xₗ and note that xᵢ appears in both factors), and work out what the slide's matrix is
# instead.
#
# ## What to write
#
# numpy float64 arrays in, numpy arrays out:
#
# - `grad_affine(A, b, x)`: question 1, shape (n, m).
# - `grad_row_affine(A, b, x)`: question 2, A of shape (n, m), result shape (n, m).
# - `grad_quadratic_form(B, x)`: question 3, shape (n,). B need not be symmetric.
# - `grad_least_squares(A, b, x)`: question 4, shape (n,).
#
# The arguments you do not need (b, or x for a derivative that does not depend on it) are still taken, in that order.

# %%
def grad_affine(A: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    """d(Ax + b)/dx in the denominator layout, shape (n, m)."""
    return A.T.copy()


def grad_row_affine(A: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    """d(xᵀA + bᵀ)/dx for A of shape (n, m), in the denominator layout: shape (n, m)."""
    return A.copy()


def grad_quadratic_form(B: np.ndarray, x: np.ndarray) -> np.ndarray:
    """d(xᵀBx)/dx for a square (not necessarily symmetric) B, shape (n,)."""
    return (B + B.T) @ x


def grad_least_squares(A: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    """d((Ax − b)ᵀ(Ax − b))/dx, shape (n,)."""
    return 2 * A.T @ (A @ x - b)


# %% [markdown]
# ## The same derivations with symbols
#
# sympy matrices of symbols follow the same algebra: `B.T` transposes, `*` is the matrix product. Here x and b are
# column matrices (shapes (n, 1) and (m, 1)), and each function returns its gradient as a column matrix of shape
# (n, 1), built from the arguments it is given (any symbols, any size):
#
# - `quadratic_form_gradient_sym(B, x) -> sympy.Matrix`: the answer to question 3;
# - `least_squares_gradient_sym(A, b, x) -> sympy.Matrix`: the answer to question 4.
#
# You can check a formula by brute force: build q from the symbols and differentiate it by each xᵢ in turn
# (`sympy.diff(q, x[i])`).

# %%
def quadratic_form_gradient_sym(B: sympy.Matrix, x: sympy.Matrix) -> sympy.Matrix:
    """d(xᵀBx)/dx as a column matrix, for a square sympy matrix B and a column matrix x."""
    return (B + B.T) * x


def least_squares_gradient_sym(A: sympy.Matrix, b: sympy.Matrix, x: sympy.Matrix) -> sympy.Matrix:
    """d((Ax − b)ᵀ(Ax − b))/dx as a column matrix, for sympy matrices; b and x are column matrices."""
    return 2 * A.T * (A * x - b)


# %% [markdown]
# ## Least squares by gradient descent
#
# An overdetermined system Ax ≈ b (more equations than unknowns) has no exact solution; least squares picks the x
# with the smallest Q = ‖Ax − b‖². Instead of solving for it directly, walk downhill on Q.
#
# **`least_squares_gd(A, b, lr, steps) -> numpy.ndarray`**: start at x = 0 (shape (n,), float64) and make exactly
# `steps` updates x ← x − lr·dQ/dx, with the gradient of question 4 (your `grad_least_squares`); return x. For a
# small enough lr and enough steps it meets `numpy.linalg.lstsq(A, b)`; too large an lr makes it diverge.

# %%
def least_squares_gd(A: np.ndarray, b: np.ndarray, lr: float, steps: int) -> np.ndarray:
    """`steps` gradient-descent updates x ← x − lr·dQ/dx from x = 0; returns x, shape (n,)."""
    x = np.zeros(A.shape[1])
    for _ in range(steps):
        x = x - lr * grad_least_squares(A, b, x)
    return x


# %%
if __name__ == "__main__":
    print("lines meet at", solve_lines(3, 4, 2, 2))
    A = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    b = np.array([1.0, 2.0, 2.0])
    print("least squares by descent:", least_squares_gd(A, b, lr=0.1, steps=200))
    print("numpy.linalg.lstsq:      ", np.linalg.lstsq(A, b, rcond=None)[0])
    x1, x2, b11, b12, b21, b22 = sympy.symbols("x1 x2 b11 b12 b21 b22")
    print("d(xᵀBx)/dx =", quadratic_form_gradient_sym(sympy.Matrix([[b11, b12], [b21, b22]]), sympy.Matrix([x1, x2])))
