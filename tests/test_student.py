"""`grader check` as a student meets it: the code runs in a forked child with `grade`'s time rules, each check prints
as it is decided, and notebooks are read. Every test runs the real command (or the real runner) on real files."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.checks import load_checks
from grader.notebook import percent_to_notebook
from grader.runner import grade_exercise
from grader.student import NotLoaded, Running, check_exercise, exercise_file

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
EX02 = (SOLUTIONS / "ex02_derivative.py").read_text()


def grader_check(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", "check", *args, "--seed", "3"], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)
    return folder / name


def ex02_with(old: str, new: str) -> str:
    assert old in EX02
    return EX02.replace(old, new, 1)


STUCK_NUMERICAL = ex02_with("    return (f(w + h) - f(w - h)) / (2 * h)", "    while True:\n        pass")


def test_a_loop_at_the_top_level_costs_one_timeout_and_says_where_to_look(tmp_path):
    write(tmp_path, "ex02_derivative.py", EX02 + "\nwhile True:\n    pass\n")
    done = grader_check("ex02", "--path", str(tmp_path), "--timeout", "1")
    assert done.returncode == 1
    assert done.stdout.count("timed out") == 1, done.stdout
    assert "ERROR ex02_derivative: timed out after 1 s while importing the file: is there a loop outside a function?" in done.stdout
    assert done.stdout.count("FAIL") == 4 and "0 of 4 checks passed" in done.stdout


def test_a_stuck_function_is_stopped_once_and_not_called_again(tmp_path):
    write(tmp_path, "ex02_derivative.py", STUCK_NUMERICAL)
    done = grader_check("ex02", "--path", str(tmp_path), "--timeout", "1")
    assert done.returncode == 1
    assert done.stdout.count("timed out after 1 s") == 1, done.stdout  # two checks call it; the second is not run
    assert "not run: numerical_gradient timed out earlier" in done.stdout
    assert "PASS  ex02_derivative.dloss_dw" in done.stdout and "PASS  ex02_derivative.gradient" in done.stdout


def test_a_function_that_timed_out_is_not_called_again_even_by_the_students_other_functions(tmp_path):
    source = (SOLUTIONS / "ex01_linear_model.py").read_text()
    signature = "def forward(x: float, w: float) -> float:\n"
    assert signature in source and "forward(x, w)" in source  # loss calls forward, cost calls loss
    write(tmp_path, "ex01_linear_model.py", source.replace(signature, signature + "    while True:\n        pass\n", 1))
    done = grader_check("ex01", "--path", str(tmp_path), "--timeout", "1")
    assert done.stdout.count("timed out after 1 s") == 1, done.stdout
    assert done.stdout.count("raised TimeoutError: not run: forward timed out earlier") == 3  # loss, cost, loss_curve
    assert "PASS  ex01_linear_model.grid_search_lecture" in done.stdout


def test_a_crash_or_an_exit_costs_only_its_own_check(tmp_path):
    source = ex02_with("    return 2 * x * (x * w - y)", "    import os\n    os._exit(3)")
    source = source.replace("    return sympy.diff((x * w - y) ** 2, w)", "    import ctypes\n    return ctypes.string_at(0)", 1)
    write(tmp_path, "ex02_derivative.py", source)
    done = grader_check("ex02", "--path", str(tmp_path))
    assert done.returncode == 1
    assert "crashed with signal SIGSEGV" in done.stdout and "exited with status 3" in done.stdout
    assert "PASS  ex02_derivative.numerical_gradient_central" in done.stdout
    assert "2 of 4 checks passed" in done.stdout


def test_a_syntax_error_is_one_message(tmp_path):
    write(tmp_path, "ex02_derivative.py", ex02_with("def gradient(x: float, y: float, w: float) -> float:",
                                                    "def gradient(x: float, y: float, w: float) -> float"))
    done = grader_check("ex02", "--path", str(tmp_path))
    assert done.returncode == 1
    assert done.stdout.count("does not compile") == 1, done.stdout
    assert "ERROR ex02_derivative: the file does not compile: SyntaxError at line" in done.stdout
    assert done.stdout.count("FAIL") == 4


def read_line(stream, deadline: float) -> str:
    line = b""
    while not line.endswith(b"\n"):
        assert select.select([stream], [], [], max(0.0, deadline - time.monotonic()))[0], f"no line in time: {line!r}"
        chunk = os.read(stream.fileno(), 1)
        assert chunk, f"the output ended: {line!r}"
        line += chunk
    return line.decode()


def test_each_check_prints_as_it_is_decided_and_ctrl_c_prints_the_summary(tmp_path):
    write(tmp_path, "ex02_derivative.py", STUCK_NUMERICAL)
    process = subprocess.Popen([sys.executable, "-m", "grader", "check", "ex02", "--path", str(tmp_path), "--timeout", "60"],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        first = read_line(process.stdout, time.monotonic() + 120)
        assert first.startswith("PASS  ex02_derivative.dloss_dw")
        assert read_line(process.stdout, time.monotonic() + 60).startswith("PASS  ex02_derivative.gradient")
        assert process.poll() is None  # the stuck function is still running: the lines above came before the end
        process.send_signal(signal.SIGINT)
        rest, errors = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 130, errors
    rest = rest.decode()
    assert "interrupted: the checks above finished" in rest and "2 of 2 checks passed; 4 of 4 points." in rest
    assert "Traceback" not in errors.decode()


def test_a_terminal_gets_a_progress_line(tmp_path):
    controller, terminal = pty.openpty()
    done = subprocess.run([sys.executable, "-m", "grader", "check", "ex02", "--path", str(SOLUTIONS), "--seed", "3"],
                          cwd=ROOT, stdout=terminal, stderr=subprocess.PIPE, timeout=300)
    os.close(terminal)
    output = b""
    while select.select([controller], [], [], 1)[0]:
        try:
            chunk = os.read(controller, 65536)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    os.close(controller)
    text = output.decode()
    assert done.returncode == 0
    assert "running ex02_derivative.dloss_dw" in text and "\r\x1b[K" in text
    assert "4 of 4 checks passed" in text


def test_the_students_warnings_are_reported_after_the_check_line_not_across_it(tmp_path):
    write(tmp_path, "ex02_derivative.py", ex02_with(
        "    return 2 * x * (x * w - y)", "    import warnings\n    warnings.warn('x is large')\n    return 2 * x * (x * w - y)"))
    done = grader_check("ex02", "--path", str(tmp_path))
    assert done.returncode == 0, done.stdout
    lines = done.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("PASS  ex02_derivative.gradient "))
    assert lines[at + 1].startswith("      warning from your code: UserWarning: x is large (ex02_derivative.py, line ")
    assert "x is large" not in done.stderr  # the child's stderr would write across the terminal's progress line


def test_an_unevaluated_derivative_is_named_and_nothing_is_said_to_have_raised(tmp_path):
    write(tmp_path, "ex02_derivative.py", ex02_with("    return sympy.diff((x * w - y) ** 2, w)",
                                                    "    return sympy.Derivative((x * w - y) ** 2, w)"))
    done = grader_check("ex02", "--path", str(tmp_path))
    assert done.returncode == 1
    assert ("ex02_derivative.dloss_dw: returned a value the grader cannot read: an unevaluated sympy Derivative: "
            "call .doit() on it") in done.stdout, done.stdout
    assert "raised" not in done.stdout


def test_a_notebook_is_checked_like_its_module(tmp_path):
    write(tmp_path, "ex02_derivative.ipynb", percent_to_notebook(EX02, extra_cells=[("code", "%matplotlib inline\n!ls")]))
    done = grader_check("ex02", "--path", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ex02_derivative: checking" in done.stdout and "4 of 4 checks passed" in done.stdout


def test_a_notebook_failure_points_at_the_line_of_code(tmp_path):
    notebook = write(tmp_path, "ex02_derivative.ipynb", percent_to_notebook(
        ex02_with("    return 2 * x * (x * w - y)", "    return 2 * x * (x * w - y) / missing_name")))
    done = grader_check(str(notebook))
    assert done.returncode == 1
    assert "raised NameError: name 'missing_name' is not defined (line" in done.stdout
    assert ": return 2 * x * (x * w - y) / missing_name)" in done.stdout  # the code, not the notebook's JSON


def test_where_both_forms_exist_the_one_with_fewer_stubs_is_checked_and_named(tmp_path):
    # Opening a notebook in Jupyter touches it: the untouched notebook, saved last, must not hide the solved .py.
    solved = write(tmp_path, "ex02_derivative.py", EX02)
    untouched = write(tmp_path, "ex02_derivative.ipynb", percent_to_notebook((ROOT / "exercises" / "ex02_derivative.py").read_text()))
    os.utime(solved, (time.time() - 60, time.time() - 60))
    done = grader_check("ex02", "--path", str(tmp_path))
    assert done.returncode == 0, done.stdout
    assert f"ex02_derivative: checking {solved} (it holds 0 untouched stubs, ex02_derivative.ipynb 3:" in done.stdout
    solved.write_text((ROOT / "exercises" / "ex02_derivative.py").read_text())  # both untouched: the .py, as in grading
    assert exercise_file(tmp_path, "ex02_derivative") == solved
    untouched.write_text(percent_to_notebook(EX02))  # now the notebook holds the work
    assert exercise_file(tmp_path, "ex02_derivative") == untouched


def test_a_notebook_that_calls_check_does_not_check_itself_when_imported(tmp_path):
    cells = [("code", 'from grader.notebook import check\ncheck("ex02_derivative")')]
    write(tmp_path, "ex02_derivative.ipynb", percent_to_notebook(EX02, extra_cells=cells))
    done = grader_check("ex02", "--path", str(tmp_path))
    assert done.returncode == 0 and done.stdout.count("PASS") == 4, done.stdout


def test_events_come_in_order_and_a_failed_import_is_announced_once(tmp_path):
    path = write(tmp_path, "ex02_derivative.py", "def broken(:\n")
    events = list(check_exercise("ex02_derivative", path, load_checks("ex02_derivative", seed=1), timeout=5))
    kinds = [type(e).__name__ for e in events]
    assert kinds[:3] == ["Running", "NotLoaded", "CheckResult"] and kinds.count("NotLoaded") == 1
    assert all(isinstance(e, (Running, NotLoaded)) or e.status == "failed" for e in events)


def test_the_forked_check_judges_what_the_sandbox_judges(tmp_path):
    from grader.instructor.sandbox import SandboxRunner

    source = ex02_with("    return 2 * x * (x * w - y)", "    return x * (x * w - y)")  # the factor 2 is missing
    source = source.replace("    return (f(w + h) - f(w - h)) / (2 * h)", "    return (f(w + h) - f(w)) / h", 1)
    path = write(tmp_path, "ex02_derivative.py", source)
    checks = load_checks("ex02_derivative", seed=11)
    forked = [e for e in check_exercise("ex02_derivative", path, checks) if not isinstance(e, (Running, NotLoaded))]
    with SandboxRunner(timeout=10) as sandbox:
        sandboxed = grade_exercise("ex02_derivative", path, checks, sandbox)
    assert [(r.name, r.status, r.score, r.message, r.hint) for r in forked] == \
           [(r.name, r.status, r.score, r.message, r.hint) for r in sandboxed]
    assert {r.name for r in forked if r.status == "failed"} >= {"gradient", "numerical_gradient_central"}
    assert any(r.hint for r in forked if r.name == "gradient")


@pytest.mark.parametrize("name, message", [("ex0", "ambiguous exercise 'ex0': it matches ex01_linear_model, ex02_derivative"),
                                           ("ex9", "unknown exercise 'ex9'")])
def test_a_name_that_is_not_one_exercise_says_why(name, message):
    done = grader_check(name)
    assert done.returncode == 2 and message in done.stderr


def cuda_available() -> bool:
    """Asked in a process of its own: asking torch here would keep this process's forks off the GPU."""
    code = "import torch; print(torch.cuda.is_available())"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120).stdout.strip() == "True"


