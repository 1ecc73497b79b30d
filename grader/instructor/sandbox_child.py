"""The child side of the sandbox: the zygote and what runs in the processes it forks for a student.

`python -m grader.instructor.sandbox_child FD` is the zygote: its `main` imports numpy, sympy, torch and the probe recipes once
and pays their first-use costs (never CUDA's: no fork of a process that started it could use the GPU), then forks a
keeper for each request that arrives on its control socket (with the child's pipe ends passed as file descriptors).
The keeper moves into fresh namespaces and forks the student's PID 1, which holds their limits and runs none of their
code; it forks a fresh exercise process per exercise, which starts CUDA if the exercise needs the GPU, confines itself
for good, loads the student's file and answers probe requests. The keeper only waits and reports how PID 1 ended.
The messages are listed in `grader.instructor.protocol`. Importing this module does nothing.

    zygote ─fork→ keeper (cgroups, keyring, namespaces, scratch tmpfs) ─fork→ PID 1 (limits, its own /proc where the
    GPU is admitted, no capabilities) ─fork→ one exercise (CUDA where needed, then Landlock and the allow-list filter)
"""

from __future__ import annotations

import gc
import importlib
import itertools
import json
import os
import shutil
import signal
import socket
import sys
from pathlib import Path

import grader.probes
from grader import gpu
from grader.instructor import confine, protocol
from grader.instructor.sandbox import Limits

SAFE_ENVIRONMENT = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def preload() -> None:
    """Import what every child needs, so that children start warm; a recipe module that cannot be imported is a bug
    of the kit and stops the zygote (the parent then reports that the zygote died)."""
    import numpy  # noqa: F401
    import sympy  # noqa: F401
    import torch  # noqa: F401

    import grader.probes

    for name in sorted(grader.probes.RECIPE_MODULES):
        importlib.import_module(f"grader.probes.{name}")


def warm_up() -> None:
    """Pay torch's and sympy's lazy first-use costs once, here, instead of in every forked child.

    One thread only: a forked child must not inherit a half-initialised thread pool.
    """
    import sympy
    import torch

    from grader.probes import lazy_dynamo

    torch.set_num_threads(1)
    lazy_dynamo.install()  # eager optimizers and meta kernels then never import the compiler: a smaller zygote forks faster

    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(2, 1))
    # On a CUDA build, a backward pass starts autograd's thread per device, and no fork could run autograd after it
    # ("Unable to handle autograd's threading in combination with fork-based multiprocessing"): children pay it.
    warm_autograd = not gpu.cuda_built()
    for warm_optimizer in (torch.optim.SGD(net.parameters(), lr=0.1), torch.optim.Adam(net.parameters(), lr=0.1)):
        warm_optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(net(torch.randn(2, 1, 4, 4)), torch.zeros(2, 1))
        if warm_autograd:
            loss.backward()
            warm_optimizer.step()
    net.to("meta")(torch.empty(3, 1, 4, 4, device="meta"))
    if warm_autograd:
        torch.autograd.functional.jacobian(lambda v: v * 2, torch.ones(2))
    x = sympy.Symbol("x")
    sympy.lambdify([x], sympy.simplify(sympy.diff((2 * x - 1) ** 2, x)))(1.0)
    gc.collect()
    gc.freeze()  # the garbage collector leaves the warm objects alone in children: no copy-on-write of every page


def zygote(control: socket.socket) -> None:
    """Fork a keeper for every request: (spec JSON, [channel, ends, status fds]) in, the keeper's pid out."""
    confine.die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGCHLD, lambda *_: _reap())
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, 1 << 16, 3)
        except InterruptedError:
            continue
        if not message:
            return
        gpu.refuse_fork_with_context("the sandbox's zygote")
        pid = os.fork()
        if pid == 0:
            control.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            try:
                keeper(*fds, json.loads(message))
            finally:
                os._exit(0)
        for fd in fds:
            os.close(fd)
        control.sendall(protocol.HEADER.pack(pid))


def _reap() -> None:
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass


