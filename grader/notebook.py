"""Notebooks: reading an exercise notebook's code, writing one from a percent-format module, and checking a running one.

`check("ex02")`, called in a cell of a running notebook (Jupyter, JupyterLab, VS Code, Colab), checks the functions
as they stand in the kernel, in a forked child under `grader check`'s time rules, and shows the results as a table.

`run_check` is what an nbgrader test cell calls: one check of the kit, run on the names the notebook defined.
A test cell holds ``run_check("ex01_linear_model", "loss", globals(), seed=1234)`` (a hidden check's adds
``hidden=True``: it runs only under ``nbgrader autograde``). The check's probes run in this
process on the notebook's namespace (every value still goes through the wire, as in `grader check`), the judge
decides, and a failure raises `AssertionError` with the message and its `Hint:` line, so nbgrader scores the cell 0.

The inputs are drawn from `seed` exactly as `grader grade --seed SEED` draws them (public checks first, then hidden
ones, from one `random.Random(seed)` per exercise), so a notebook and a `.py` file with the same answers get the same
score. The environment variable ``GRADER_SEED`` overrides the seed written into the cell, to regrade with other inputs.
"""

from __future__ import annotations

import functools
import html
import json
import linecache
import os
import random
import sys
import types
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from grader.model import Check, CheckResult

SEED_VARIABLE = "GRADER_SEED"


def effective_seed(seed: int | None) -> int:
    """`GRADER_SEED` when set, else the seed written into the cell, else 0."""
    override = os.environ.get(SEED_VARIABLE, "").strip()
    if override:
        return int(override)
    return 0 if seed is None else int(seed)


@functools.lru_cache(maxsize=64)
def _checks(exercise: str, seed: int) -> dict[str, Check]:
    from grader.checks import load_checks

    return {c.name: c for c in load_checks(exercise, seed=seed, hidden=True)}


def find_check(exercise: str, name: str, seed: int) -> Check:
    """The check `name` of `exercise`, its inputs drawn from `seed` (hidden checks only where they are installed)."""
    checks = _checks(exercise, seed)
    if name not in checks:
        raise LookupError(f"{exercise}.{name} is not a check of this installation of the grader "
                          f"(hidden checks are only installed where the course is graded); known: {', '.join(checks)}")
    return checks[name]


def namespace_module(namespace: Mapping[str, Any] | types.ModuleType, name: str = "notebook") -> types.ModuleType:
    """A module object over the notebook's globals, so that probes find the student's names as attributes."""
    if isinstance(namespace, types.ModuleType):
        return namespace
    module = types.ModuleType(name)
    module.__dict__.update({k: v for k, v in namespace.items() if k not in ("__name__", "__file__", "__builtins__")})
    return module


def evaluate(exercise: str, name: str, namespace: Mapping[str, Any] | types.ModuleType, *, seed: int | None = None,
             timeout: float = 60.0) -> CheckResult:
    """Run one check on `namespace` in this process and judge it."""
    from grader.runner import InProcessRunner, capability_available, judge_check, skipped

    check = find_check(exercise, name, effective_seed(seed))
    if check.requires is not None and not capability_available(check.requires):
        return skipped(check)
    outcomes = InProcessRunner(timeout=timeout).run_loaded(namespace_module(namespace, f"notebook_{exercise}"), check.probes)
    return judge_check(check, outcomes)


def run_check(exercise: str, name: str, namespace: Mapping[str, Any] | types.ModuleType, *, seed: int | None = None,
              timeout: float = 60.0, hidden: bool = False) -> None:
    """Print that the check passed, or raise `AssertionError` with its failure message and `Hint:` line.

    A `hidden` check runs only under `nbgrader autograde` (which sets NBGRADER_EXECUTION); elsewhere it says so.
    """
    if hidden and os.environ.get("NBGRADER_EXECUTION") != "autograde":
        print(f"{exercise}.{name}: a hidden check; it runs when your notebook is graded")
        return
    result = evaluate(exercise, name, namespace, seed=seed, timeout=timeout)
    if result.status == "failed":
        raise AssertionError("\n" + result.output)
    if result.status == "skipped":
        print(f"{result.qualified_name}: {result.message}")
        return
    print(f"{result.qualified_name}: passed ({result.score:g} of {result.max_score:g} points)")


