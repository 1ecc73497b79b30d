"""`grader.notebook.check` from a cell of a running notebook: a real Jupyter kernel (nbclient + ipykernel) executes
notebooks that call it, and the table it displays is read back from the executed notebook."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import pytest

from grader.instructor.bundle import check_cells
from grader.notebook import percent_to_notebook

nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parent.parent
# The kernel must import this checkout's grader, whatever the kernel's own path says.
PREAMBLE = f"import sys\nsys.path.insert(0, {str(ROOT)!r})"


def execute(notebook: nbformat.NotebookNode, timeout: int = 300) -> nbformat.NotebookNode:
    client = nbclient.NotebookClient(notebook, timeout=timeout, kernel_name="python3", allow_errors=False,
                                     resources={"metadata": {"path": str(ROOT)}})
    client.execute()
    return notebook


def html_outputs(cell: nbformat.NotebookNode) -> list[str]:
    return [o["data"]["text/html"] for o in cell.get("outputs", []) if "text/html" in o.get("data", {})]


def rows(table: str) -> dict[str, tuple[str, str, str, str]]:
    """{check: (result, points, message, hint)} from the displayed table."""
    found = {}
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S):
        cells = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        if len(cells) == 5:
            found[cells[1]] = (cells[0], cells[2], cells[3], cells[4])
    return found


@pytest.mark.slow
def test_a_cell_checks_the_kernels_functions_and_survives_a_stuck_one():
    cells = [
        PREAMBLE,
        "def forward(x, w):\n    return x * w",                 # right
        "def loss(x, y, w):\n    return x * w - y",             # wrong: the square is missing
        "def cost(xs, ys, w):\n    while True:\n        pass",   # stuck
        "def loss_curve(xs, ys, ws):\n    return [cost(xs, ys, w) for w in ws]",  # calls the stuck one
        "from grader.notebook import check\ncheck('ex01', timeout=2, seed=5)",
        "print('kernel alive', forward(2.0, 3.0))",
    ]
    notebook = execute(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells]))
    tables = html_outputs(notebook.cells[5])
    assert len(tables) == 1  # one table, updated in place as the checks were decided
    table = rows(tables[0])
    assert table["ex01_linear_model.forward"][:2] == ("PASS", "1 / 1")
    result, points, message, hint = table["ex01_linear_model.loss"]
    assert (result, points) == ("FAIL", "0 / 1") and "expected 4.0" in message and "squares the error" in hint
    assert table["ex01_linear_model.cost"][0] == "FAIL" and "timed out after 2 s" in table["ex01_linear_model.cost"][2]
    assert "not run: cost timed out earlier" in table["ex01_linear_model.loss_curve_lecture"][2]  # no second timeout
    assert tables[0].count("timed out after") == 1
    assert "1 of 9 checks passed" in tables[0] and "seed 5" in tables[0]
    assert notebook.cells[6].outputs[0]["text"] == "kernel alive 6.0\n"  # the kernel never ran the loop itself


@pytest.mark.slow
def test_the_bundled_notebook_of_a_solution_passes_its_own_check_cell():
    source = (ROOT / "solutions" / "ex02_derivative.py").read_text()
    notebook = nbformat.reads(percent_to_notebook(source, extra_cells=check_cells("ex02_derivative")), as_version=4)
    notebook.cells.insert(0, nbformat.v4.new_code_cell(PREAMBLE))
    notebook = execute(notebook)
    table = rows(html_outputs(notebook.cells[-1])[0])
    assert len(table) == 4 and all(result == "PASS" for result, *_ in table.values()), table


def test_outside_ipython_the_check_prints_lines(tmp_path):
    import subprocess

    script = tmp_path / "script.py"
    script.write_text(PREAMBLE + "\n" + (ROOT / "solutions" / "ex02_derivative.py").read_text()
                      + "\nfrom grader.notebook import check\ncheck('ex02', seed=1)\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("PASS  ex02_derivative.") == 4 and "4 of 4 checks passed" in done.stdout
