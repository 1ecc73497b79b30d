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
# For lines y = a₁x + c₁ and y = a₂x + c₂ the determinant is −a₁ + a₂: it vanishes exactly when the slopes are
# equal. Then the lines are parallel (no intersection) or identical (infinitely many), and there is no single
# answer to return: `solve_lines` raises `ValueError`.

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
# Take A of shape (m, n), x of shape (n,) and b of shape (m,). A vector-valued y(x) has one partial derivative
# ∂yⱼ/∂xᵢ for every pair (i, j). This kit arranges them in the **denominator layout**: the derivative dy/dx is the
# (n, len(y)) matrix whose row i holds the derivatives with respect to xᵢ — x's index runs down, y's across. The
# derivative of a scalar is then a vector shaped like x: exactly the gradient used by gradient descent. (The
# *numerator layout* is the transpose; both appear in books, so always check which one is meant.)
#
# **Affine map.** yⱼ = Σₖ Aⱼₖ xₖ + bⱼ, so ∂yⱼ/∂xᵢ = Aⱼᵢ. Entry [i, j] of the derivative is Aⱼᵢ: the
# derivative is Aᵀ, of shape (n, m).
#
# **Row form.** y = xᵀA + bᵀ with A of shape (n, m): yⱼ = Σₖ xₖ Aₖⱼ + bⱼ, so ∂yⱼ/∂xᵢ = Aᵢⱼ and the derivative
# is A itself.
#
# **Quadratic form.** q = xᵀBx = Σₖ Σₗ xₖ Bₖₗ xₗ. Differentiating by xᵢ catches xᵢ once as the left factor
# (Σₗ Bᵢₗ xₗ = (Bx)ᵢ) and once as the right one (Σₖ xₖ Bₖᵢ = (Bᵀx)ᵢ), so dq/dx = (B + Bᵀ)x. Only for a
# symmetric B is that 2Bx. A lecture slide wrote B + Bᵀ alone: that matrix is the *second* derivative (the
# Hessian) of q; the gradient still has the x.
#
# **Least squares.** Q = (Ax − b)ᵀ(Ax − b) = ‖Ax − b‖². With r = Ax − b, Q = rᵀr, dQ/dr = 2r, and the chain rule
# with dr/dx = Aᵀ (denominator layout, so the factors multiply right to left) gives dQ/dx = 2Aᵀ(Ax − b).
# Setting it to zero gives the normal equations AᵀAx = Aᵀb.

# %%
def grad_affine(A: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    """d(Ax + b)/dx in denominator layout: Aᵀ, shape (n, m)."""
    return A.T.copy()


def grad_row_affine(A: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    """d(xᵀA + bᵀ)/dx for A of shape (n, m): A itself, shape (n, m)."""
    return A.copy()


def grad_quadratic_form(B: np.ndarray, x: np.ndarray) -> np.ndarray:
    """d(xᵀBx)/dx = (B + Bᵀ)x, shape (n,)."""
    return (B + B.T) @ x


def grad_least_squares(A: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    """d((Ax − b)ᵀ(Ax − b))/dx = 2Aᵀ(Ax − b), shape (n,)."""
    return 2 * A.T @ (A @ x - b)


# %% [markdown]
# ## The same derivations with symbols
#
# sympy matrices of symbols follow the same algebra: `B.T` transposes, `*` is the matrix product. Here x and b are
# column matrices (shape (n, 1) and (m, 1)) and each function returns the gradient as a column matrix. One can
# check the formula by brute force: build q from the symbols and differentiate it by each xᵢ in turn.

# %%
def quadratic_form_gradient_sym(B: sympy.Matrix, x: sympy.Matrix) -> sympy.Matrix:
    """(B + Bᵀ)x for a square sympy matrix B and a column matrix x."""
    return (B + B.T) * x


def least_squares_gradient_sym(A: sympy.Matrix, b: sympy.Matrix, x: sympy.Matrix) -> sympy.Matrix:
    """2Aᵀ(Ax − b) for sympy matrices; b and x are column matrices."""
    return 2 * A.T * (A * x - b)


# %% [markdown]
# ## Least squares by gradient descent
#
# An overdetermined system Ax ≈ b (more equations than unknowns) has no exact solution; least squares picks the x
# with the smallest ‖Ax − b‖². Instead of solving the normal equations, walk downhill: from x = 0 repeat
# x ← x − lr·2Aᵀ(Ax − b). The largest safe step depends on the largest eigenvalue of 2AᵀA; below it, the iterates
# approach the answer `numpy.linalg.lstsq` gives.

# %%
def least_squares_gd(A: np.ndarray, b: np.ndarray, lr: float, steps: int) -> np.ndarray:
    """`steps` gradient-descent updates x ← x − lr·2Aᵀ(Ax − b) from x = 0; returns x, shape (n,)."""
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
