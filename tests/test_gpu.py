"""The GPU path (issue 20). On any machine: the sandbox admits NVIDIA device files (shown with fake nodes), a child
that cannot use the GPU skips a CUDA check instead of failing it, and no forking parent holds a CUDA context. On a
GPU host (`tox -e gpu`): the solutions, a class, a CPU-bound student, a greedy one, `grader check` and a notebook's
check, all on the GPU."""

from __future__ import annotations

import csv
import errno
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from grader import gpu
from grader.checks import load_checks
from grader.instructor.sandbox import Limits, SandboxRunner
from grader.model import CheckResult, Raised, Returned, Unavailable, call
from grader.runner import grade_exercise, judge_check

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
EX05 = "ex05_torch_gd"

OPENS = '''
import os

def open_device(path):
    try:
        os.close(os.open(path, os.O_RDWR))
        return "opened"
    except OSError as error:
        return error.errno
'''


@pytest.fixture
def fake_nvidia_nodes():
    """/dev/nvidiactl and /dev/nvidia0 as character devices of the NVIDIA driver's numbers, made where missing."""
    if os.geteuid() != 0:
        pytest.skip("making device nodes needs root (run as root, as CI and Gradescope do)")
    made = []
    for name, minor in (("nvidiactl", 255), ("nvidia0", 0)):
        node = Path("/dev") / name
        if not node.exists():
            try:
                os.mknod(node, 0o666 | 0o020000, os.makedev(195, minor))
            except OSError as error:
                pytest.skip(f"cannot make {node} here ({error.strerror})")
            made.append(node)
    yield [Path("/dev/nvidiactl"), Path("/dev/nvidia0")]
    for node in made:
        node.unlink()


def test_the_sandbox_admits_nvidia_device_files_and_no_other(fake_nvidia_nodes, tmp_path):
    """Without a driver behind them the nodes answer ENXIO/ENODEV (not EACCES): Landlock let the open through.
    A device the GPU does not need stays refused."""
    (tmp_path / "ex08_lenet.py").write_text(OPENS)
    with SandboxRunner(Limits(timeout=5.0)) as sandbox:
        outcomes = sandbox.run("ex08_lenet", tmp_path / "ex08_lenet.py",
                               [call("open_device", str(p)) for p in fake_nvidia_nodes] + [call("open_device", "/dev/full")])
        no_proc = [note for note in sandbox.notes if note.startswith("could not mount a /proc")]
    if no_proc:
        pytest.skip(f"this machine admits no GPU to the sandbox: {no_proc[0]}")
    *nvidia, other = outcomes
    real_driver = gpu.device_count() > 0
    for outcome in nvidia:
        assert outcome in ([Returned("opened")] if real_driver else []) + [Returned(errno.ENXIO), Returned(errno.ENODEV)], outcome
    assert other == Returned(errno.EACCES)


def test_no_gpu_keeps_the_device_files_out(fake_nvidia_nodes, tmp_path):
    (tmp_path / "ex08_lenet.py").write_text(OPENS)
    with SandboxRunner(Limits(timeout=5.0, gpu=False)) as sandbox:
        outcomes = sandbox.run("ex08_lenet", tmp_path / "ex08_lenet.py", [call("open_device", str(p)) for p in fake_nvidia_nodes])
    assert outcomes == [Returned(errno.EACCES)] * 2


def cuda_checks(exercise: str) -> list:
    return [c for c in load_checks(exercise, seed=3) if c.requires == "cuda"]


def test_a_child_that_cannot_use_the_gpu_skips_the_cuda_checks_the_parent_sends(monkeypatch):
    """The parent claims CUDA (as `torch.cuda.is_available()` would on a GPU host); the sandboxed child cannot use it
    (here: a CPU build of torch). Every CUDA check is skipped, with the child's reason, and counts in no maximum."""
    if gpu.cuda_built() and gpu.device_count():
        pytest.skip("this machine's children can use the GPU: see test_a_class_is_graded_on_the_gpu")
    monkeypatch.setattr(gpu, "available", lambda: True)
    checks = load_checks(EX05, seed=3)
    with SandboxRunner(Limits(timeout=20.0)) as sandbox:
        with sandbox.session(SOLUTIONS) as session:
            results = grade_exercise(EX05, SOLUTIONS / f"{EX05}.py", checks, session)
        notes = sandbox.notes
    by_name = {r.name: r for r in results}
    names = {c.name for c in cuda_checks(EX05)}
    assert names and all(by_name[n].status == "skipped" and by_name[n].max_score == 0 for n in names)
    assert all(by_name[n].message.startswith("skipped: the sandbox could not use the GPU (") for n in names), by_name
    assert all(r.status == "passed" for r in results if r.name not in names)
    assert any(note.startswith("CUDA checks were skipped for a student: the sandbox could not use the GPU") for note in notes)