# ------------------------------------------------------------------------------------------------- notebook files


def notebook_code(notebook_text: str) -> str:
    """A notebook's code cells as a percent-format module; IPython magics and shell lines (% or !) are dropped.
    ValueError, saying what is wrong, for text that is not such a notebook (JSON nested past the recursion limit
    included)."""
    try:
        notebook = json.loads(notebook_text)
    except RecursionError:
        raise ValueError("its JSON is nested too deeply") from None
    cells = notebook.get("cells", []) if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        raise ValueError("it holds no list of cells")
    parts = []
    for number, cell in enumerate(cells, 1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(line, str) for line in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise ValueError(f"the source of cell {number} is not text")
        lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
        parts.append("# %%\n" + "\n".join(lines) + "\n")
    return "\n".join(parts)


def module_source(path: Path) -> str:
    """The code of an exercise file: a `.py` as it is, a notebook's code cells; OSError, or ValueError saying what
    is wrong with the file and what to do."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path.name} is not UTF-8 text; save it again as UTF-8 and hand it in again") from None
    if path.suffix != ".ipynb":
        return text
    try:
        return notebook_code(text)
    except ValueError as error:
        raise ValueError(f"{path.name} is not a readable notebook ({error}); save it again from Jupyter and hand it in again") from None


def module_text(path: Path) -> str | None:
    """The code of an exercise file (`module_source`); None when it cannot be read."""
    try:
        return module_source(path)
    except (ValueError, OSError):
        return None


def load_notebook(path: Path, name: str) -> types.ModuleType:
    """Import the code cells of the notebook at `path` as a fresh module called `name` (raises what they raise).

    Tracebacks show the lines of the module made from the code cells (registered with `linecache` under the
    notebook's path), so a failure points at the student's code rather than at the notebook's JSON.
    """
    try:
        code = notebook_code(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise ImportError(f"{path.name} is not a readable notebook ({error})") from None
    filename = str(path)
    linecache.cache[filename] = (len(code), None, code.splitlines(keepends=True), filename)
    module = types.ModuleType(name)
    module.__file__ = filename
    sys.modules[name] = module
    try:
        exec(compile(code, filename, "exec", dont_inherit=True), module.__dict__)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def _percent_cells(text: str) -> Iterable[tuple[str, str]]:
    """(cell type, source) for each cell of a jupytext percent-format module."""
    kind, lines = None, []
    for line in text.splitlines() + ["# %%"]:
        if line.startswith("# %%"):
            if kind is not None:
                source = "\n".join(lines).strip("\n")
                if kind == "markdown":
                    source = "\n".join(l[2:] if l.startswith("# ") else l.lstrip("#") for l in source.splitlines())
                if source:
                    yield kind, source
            kind, lines = ("markdown" if "[markdown]" in line else "code"), []
        elif kind is not None:
            lines.append(line)


def percent_to_notebook(text: str, *, extra_cells: Sequence[tuple[str, str]] = ()) -> str:
    """A jupytext percent-format module as an nbformat 4 notebook (JSON text), plus `extra_cells` at the end."""
    cells = []
    for index, (kind, source) in enumerate([*_percent_cells(text), *extra_cells]):
        cell = {"cell_type": kind, "id": f"cell-{index}", "metadata": {}, "source": source.splitlines(keepends=True)}
        if kind == "code":
            cell.update(execution_count=None, outputs=[])
        cells.append(cell)
    notebook = {"cells": cells, "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                                             "language_info": {"name": "python"}},
                "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


# ------------------------------------------------------------------------------------------------- checking a running notebook


def check(exercise: str, namespace: Mapping[str, Any] | None = None, *, timeout: float = 10.0, seed: int | None = None) -> None:
    """Check `exercise`'s functions as they stand in this notebook, and show the results as a table.

    Call it in a cell: ``from grader.notebook import check; check("ex02")``. The public checks run in a forked copy of
    the kernel under `grader check`'s time rules (`timeout` seconds per probe; a stuck function is stopped and not
    called again), so the kernel itself never hangs. Nothing happens when the notebook is not the program being run
    (while `grader check` or a grader imports it).
    """
    from grader.checks import load_checks, resolve
    from grader.student import INSIDE_CHECK, check_exercise

    namespace = sys._getframe(1).f_globals if namespace is None else namespace
    if os.environ.get(INSIDE_CHECK) or namespace.get("__name__") != "__main__":
        return
    exercise = resolve([exercise])[0]
    seed = random.SystemRandom().randrange(2**31) if seed is None else int(seed)
    view = ResultsView(exercise, seed)
    try:
        for event in check_exercise(exercise, namespace, load_checks(exercise, seed=seed), timeout=timeout, quiet=True):
            view.show(event)
    except KeyboardInterrupt:
        view.interrupted = True
    view.finish()


class ResultsView:
    """The table of a notebook's check, updated in place as each check is decided (plain text outside IPython)."""

    def __init__(self, exercise: str, seed: int) -> None:
        self.exercise, self.seed = exercise, seed
        self.results: list[CheckResult] = []
        self.running: str | None = None
        self.interrupted = False
        self.handle = None
        try:
            from IPython import get_ipython
            from IPython.display import HTML, display

            if get_ipython() is not None:
                self.handle = display(HTML(self.html()), display_id=True)
        except ImportError:
            pass

    def show(self, event: Any) -> None:
        from grader.report import format_result
        from grader.student import Running

        if isinstance(event, Running):
            self.running = event.check.qualified_name
        elif isinstance(event, CheckResult):
            self.running = None
            self.results.append(event)
            if self.handle is None:
                print(format_result(event), flush=True)
        if self.handle is not None:
            from IPython.display import HTML

            self.handle.update(HTML(self.html()))

    def finish(self) -> None:
        from grader.report import format_summary

        self.running = None
        if self.handle is not None:
            from IPython.display import HTML

            self.handle.update(HTML(self.html()))
        else:
            print(("interrupted\n" if self.interrupted else "") + format_summary(self.results) + f" (seed {self.seed})")

    def html(self) -> str:
        """The table: one row per decided check, the one running now, and the summary."""
        from grader.report import MARKS, format_summary

        colours = {"passed": "#1f7a3a", "failed": "#b3261e", "skipped": "#777"}
        rows = []
        for r in self.results:
            points = "–" if r.status == "skipped" else f"{r.score:g} / {r.max_score:g}"
            rows.append(f'<tr><td style="color:{colours[r.status]};font-weight:bold">{MARKS[r.status]}</td>'
                        f"<td><code>{html.escape(r.qualified_name)}</code></td><td>{points}</td>"
                        f'<td style="text-align:left;white-space:pre-wrap">{html.escape(r.message)}</td>'
                        f'<td style="text-align:left">{html.escape(r.hint or "")}</td></tr>')
        if self.running:
            rows.append(f"<tr><td>…</td><td><code>{html.escape(self.running)}</code></td><td colspan=3>running</td></tr>")
        summary = format_summary(self.results) if self.results else "starting…"
        if self.interrupted:
            summary = "interrupted: the other checks did not run. " + summary
        return ('<table class="grader-check"><thead><tr><th>result</th><th>check</th><th>points</th><th>message</th>'
                f"<th>hint</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
                f"<p>{html.escape(summary)} Random inputs drawn with seed {self.seed}.</p>")
