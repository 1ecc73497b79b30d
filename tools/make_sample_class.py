"""Regenerate `sample_class/`: a dozen synthetic students for `grader grade sample_class --out graded`.

Every student's file is built from `solutions/<exercise>.py` (its worked derivations left out) the way a student
fills in `exercises/`: each answer region is replaced by that student's code (the markers disappear). By default the
code is the solution's own; a student may override a function's body (another correct style, or a common mistake),
leave a file out, break its syntax, or loop forever at import. Overrides are written against SPEC.md's signatures, not the solutions'
text, so the class survives edits of the solutions; a stale override (a function that no longer exists) stops
the script with a clear message.

    python tools/make_sample_class.py            # rewrite sample_class/
    python tools/make_sample_class.py --check    # exit 1 when sample_class/ differs from what would be written

Exercises without a solution yet are left out of every student (and named on stderr).
"""

from __future__ import annotations

import argparse
import io
import re
import shutil
import sys
import textwrap
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
SAMPLE = ROOT / "sample_class"
EXERCISES = (
    "ex01_linear_model", "ex02_derivative", "ex03_quadratic", "ex04_cost_loss_sgd",
    "ex05_torch_gd", "ex06_matrix_calculus", "ex07_mlp_regression", "ex08_lenet",
)  # grader.checks.EXERCISES, repeated so that the script runs without the kit installed
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
ZIP_TIME = (2024, 1, 1, 0, 0, 0)  # fixed, so that regenerating gives the same bytes


class StaleSample(RuntimeError):
    """An override that no longer fits the solutions (a renamed function, a region that moved)."""


# --------------------------------------------------------------------------------------- filling in regions


def regions(source: str) -> dict[str, tuple[int, int, str]]:
    """Qualified function name (`train`, `LeNet5.__init__`) -> (BEGIN line index, END line index, indentation)."""
    lines = source.splitlines()
    found, scopes, begin = {}, [], None
    for index, line in enumerate(lines):
        stripped = line.strip()
        indent = line[: len(line) - len(line.lstrip())]
        if stripped == BEGIN:
            name = ".".join(n for i, n in scopes if len(i) < len(indent))
            begin = (index, name, indent)
        elif stripped == END and begin is not None:
            start, name, indent = begin
            if name in found:
                raise StaleSample(f"two answer regions in {name}; the generator expects one per function")
            found[name] = (start, index, indent)
            begin = None
        elif stripped and begin is None:
            match = re.match(r"(\s*)(?:async\s+)?(?:def|class)\s+(\w+)", line)
            if match:
                scopes = [(i, n) for i, n in scopes if len(i) < len(match.group(1))] + [(match.group(1), match.group(2))]
    return found


def fill_in(source: str, bodies: dict[str, str], prefix: str = "") -> str:
    """The solution with every answer region replaced: by `bodies[name]` where given, else by its own code."""
    lines = source.splitlines()
    found = regions(source)
    unknown = set(bodies) - set(found)
    if unknown:
        raise StaleSample(f"no answer region in {sorted(unknown)}; regions are {sorted(found)}")
    output, position = [], 0
    for name, (start, end, indent) in sorted(found.items(), key=lambda item: item[1][0]):
        output.extend(lines[position:start])
        own = textwrap.dedent("\n".join(lines[start + 1 : end]))
        body = textwrap.dedent(bodies.get(name, own)).strip("\n")
        if prefix:
            body = prefix + "\n" + body
        output.extend(indent + line if line else line for line in body.splitlines())
        position = end + 1
    output.extend(lines[position:])
    return "\n".join(output) + "\n"


def before_main(source: str, code: str) -> str:
    """`code` at module level, just before the `if __name__ == "__main__":` block (or at the end)."""
    code = textwrap.dedent(code).strip("\n") + "\n\n\n"
    marker = 'if __name__ == "__main__":'
    if marker in source:
        head, tail = source.split(marker, 1)
        return head + code + marker + tail
    return source + "\n\n" + code


# --------------------------------------------------------------------------------------------- the students

Change = Callable[[str], "str | None"]  # filled-in source -> what the student submits (None: no file)