def keeper(channel: int, ends: int, status: int, spec: dict) -> None:
    """New session, process and memory cgroups, namespaces, a private scratch tmpfs; fork the sandboxed process;
    report how it ended on `status`."""
    os.setsid()
    limits = Limits(**spec["limits"])
    notes = confine.join_cgroups(spec["cgroup"], limits.processes, limits.memory) + [confine.become_subreaper()]
    spec["memory_cgroup"] = confine.in_cgroup("memory", spec["cgroup"])
    notes.append(confine.own_session_keyring())
    notes.append(confine.enter_namespaces())
    scratch_note = confine.private_scratch(Path(spec["scratch"]), limits.scratch_size, limits.scratch_files)
    notes.append(scratch_note)
    spec["own_mounts"] = scratch_note is None  # a mount namespace of the student's own (a /proc may be mounted in it)
    pid = os.fork()
    if pid == 0:
        os.close(status)
        code = 0
        try:
            sandboxed(channel, ends, spec, [n for n in notes if n])
        except BaseException:  # noqa: BLE001 - the parent sees the broken channel and says so
            code = 70
        os._exit(code)
    os.close(channel)
    os.close(ends)
    _, state = os.waitpid(pid, 0)
    try:
        protocol.send(status, ending(state))
    finally:
        os.killpg(0, signal.SIGKILL)  # without a PID namespace, whatever stayed in the process group goes now


def sandboxed(channel: int, ends: int, spec: dict, notes: list[str]) -> None:
    """Hold one student's limits, then run each exercise they ask for in a fresh, self-confining fork of this process.

    This process is PID 1 of the student's PID namespace and runs none of the student's code. For every `load`
    request it forks an exercise process, which starts CUDA first where the exercise has probes on the GPU (the
    driver's start needs what a submission never gets: sockets, writes under /proc), then confines itself for good
    (`Confinement`: Landlock to a fresh scratch folder of its own, then the allow-list filter; PID 1 holds no capability),
    loads the file and answers probes on the channel. When it has ended, whatever it left running is killed, its
    scratch folder is removed and `ended` follows on the `ends` pipe. Each exercise therefore starts from the same
    pristine state and sees nothing an earlier exercise wrote (a visible check never shows a hidden check's inputs).
    """
    import torch

    confine.die_with_parent()
    scratch = Path(spec["scratch"])
    student_folder = Path(spec["folder"])
    limits = Limits(**spec["limits"])
    gpus, gpu_off = gpu_admission(limits, own_namespaces=os.getpid() == 1 and spec["own_mounts"])
    if gpu_off and gpu.device_nodes() and limits.gpu:
        notes.append(gpu_off)  # a GPU here that the sandbox cannot admit
    roots = [*spec["roots"], *(gpu.DRIVER_READABLE if gpus else ())]
    readable, listable = confine.python_readable(Path(spec["kit_root"]), spec["forbidden"], roots)
    readable.append(student_folder)
    # CUDA reserves far more address space than it uses: where the GPU is admitted, memory is limited by the
    # student's memory cgroup alone (a machine without one keeps RLIMIT_AS, and CUDA checks say why they are skipped)
    per_process = None if gpus and spec["memory_cgroup"] else limits.memory
    notes += confine.set_limits(memory=per_process, file_size=limits.file_size, processes=limits.processes)
    os.chdir(scratch)
    audit = bool(os.environ.get(confine.AUDIT_VARIABLE))
    os.environ.clear()
    os.environ.update(SAFE_ENVIRONMENT)
    gpu.configure(off=gpu_off, memory=limits.gpu_memory, runner="the sandbox")
    null = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    torch.set_num_threads(1)
    notes = [n for n in (*notes, *confine.landlock_notes(), confine.seccomp_note(), confine.drop_capabilities()) if n]
    protocol.send(channel, {protocol.READY: notes})
    confinement = Confinement(readable, [Path("/dev/null"), *gpus], listable, audit)
    for number in itertools.count(1):
        try:
            request = protocol.receive(channel)
        except EOFError:
            return
        if not isinstance(request, dict):
            return
        if protocol.LOAD not in request:
            continue  # a probe or stop for an exercise that has already ended: its `ended` is on its way
        own = scratch / str(number)
        own.mkdir(mode=0o700)
        pid = os.fork()
        if pid == 0:
            os.close(ends)  # the student's code cannot report an ending of its own
            code = 0
            try:
                load = request[protocol.LOAD]
                if load.get("gpu") and gpus:
                    gpu.unusable_here()  # CUDA starts now or never: the confined process could not start it
                failure = confinement.apply(own)
                if failure:
                    protocol.send(channel, {protocol.LOAD_FAILED: f"the sandbox could not confine this exercise ({failure}); nothing of it ran"})
                else:
                    grader.probes.import_sources_only(str(student_folder))
                    serve_exercise(channel, load["exercise"], load["path"])
            except BaseException:  # noqa: BLE001 - the parent sees the broken channel and says so
                code = 70
            os._exit(code)
        _, state = os.waitpid(pid, 0)
        kill_leftovers()
        shutil.rmtree(own, ignore_errors=True)  # what cannot be removed stays in the student's own tmpfs, unread
        protocol.send(ends, {protocol.ENDED: ending(state)})