def test_grader_check_skips_what_its_child_cannot_run(monkeypatch):
    from grader.student import check_exercise

    if gpu.cuda_built() and gpu.device_count():
        pytest.skip("this machine's children can use the GPU")
    monkeypatch.setattr(gpu, "available", lambda: True)
    checks = cuda_checks(EX05)
    events = [e for e in check_exercise(EX05, SOLUTIONS / f"{EX05}.py", checks, timeout=30) if isinstance(e, CheckResult)]
    assert [e.status for e in events] == ["skipped"] * len(checks)
    assert "could not use the GPU" in events[0].message


def test_an_unavailable_outcome_is_a_skip_even_where_errors_are_judged():
    check = next(c for c in cuda_checks("ex07_mlp_regression") if c.expects_errors)
    result = judge_check(check, [Unavailable("the sandbox could not use the GPU (no driver)")])
    assert result.status == "skipped" and result.max_score == 0 and "no driver" in result.message


def test_no_gpu_skips_the_cuda_checks_and_says_why(monkeypatch):
    from grader.runner import skipped

    monkeypatch.setenv(gpu.DISABLE_VARIABLE, "1")
    assert not gpu.available()
    assert skipped(cuda_checks(EX05)[0]).message.startswith("skipped: the GPU is switched off for this run (--no-gpu)")


WARM_ZYGOTE = """
import torch
from grader.instructor import sandbox_child
sandbox_child.preload()
sandbox_child.warm_up()
print(torch.cuda.is_initialized())
"""