@dataclass
class Student:
    name: str
    description: str
    bodies: dict[str, dict[str, str]] = field(default_factory=dict)  # exercise -> function -> body
    changes: dict[str, Change] = field(default_factory=dict)  # exercise -> change of the whole file
    prefix: dict[str, str] = field(default_factory=dict)  # exercise -> a line put first in every function
    archive: str | None = None  # None: a folder; "root": a zip with files at its root; "folder": in one folder

    def files(self, solutions: dict[str, str]) -> dict[str, str]:
        written = {}
        for exercise, source in solutions.items():
            text = fill_in(source, self.bodies.get(exercise, {}), self.prefix.get(exercise, ""))
            change = self.changes.get(exercise)
            text = change(text) if change else text
            if text is not None:
                written[f"{exercise}.py"] = text
        stale = (set(self.bodies) | set(self.changes) | set(self.prefix)) - set(EXERCISES)
        if stale:
            raise StaleSample(f"{self.name}: unknown exercises {sorted(stale)}")
        return written


def missing(_: str) -> None:
    return None


SYNTAX_MARK = "TODO close this bracket"


def endless_training(source: str) -> str:
    """Demo code left at module level that waits for a float to hit 2.0 exactly: it never does."""
    return before_main(source, """
        # quick experiment: step w towards the minimum until it is exactly 2
        w_demo = 0.0
        while w_demo != 2.0:
            w_demo += 0.3
    """)


def stub(exercise: str) -> Change:
    """The untouched stub from exercises/ (regenerated from the solution, as `grader release` does)."""

    def change(_: str) -> str:
        return kit_release().strip_solutions((SOLUTIONS / f"{exercise}.py").read_text())

    return change


VECTORISED_EX01 = {
    "forward": "return float(np.multiply(x, w))",
    "loss": "return float(np.square(np.multiply(x, w) - y))",
    "cost": "xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)\nreturn float(np.mean((xs * w - ys) ** 2))",
    "loss_curve": "return [cost(xs, ys, w) for w in np.asarray(ws, dtype=float)]",
    "grid_search": """
        points = [tuple(float(v) for v in p) for p in itertools.product(*(np.linspace(lo, hi, n) for lo, hi in bounds))]
        costs = [cost_fn(p) for p in points]
        return points[int(np.argmin(costs))], len(costs)
    """,
}
EXPANDED_EX02 = {
    "dloss_dw": "return 2 * x**2 * w - 2 * x * y",
    "gradient": "return 2.0 * x * x * w - 2.0 * x * y",
    "numerical_gradient": "upper, lower = f(w + h), f(w - h)\nreturn (upper - lower) / h / 2",
}
EXPANDED_EX03 = {
    "forward": "return b + w1 * x + w2 * x**2",
    "gradients": """
        residual = w2 * x**2 + w1 * x + b - y
        return (2 * x * residual, 2 * x**2 * residual, 2 * residual)
    """,
}