def gpu_admission(limits: Limits, *, own_namespaces: bool) -> tuple[list[Path], str | None]:
    """The GPU device files this student's exercises may open, or why none (their CUDA checks are skipped with it).

    CUDA cannot start in a PID namespace without a /proc of its own, so one is mounted here; the rest of the sandbox
    reads no /proc at all."""
    if not limits.gpu or gpu.disabled():
        return [], "the GPU is switched off for this run (--no-gpu)"
    nodes = gpu.device_nodes()
    if not nodes:
        return [], "no GPU device files here"
    if not own_namespaces:
        return [], "the sandbox has no PID and mount namespaces of its own, so CUDA cannot start in it"
    failure = confine.own_proc()
    return ([], failure) if failure else (nodes, None)


class Confinement:
    """What an exercise process does to itself before it loads the student's file, for good: Landlock (read Python,
    the kit's public parts and the student's folder; write its own scratch folder; the GPU's device files), then
    the allow-list filter. None, or why it could not."""

    def __init__(self, readable: list[Path], devices: list[Path], listable: list[Path], audit: bool) -> None:
        self.readable, self.devices, self.listable, self.audit = readable, devices, listable, audit

    def apply(self, scratch: Path) -> str | None:
        try:
            confine.landlock(self.readable, [scratch], self.devices, self.listable)
        except OSError as error:
            return str(error)
        os.chdir(scratch)
        os.environ.update(HOME=str(scratch), TMPDIR=str(scratch))
        if confine.seccomp_note() is None:
            return confine.allow_listed_system_calls(audit=self.audit)
        return None


def serve_exercise(channel: int, exercise: str, path: str) -> None:
    """Load one exercise file of the student, then answer probe requests until told to stop."""
    try:
        module = grader.probes.load_module(path, f"submission_{exercise}")
    except BaseException as error:  # noqa: BLE001 - any failure to import is the submission's
        protocol.send(channel, {protocol.LOAD_FAILED: grader.probes.describe_load_failure(error, path)})
        return
    protocol.send(channel, {protocol.LOADED: True})
    while True:
        try:
            request = protocol.receive(channel)
        except EOFError:
            return
        if request.get(protocol.STOP):
            return
        probe = request[protocol.PROBE]
        answer = grader.probes.execute(module, probe["recipe"], probe["params"], None)
        try:
            payload = json.dumps({"id": request["id"], protocol.ANSWER: answer}, allow_nan=False).encode()
        except (TypeError, ValueError) as error:
            payload = json.dumps({"id": request["id"], protocol.ANSWER: {"lost": f"the answer could not be encoded ({error})"}}).encode()
        protocol.send(channel, payload)


def ending(state: int) -> dict:
    """How a process ended, from its wait status: {"signal": n} or {"exit": code}."""
    return {"signal": os.WTERMSIG(state)} if os.WIFSIGNALED(state) else {"exit": os.WEXITSTATUS(state)}


def kill_leftovers() -> None:
    """Kill and reap every other process in this PID namespace (only as its PID 1: elsewhere -1 means every process)."""
    if os.getpid() == 1:
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass


def main(control_fd: int) -> None:
    """The zygote: preload, warm up, then fork children on request until the parent closes the control socket."""
    preload()
    warm_up()
    zygote(socket.socket(fileno=control_fd))


if __name__ == "__main__":
    main(int(sys.argv[1]))
    os._exit(0)  # nothing to clean up; the interpreter's teardown after torch would take the parent's time