def cuda_checks(exercise: str) -> set[str]:
    return {f"{c.qualified_name}" for c in load_checks(exercise, seed=3) if c.requires == "cuda"}


def test_without_cuda_the_cuda_checks_are_listed_as_skipped():
    if cuda_available():
        pytest.skip("this machine has CUDA: see test_with_cuda_the_cuda_checks_run")
    done = grader_check("ex05", "--path", str(SOLUTIONS))
    assert done.returncode == 0, done.stdout
    skipped = {line.split()[1] for line in done.stdout.splitlines() if line.startswith("SKIP")}
    assert skipped == cuda_checks("ex05_torch_gd") and skipped
    assert "skipped: this machine has no cuda" in done.stdout


@pytest.mark.gpu
def test_with_cuda_the_cuda_checks_run():
    if not cuda_available():
        pytest.skip("needs CUDA")
    done = grader_check("ex05", "ex07", "ex08", "--path", str(SOLUTIONS))
    assert done.returncode == 0 and "SKIP" not in done.stdout, done.stdout
    passed = {line.split()[1] for line in done.stdout.splitlines() if line.startswith("PASS")}
    assert set().union(*map(cuda_checks, ["ex05_torch_gd", "ex07_mlp_regression", "ex08_lenet"])) <= passed


def test_a_child_forked_after_the_parent_ran_torch_in_parallel_does_not_hang():
    # The parent's judges run torch with its thread pool; a fork has none of those threads, and a parallel region
    # in the child used to wait for them forever (every conv of ex08 "timed out" after a restart).
    code = f"""
import torch
from pathlib import Path
from grader.checks import load_checks
from grader.student import check_exercise, Running
torch.set_num_threads(2)
net = torch.nn.Conv2d(1, 8, 5)
for _ in range(3):
    net(torch.randn(16, 1, 64, 64)).sum().backward()
checks = [c for c in load_checks("ex08_lenet", seed=1) if c.name in ("lenet_forward", "seedcnn_forward")]
events = check_exercise("ex08_lenet", Path({str(SOLUTIONS / "ex08_lenet.py")!r}), checks, timeout=20)
print([(e.name, e.status, e.message) for e in events if not isinstance(e, Running)])
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "'failed'" not in done.stdout and done.stdout.count("'passed'") == 2, done.stdout


def test_the_parent_imports_torch_once_for_a_file_that_imports_it_and_never_for_the_others():
    code = ("import sys; from grader.cli import main; main(['check', '{}', '--path', 'solutions', '--seed', '0']); "
            "print('torch imported' if 'torch' in sys.modules else 'no torch')")
    for exercise, expected in (("ex07", "torch imported"), ("ex03", "no torch")):
        done = subprocess.run([sys.executable, "-c", code.format(exercise)], cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert done.stdout.splitlines()[-1] == expected, done.stdout + done.stderr


def test_where_python_cannot_fork_a_spawned_child_keeps_the_same_rules(tmp_path):
    # Windows has no fork: the child is spawned and imports the file itself. Spawning works here too, so the
    # fallback runs for real, with a stuck function, and must judge as the forked child does.
    path = write(tmp_path, "ex02_derivative.py", STUCK_NUMERICAL)
    script = write(tmp_path, "spawned.py", f"""
import sys
from pathlib import Path
import grader.student as student
from grader.checks import load_checks

if __name__ == "__main__":
    student.CAN_FORK = sys.argv[1] == "fork"
    events = student.check_exercise("ex02_derivative", Path({str(path)!r}), load_checks("ex02_derivative", seed=1), timeout=3)
    print([(e.name, e.status, e.message) for e in events if isinstance(e, student.CheckResult)])
""")
    outputs = {}
    for mode in ("spawn", "fork"):
        done = subprocess.run([sys.executable, str(script), mode], cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        outputs[mode] = done.stdout
    assert outputs["spawn"] == outputs["fork"]
    assert outputs["spawn"].count("timed out after 3 s") == 1 and "not run: numerical_gradient timed out earlier" in outputs["spawn"]