STUDENTS = [
    Student("ada_lovelace", "the reference solutions, verbatim"),
    Student("ben_vectorised", "correct, another style: numpy vectorised, expanded derivatives",
            bodies={"ex01_linear_model": VECTORISED_EX01, "ex02_derivative": EXPANDED_EX02, "ex03_quadratic": EXPANDED_EX03}),
    Student("chloe_chatty", "correct, but prints while it works (ex01-ex03)",
            prefix={e: 'print("debug: entering my function")' for e in EXERCISES[:3]}),
    Student("dev_zip_folder", "correct, handed in as a zip with one top-level folder", archive="folder"),
    Student("emma_sum_cost", "common mistake: the cost sums the losses instead of averaging them (ex01)",
            bodies={"ex01_linear_model": {"cost": "return sum(loss(x, y, w) for x, y in zip(xs, ys))"}}),
    Student("felix_no_two", "common mistake: the derivative forgets the factor 2 (ex02 gradient)",
            bodies={"ex02_derivative": {"gradient": "return x * (x * w - y)"}}),
    Student("grace_last_tie", "common mistake: grid search keeps the last of equal costs (<= instead of <, ex01)",
            bodies={"ex01_linear_model": {"grid_search": """
                axes = [np.linspace(lo, hi, n) for lo, hi in bounds]
                best_point, best_cost, evaluations = None, None, 0
                for point in itertools.product(*axes):
                    point = tuple(float(p) for p in point)
                    value = cost_fn(point)
                    evaluations += 1
                    if best_cost is None or value <= best_cost:
                        best_point, best_cost = point, value
                return best_point, evaluations
            """}}),
    Student("hugo_missing_file", "forgot to hand in ex02_derivative.py", changes={"ex02_derivative": missing}),
    Student("iris_syntax_error", "an unclosed bracket in ex01_linear_model.py",
            bodies={"ex01_linear_model": {"forward": f"return (x * w  # {SYNTAX_MARK}"}}),
    Student("jonas_endless_loop", "demo code at the top of ex01_linear_model.py that never ends",
            changes={"ex01_linear_model": endless_training}),
    Student("kim_zip_stubs", "handed in the untouched stubs, as a zip with the files at its root",
            changes={e: stub(e) for e in EXERCISES}, archive="root"),
    Student("leo_sequential", "common mistake: ex03 updates w1 before taking the other gradients (not simultaneous)",
            bodies={"ex03_quadratic": {"train": """
                history = []
                for _ in range(epochs):
                    for x_n, y_n in zip(xs, ys):
                        w1 = w1 - lr * gradients(x_n, y_n, w1, w2, b)[0]
                        w2 = w2 - lr * gradients(x_n, y_n, w1, w2, b)[1]
                        b = b - lr * gradients(x_n, y_n, w1, w2, b)[2]
                    cost = sum(loss(x_n, y_n, w1, w2, b) for x_n, y_n in zip(xs, ys)) / len(xs)
                    history.append((w1, w2, b, cost))
                return history
            """}}),
]


# ------------------------------------------------------------------------------------------------- writing


def kit_release():
    """grader.instructor.release from this checkout (it splits a solution module into what students receive and the rest)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from grader.instructor import release

    return release


def available_solutions() -> dict[str, str]:
    """Exercise -> its solution module as a student's file would read: the answers in, the worked derivations out."""
    strip = kit_release().without_derivations
    return {e: strip((SOLUTIONS / f"{e}.py").read_text()) for e in EXERCISES if (SOLUTIONS / f"{e}.py").is_file()}


def zip_bytes(files: dict[str, str], folder: str | None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(f"{folder}/{name}" if folder else name, date_time=ZIP_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name])
    return buffer.getvalue()


def build(solutions: dict[str, str] | None = None) -> dict[str, bytes]:
    """Relative path under sample_class/ -> content, for every student."""
    solutions = available_solutions() if solutions is None else solutions
    tree: dict[str, bytes] = {}
    for student in STUDENTS:
        files = {}
        for exercise in EXERCISES:
            if exercise not in solutions:
                continue
            for name, text in student.files({exercise: solutions[exercise]}).items():
                files[name] = text
        if student.archive:
            tree[f"{student.name}.zip"] = zip_bytes(files, student.name if student.archive == "folder" else None)
        else:
            tree.update({f"{student.name}/{name}": text.encode() for name, text in files.items()})
    return tree


def on_disk(folder: Path) -> dict[str, bytes]:
    if not folder.is_dir():
        return {}
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when sample_class/ is out of date")
    parser.add_argument("--out", type=Path, default=SAMPLE, help="folder to write (default: sample_class/)")
    args = parser.parse_args(argv)
    absent = [e for e in EXERCISES if not (SOLUTIONS / f"{e}.py").is_file()]
    if absent:
        print(f"no solution yet for {', '.join(absent)}: left out of the sample class", file=sys.stderr)
    tree = build()
    if args.check:
        if on_disk(args.out) != tree:
            print(f"{args.out} is out of date; run `python tools/make_sample_class.py`", file=sys.stderr)
            return 1
        print(f"{args.out} is up to date")
        return 0
    if args.out.exists():
        shutil.rmtree(args.out)
    for relative, content in tree.items():
        path = args.out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    print(f"wrote {len(STUDENTS)} students to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