def test_the_warm_zygote_holds_no_cuda_context():
    """What the zygote does before it forks leaves CUDA uninitialised (on a GPU host, too: `tox -e gpu`)."""
    done = subprocess.run([sys.executable, "-c", WARM_ZYGOTE], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.split()[-1] == "False", done.stderr


def test_a_forking_parent_that_holds_a_cuda_context_is_refused(monkeypatch):
    """Every forking parent asks `refuse_fork_with_context` first; with a context (claimed here) it refuses to fork
    children that could not use the GPU. The zygote's and `grader check`'s forks go through it."""
    import torch

    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    with pytest.raises(RuntimeError, match="initialised CUDA before forking"):
        gpu.refuse_fork_with_context("the test")
    source = (ROOT / "grader" / "instructor" / "sandbox_child.py").read_text()
    assert source.index('gpu.refuse_fork_with_context("the sandbox\'s zygote")') < source.index("pid = os.fork()")


def test_gpu_slots_let_one_holder_in_at_a_time(tmp_path):
    import threading
    import time

    slots, inside, most = gpu.Slots(1, tmp_path), [], []

    def hold() -> None:
        with slots.held():
            inside.append(1)
            most.append(len(inside))
            time.sleep(0.05)
            inside.pop()

    threads = [threading.Thread(target=hold) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert max(most) == 1 and len(most) == 4


# ------------------------------------------------------------------------------------------------ on a GPU host

needs_gpu = pytest.mark.skipif("not (__import__('grader.gpu').gpu.cuda_built() and __import__('grader.gpu').gpu.device_count())",
                               reason="needs a CUDA build of torch and an NVIDIA GPU (run `tox -e gpu` on a GPU host)")

CPU_BOUND = ("    x, y = x.to(device), y.to(device)\n", "")
GREEDY = ("        x = F.max_pool2d(F.relu(self.conv1(x)), 2)\n",
          "        if x.is_cuda:\n            torch.empty(100 * 2**30 // 4, device=x.device)  # 100 GB\n"
          "        x = F.max_pool2d(F.relu(self.conv1(x)), 2)\n")


@pytest.fixture(scope="module")
def gpu_class(tmp_path_factory):
    """A class graded on the GPU: two correct students, one who leaves ex07's data on the CPU, one who allocates
    100 GB in LeNet's forward (graded between the others, one student on the GPU at a time)."""
    base = tmp_path_factory.mktemp("gpu_class")
    submissions, out = base / "submissions", base / "out"
    students = {"ada": {}, "cpu_bound": {"ex07_mlp_regression": CPU_BOUND}, "greedy": {"ex08_lenet": GREEDY}, "zoe": {}}
    for student, changes in students.items():
        (submissions / student).mkdir(parents=True)
        for exercise in ("ex05_torch_gd", "ex07_mlp_regression", "ex08_lenet"):
            source = (SOLUTIONS / f"{exercise}.py").read_text()
            if exercise in changes:
                old, new = changes[exercise]
                assert source.count(old) == 1, (exercise, old)
                source = source.replace(old, new)
            (submissions / student / f"{exercise}.py").write_text(source)
    done = subprocess.run([sys.executable, "-m", "grader", "grade", str(submissions), "--out", str(out), "--seed", "5",
                           "--workers", "3", "--quiet"], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    return out


def results_of(out: Path, student: str) -> dict[str, dict]:
    record = json.loads((out / student / "record.json").read_text())
    return {f"{r['exercise']}.{r['name']}": r for r in record["results"]}


@pytest.mark.gpu
@needs_gpu
def test_a_class_is_graded_on_the_gpu(gpu_class):
    names = {c.qualified_name for ex in (EX05, "ex07_mlp_regression", "ex08_lenet") for c in cuda_checks(ex)}
    for student in ("ada", "zoe"):
        results = results_of(gpu_class, student)
        assert {n: results[n]["status"] for n in names} == {n: "passed" for n in names}, student
        assert all(r["status"] == "passed" for name, r in results.items() if name.split(".")[0] in (EX05, "ex07_mlp_regression", "ex08_lenet"))


@pytest.mark.gpu
@needs_gpu
def test_a_student_who_keeps_tensors_on_the_cpu_fails_with_the_device_hint(gpu_class):
    result = results_of(gpu_class, "cpu_bound")["ex07_mlp_regression.train_cuda"]
    assert result["status"] == "failed" and result["hint"].startswith("move x and y to the model's device inside train")


@pytest.mark.gpu
@needs_gpu
def test_a_student_who_allocates_100_gb_fails_alone(gpu_class):
    results = results_of(gpu_class, "greedy")
    for name in ("ex08_lenet.lenet_cuda",):
        assert results[name]["status"] == "failed" and "memory" in results[name]["message"].lower(), results[name]
    assert results["ex05_torch_gd.manual_gd_cuda"]["status"] == "passed"  # the rest of the student is graded
    assert results_of(gpu_class, "zoe")["ex08_lenet.lenet_cuda"]["status"] == "passed"  # the next student's device is clean


@pytest.mark.gpu
@needs_gpu
def test_the_gpu_class_summary_names_no_skipped_cuda_check(gpu_class):
    rows = {row["student"]: row for row in csv.DictReader((gpu_class / "gradebook.csv").open())}
    handed_in = (EX05, "ex07_mlp_regression", "ex08_lenet")
    full = {ex: sum(c.points for c in load_checks(ex, seed=5, hidden=True)) for ex in handed_in}
    assert {ex: float(rows["ada"][ex]) for ex in handed_in} == full == {ex: float(rows["zoe"][ex]) for ex in handed_in}
    assert "could not use the GPU" not in (gpu_class / "summary.html").read_text()


NOTEBOOK_KERNEL = """
import torch
exec(open({solution!r}).read())
torch.ones(2, device="cuda", requires_grad=True).sum().backward()  # the kernel has used autograd on the GPU
from grader.notebook import check
check("ex05", seed=4)
"""


@pytest.mark.gpu
@needs_gpu
def test_a_notebook_check_cell_runs_the_cuda_checks(tmp_path):
    """A kernel that already used CUDA and autograd: its checks still pass, the CUDA ones in the kernel itself."""
    code = NOTEBOOK_KERNEL.format(solution=str(SOLUTIONS / f"{EX05}.py"))
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    names = [c.name for c in cuda_checks(EX05)]
    assert all(name in done.stdout for name in names), done.stdout
    assert "FAIL" not in done.stdout and "SKIP" not in done.stdout.upper().replace("SKIPPED: 0", ""), done.stdout


@pytest.mark.gpu
@needs_gpu
def test_a_parent_that_initialised_cuda_is_refused_before_it_forks():
    code = "import torch; torch.zeros(1, device='cuda')\nfrom grader import gpu\ngpu.refuse_fork_with_context('a test')"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0 and "initialised CUDA before forking" in done.stderr


@pytest.mark.gpu
@needs_gpu
def test_the_sample_class_scores_its_cuda_checks(tmp_path):
    done = subprocess.run([sys.executable, "-m", "grader", "grade", "sample_class", "--out", str(tmp_path), "--quiet"],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    names = {c.qualified_name for ex in (EX05, "ex07_mlp_regression", "ex08_lenet") for c in cuda_checks(ex)}
    results = results_of(tmp_path, "ada_lovelace")
    assert {n: results[n]["status"] for n in names} == {n: "passed" for n in names}
    print(done.stdout)
