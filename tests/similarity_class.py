"""A small class for `grader similarity`: three authors who solved ex01, ex03 and ex04 independently, a disguised
copy of one of them, and a student who handed in the untouched stubs.

- `ada_reference`: the reference solutions (solutions/), verbatim;
- `ben_numpy`: numpy and comprehensions where they fit (the sample class's vectorised style, extended);
- `cleo_loops`: explicit loops and indices, helpers reused (grid_search inside refine_search);
- `dan_disguised`: cleo's code with its names changed, every comment gone, the functions in reverse order, and ex03
  handed in as a notebook;
- `sam_stubs`: exercises/ as handed out.

Every author's answers pass the public and hidden checks (`write_class(folder)`, then `grader check --hidden`).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import make_sample_class as sample  # noqa: E402  (fill_in: an answer per function into the solution's module)

EXERCISES = ("ex01_linear_model", "ex03_quadratic", "ex04_cost_loss_sgd")

BEN = {
    "ex01_linear_model": {
        **sample.VECTORISED_EX01,
        "loss_curve": "return list(map(lambda w: cost(xs, ys, w), ws))",
        "refine_search": """
            lows = np.array([lo for lo, _ in bounds], dtype=float)
            highs = np.array([hi for _, hi in bounds], dtype=float)
            best, best_value, calls = None, np.inf, 0
            for _ in range(rounds):
                grid = list(itertools.product(*[np.linspace(l, h, n) for l, h in zip(lows, highs)]))
                values = [cost_fn(tuple(float(c) for c in p)) for p in grid]
                calls += len(values)
                i = int(np.argmin(values))
                centre = np.array(grid[i], dtype=float)
                if values[i] < best_value:
                    best, best_value = tuple(float(c) for c in centre), values[i]
                step = (highs - lows) / (n - 1)
                lows, highs = np.maximum(lows, centre - step), np.minimum(highs, centre + step)
            return best, calls
        """,
    },
    "ex03_quadratic": {
        **sample.EXPANDED_EX03,
        "loss": "return float((w2 * x ** 2 + w1 * x + b - y) ** 2)",
        "gradient_exprs": """
            params = {"w1": w1, "w2": w2, "b": b}
            loss_expr = (w2 * x**2 + w1 * x + b - y) ** 2
            return {name: sympy.diff(loss_expr, symbol) for name, symbol in params.items()}
        """,
        "train": """
            params = [w1, w2, b]
            log = []
            for epoch in range(epochs):
                for xi, yi in zip(xs, ys):
                    grads = gradients(xi, yi, *params)
                    params = [p - lr * g for p, g in zip(params, grads)]
                mean_loss = sum(loss(xi, yi, *params) for xi, yi in zip(xs, ys)) / len(xs)
                log.append((*params, mean_loss))
            return log
        """,
    },
    "ex04_cost_loss_sgd": {
        "loss": "return float(np.square(w * x - y))",
        "loss_gradient": "return float(2 * x * (w * x - y))",
        "cost": "a, t = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)\nreturn float(np.mean((a * w - t) ** 2))",
        "cost_gradient": "a, t = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)\nreturn float(np.mean(2 * a * (a * w - t)))",
        "batch_gd": """
            ws, costs = [], []
            for _ in range(epochs):
                costs.append(cost(xs, ys, w))
                w = w - lr * cost_gradient(xs, ys, w)
                ws.append(w)
            return list(zip(ws, costs))
        """,
        "sgd": """
            pairs = np.column_stack([xs, ys]).astype(float)
            trail = []
            for _ in range(epochs):
                for xi, yi in pairs:
                    w = w - lr * loss_gradient(xi, yi, w)
                trail.append((w, loss(xi, yi, w)))
            return trail
        """,
        "minibatch_gd": """
            a, t = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
            cuts = list(range(batch_size, len(a), batch_size))
            trail = []
            for _ in range(epochs):
                for bx, by in zip(np.split(a, cuts), np.split(t, cuts)):
                    w = w - lr * float(np.mean(2 * bx * (bx * w - by)))
                trail.append((w, cost(a, t, w)))
            return trail
        """,
        "ema": """
            out = np.empty(len(values))
            for i, v in enumerate(values):
                out[i] = v if i == 0 else beta * v + (1 - beta) * out[i - 1]
            return out.tolist()
        """,
    },
}

CLEO = {
    "ex01_linear_model": {
        "forward": "y_hat = w * x\nreturn y_hat",
        "loss": "diff = x * w - y\nreturn diff * diff",
        "cost": """
            total = 0.0
            for i in range(len(xs)):
                total += loss(xs[i], ys[i], w)
            return total / len(xs)
        """,
        "loss_curve": """
            curve = []
            for w in ws:
                curve.append(cost(xs, ys, w))
            return curve
        """,
        "grid_search": """
            d = len(bounds)
            axes = [list(np.linspace(lo, hi, n)) for (lo, hi) in bounds]
            best, best_val, count = None, None, 0
            for k in range(n ** d):
                idx, rest = [], k
                for _ in range(d):
                    idx.append(rest % n)
                    rest //= n
                idx.reverse()
                point = tuple(float(axes[a][idx[a]]) for a in range(d))
                val = cost_fn(point)
                count += 1
                if best_val is None or val < best_val:
                    best, best_val = point, val
            return best, count
        """,
        "refine_search": """
            box = [(float(lo), float(hi)) for lo, hi in bounds]
            seen = {}

            def remember(point):
                seen[point] = cost_fn(point)
                return seen[point]

            overall, total = None, 0
            for r in range(rounds):
                centre, calls = grid_search(remember, box, n)
                total += calls
                if overall is None or seen[centre] < seen[overall]:
                    overall = centre
                new_box = []
                for (lo, hi), c in zip(box, centre):
                    step = (hi - lo) / (n - 1)
                    new_box.append((max(lo, c - step), min(hi, c + step)))
                box = new_box
            return overall, total
        """,
    },
    "ex03_quadratic": {
        "forward": "return b + x * (w1 + w2 * x)",
        "loss": "r = forward(x, w1, w2, b) - y\nreturn r * r",
        "gradient_exprs": """
            prediction = w2 * x ** 2 + w1 * x + b
            l = (prediction - y) ** 2
            result = {}
            for name in ("w1", "w2", "b"):
                result[name] = l.diff(sympy.Symbol(name))
            return result
        """,
        "gradients": """
            r = forward(x, w1, w2, b) - y
            g_b = 2 * r
            return g_b * x, g_b * x ** 2, g_b
        """,
        "train": """
            out = []
            n = len(xs)
            epoch = 0
            while epoch < epochs:
                i = 0
                while i < n:
                    g1, g2, g0 = gradients(xs[i], ys[i], w1, w2, b)
                    w1 -= lr * g1
                    w2 -= lr * g2
                    b -= lr * g0
                    i += 1
                total = 0.0
                for i in range(n):
                    total += loss(xs[i], ys[i], w1, w2, b)
                out.append((w1, w2, b, total / n))
                epoch += 1
            return out
        """,
    },
    "ex04_cost_loss_sgd": {
        "loss": "e = x * w - y\nreturn e * e",
        "loss_gradient": "return 2.0 * (x * w - y) * x",
        "cost": """
            total = 0.0
            for i in range(len(xs)):
                total += loss(xs[i], ys[i], w)
            return total / len(xs)
        """,
        "cost_gradient": """
            total = 0.0
            for i in range(len(xs)):
                total += loss_gradient(xs[i], ys[i], w)
            return total / len(xs)
        """,
        "batch_gd": """
            trace = []
            epoch = 0
            while epoch < epochs:
                before = cost(xs, ys, w)
                w = w - lr * cost_gradient(xs, ys, w)
                trace += [(w, before)]
                epoch += 1
            return trace
        """,
        "sgd": """
            trace = []
            for epoch in range(epochs):
                i = 0
                while i < len(xs):
                    w -= lr * loss_gradient(xs[i], ys[i], w)
                    i += 1
                trace += [(w, loss(xs[i - 1], ys[i - 1], w))]
            return trace
        """,
        "minibatch_gd": """
            trace = []
            n = len(xs)
            for epoch in range(epochs):
                i = 0
                while i < n:
                    j = min(i + batch_size, n)
                    g = 0.0
                    for k in range(i, j):
                        g += loss_gradient(xs[k], ys[k], w)
                    w -= lr * g / (j - i)
                    i = j
                trace += [(w, cost(xs, ys, w))]
            return trace
        """,
        "ema": """
            if not values:
                return []
            out = [values[0]]
            for i in range(1, len(values)):
                out.append(beta * values[i] + (1 - beta) * out[i - 1])
            return out
        """,
    },
}

# dan renames every local name of cleo's (never a parameter: the grader may pass those by keyword)
RENAMES = {"y_hat": "pred", "diff": "delta", "total": "acc", "curve": "results", "axes": "grid_axes", "best_val": "lowest",
           "best": "winner", "count": "n_calls", "idx": "digits", "rest": "q", "point": "pt", "val": "v", "box": "region",
           "seen": "memo", "remember": "store", "overall": "champion", "centre": "middle", "calls": "used",
           "new_box": "shrunk", "step": "half_width", "prediction": "yhat", "l": "sq_err", "result": "grads",
           "r": "resid", "g_b": "twice_r", "out": "hist", "g1": "d1", "g2": "d2", "g0": "d0", "e": "err",
           "trace": "record", "before": "c_prev", "j": "stop", "g": "grad_sum"}


def numpy_import(source: str) -> str:
    """ben added `import numpy as np` to ex04 (its stub imports only typing)."""
    return source.replace("from typing import Sequence\n", "from typing import Sequence\n\nimport numpy as np\n", 1)


def renamed(bodies: dict[str, str]) -> dict[str, str]:
    pattern = re.compile(r"(?<!\.)\b(" + "|".join(sorted(map(re.escape, RENAMES), key=len, reverse=True)) + r")\b")
    return {name: pattern.sub(lambda m: RENAMES[m.group(1)], body) for name, body in bodies.items()}


def blocks(source: str) -> list[str]:
    """The top-level blocks of a module: runs of lines separated by a blank line before an unindented one."""
    return [chunk.strip("\n") for chunk in re.split(r"\n\s*\n(?=\S)", source) if chunk.strip()]


def disguised(source: str) -> str:
    """The module without a comment line, its imports first and its other blocks in reverse order."""
    source = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("#"))
    imports = [b for b in blocks(source) if b.startswith(("import", "from"))]
    rest = [b for b in blocks(source) if b not in imports]
    return "\n\n\n".join(imports + rest[::-1]) + "\n"


def notebook(source: str) -> str:
    """`source` as a notebook, a code cell per block separated by blank lines."""
    return json.dumps({"cells": [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                                  "source": cell.splitlines(keepends=True)} for cell in blocks(source)],
                       "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1)


def write_class(folder: Path) -> Path:
    """The five students under `folder` (returned)."""
    solutions = sample.available_solutions()
    release = sample.kit_release()
    files: dict[str, dict[str, str]] = {"ada_reference": {}, "ben_numpy": {}, "cleo_loops": {}, "dan_disguised": {}, "sam_stubs": {}}
    for exercise in EXERCISES:
        source = solutions[exercise]
        files["ada_reference"][f"{exercise}.py"] = sample.fill_in(source, {})
        ben = sample.fill_in(source, BEN[exercise])
        files["ben_numpy"][f"{exercise}.py"] = numpy_import(ben) if exercise == "ex04_cost_loss_sgd" else ben
        files["cleo_loops"][f"{exercise}.py"] = sample.fill_in(source, CLEO[exercise])
        dan = disguised(sample.fill_in(source, renamed(CLEO[exercise])))
        if exercise == "ex03_quadratic":
            files["dan_disguised"][f"{exercise}.ipynb"] = notebook(dan)
        else:
            files["dan_disguised"][f"{exercise}.py"] = dan
        files["sam_stubs"][f"{exercise}.py"] = release.strip_solutions((ROOT / "solutions" / f"{exercise}.py").read_text())
    for student, written in files.items():
        for name, text in written.items():
            (folder / student).mkdir(parents=True, exist_ok=True)
            (folder / student / name).write_text(text, encoding="utf-8")
    return folder


if __name__ == "__main__":
    print(write_class(Path(sys.argv[1])))
