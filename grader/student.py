"""The student's side of the checks: their code runs in a forked child, the verdicts here, each check as it is decided.

`grader check` (a file) and `grader.notebook.check` (a running notebook's namespace) both go through
`check_exercise`, which yields events as they happen: `Running(check)` before a check's probes run, one
`NotLoaded` when the file cannot be imported, and each check's `CheckResult` as soon as it is judged.

The child is a fork of this warm process (which has imported torch and sympy where the student's file imports them);
it loads the student's module once and answers probe requests on a pipe with the project's wire encoding, so the
judges see exactly what `grader grade` would show them. This process keeps every clock: the probe timeout covers the
import too; when a probe runs out of time the child names the student's function that was running, and the next
child replaces that function by one that fails at once, so nothing calls it again; a child that dies (a crash,
`os._exit`) costs the probe it was running, and the next probe gets a fresh child. Nothing here confines the child:
it is the student's own machine.
Where Python cannot fork (Windows), a spawned child imports the file instead; a notebook's namespace cannot be
spawned, so there the checks run in the kernel itself.
"""

from __future__ import annotations

import importlib
import json
import multiprocessing
import os
import re
import signal
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator, Mapping, Sequence

from grader.notebook import load_notebook, module_text, namespace_module
from grader.probes import describe_load_failure, execute, import_sources_only, load_module
from grader import gpu
from grader.model import Check, CheckResult, Lost, Outcome, Probe, Raised
from grader.runner import DEFAULT_TIMEOUT, IMPORT_HINT, InProcessRunner, judge_check, outcome_from_wire, probe_request_json, skipped

INSIDE_CHECK = "GRADER_CHECK_CHILD"  # set in the child: a notebook's own `check(...)` cell does nothing there
NOT_LOADED = "not run: the file could not be imported (see above)"
CAN_FORK = "fork" in multiprocessing.get_all_start_methods()

Target = Path | Mapping[str, Any] | ModuleType  # a file (.py or .ipynb), or the names a notebook defined


@dataclass(frozen=True)
class Running:
    """`check` starts now (a terminal shows it on its progress line)."""

    check: Check


@dataclass(frozen=True)
class NotLoaded:
    """The exercise's file could not be imported: one message, and its checks fail without repeating it."""

    exercise: str
    reason: str


@dataclass(frozen=True)
class Warned:
    """Warnings the student's code issued while a check ran, reported after that check's line."""

    exercise: str
    texts: tuple[str, ...]


Event = Running | NotLoaded | CheckResult | Warned
MAX_WARNINGS = 5  # per message from the child; more are counted, not shown


class ChildGone(Exception):
    """The child stopped answering; `reason` says how (timed out, crashed, exited)."""

    def __init__(self, reason: str, timed_out: bool = False) -> None:
        super().__init__(reason)
        self.reason, self.timed_out = reason, timed_out
        self.stuck_in: str | None = None  # the student's function that was running when the clock ran out


# ------------------------------------------------------------------------------------------------- the child


def load_target(exercise: str, target: Target) -> ModuleType:
    """The student's module: a file imported afresh (.py, or a notebook's code cells), or a notebook's namespace."""
    if isinstance(target, Path):
        if target.suffix == ".ipynb":
            return load_notebook(target, f"submission_{exercise}")
        return load_module(str(target), f"submission_{exercise}")
    return namespace_module(target, f"notebook_{exercise}")


def stuck_function(frame: Any, student_globals: dict) -> str | None:
    """The qualified name of the innermost function of the student's running in `frame`'s stack, if any."""
    while frame is not None:
        code = frame.f_code
        name = getattr(code, "co_qualname", code.co_name)
        if frame.f_globals is student_globals and "<" not in name:
            return name
        frame = frame.f_back
    return None


def stop_calling(module: ModuleType, student_globals: dict, qualname: str) -> None:
    """Replace the student's function `qualname` (`f` or `Class.method`) by one that fails at once."""

    def timed_out_earlier(*args: Any, **kwargs: Any) -> Any:
        raise TimeoutError(f"not run: {qualname} timed out earlier")

    owner_name, _, name = qualname.rpartition(".")
    owner = getattr(module, owner_name, None) if owner_name else module
    if owner is None or "." in owner_name:
        return
    setattr(owner, name, timed_out_earlier)
    if not owner_name:
        student_globals[name] = timed_out_earlier  # what the student's other functions look the name up in


def report_where_stuck(connection: Any, student_globals: dict) -> None:
    """On SIGUSR1 (the parent's clock ran out), send the function that is running, and end."""

    def report(signum: int, frame: Any) -> None:
        connection.send_bytes(json.dumps({"stuck_in": stuck_function(frame, student_globals)}).encode())
        os._exit(0)

    if hasattr(signal, "SIGUSR1"):
        signal.signal(signal.SIGUSR1, report)


def capture_warnings() -> list[str]:
    """Collect the warnings this process issues (instead of printing them across the parent's progress line)."""
    caught: list[str] = []

    def keep(message: Any, category: type, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
        caught.append(f"{category.__name__}: {message} ({Path(filename).name}, line {lineno})"[:500])

    warnings.showwarning = keep
    return caught


def send(connection: Any, message: dict, caught: list[str]) -> None:
    """`message` to the parent, with the warnings issued since the last one (`ValueError` if it cannot be encoded)."""
    if caught:
        more = [f"… and {len(caught) - MAX_WARNINGS} more"] if len(caught) > MAX_WARNINGS else []
        message = {**message, "warnings": caught[:MAX_WARNINGS] + more}
    payload = json.dumps(message, allow_nan=False).encode()
    caught.clear()
    connection.send_bytes(payload)


def serve(connection: Any, exercise: str, target: Target, quiet: bool, stuck: Sequence[str] = ()) -> None:
    """The child: load the student's module, stop the functions that timed out before (`stuck`) from running, then
    answer probe requests until the pipe closes; warnings travel with the answers."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    if "torch" in sys.modules:  # a fork has none of the parent's OpenMP threads: a parallel region would wait for them
        sys.modules["torch"].set_num_threads(1)
    os.environ[INSIDE_CHECK] = "1"
    if isinstance(target, Path):
        import_sources_only(str(target.parent.resolve()))  # a student's module may import its neighbours
    if quiet:  # a notebook kernel's output streams belong to the kernel, not to a fork of it
        sys.stdout = sys.stderr = open(os.devnull, "w")
    caught = capture_warnings()
    try:
        module = load_target(exercise, target)
    except BaseException as error:  # noqa: BLE001 - any failure to import is the student's
        send(connection, {"load_failed": describe_load_failure(error, str(target))}, caught)
        return
    student_globals = target if isinstance(target, dict) else module.__dict__
    for qualname in stuck:
        stop_calling(module, student_globals, qualname)
    report_where_stuck(connection, student_globals)
    send(connection, {"loaded": True}, caught)
    while True:
        try:
            request = json.loads(connection.recv_bytes())
        except EOFError:
            return
        answer = execute(module, request["recipe"], request["params"], None)
        try:
            send(connection, {"answer": answer}, caught)
        except (TypeError, ValueError) as error:
            send(connection, {"answer": {"lost": f"the answer could not be encoded ({error})"}}, caught)


def start_child(function: Any, *args: Any, clean: bool = False) -> tuple[Any, Any]:
    """A child process running `function(connection, *args)`: (the process, this end of its pipe). A fork of this
    process, or with `clean`, of multiprocessing's fork server (a fresh interpreter that has imported torch and
    nothing of this process's state)."""
    if clean and CAN_FORK:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["grader.student", "torch", "numpy", "sympy"])
    else:
        context = multiprocessing.get_context("fork" if CAN_FORK else "spawn")
    ours, theirs = context.Pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads running (a notebook kernel's)
        process = context.Process(target=function, args=(theirs, *args), daemon=True)
        process.start()
    theirs.close()
    return process, ours


def ending(exitcode: int | None) -> str:
    """How a child ended, from its exit code (negative: the signal that killed it)."""
    if exitcode is None:
        return "the process running it stopped answering"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"crashed with signal {name}"
    return f"exited with status {exitcode}"


class Child:
    """One forked process holding the student's module; every wait for it has a deadline kept here."""

    def __init__(self, exercise: str, target: Target, quiet: bool, stuck: Sequence[str] = ()) -> None:
        # this process's judges have run autograd, which starts CUDA's driver on a CUDA build: where the student's
        # file may use the GPU, the child comes from a fork server that never did (a notebook's kernel cannot)
        clean = isinstance(target, Path) and "torch" in sys.modules and gpu.available()
        self.process, self.connection = start_child(serve, exercise, target, quiet, list(stuck), clean=clean)
        self.warnings: list[str] = []  # what the student's code warned about, not yet reported

    def receive(self, timeout: float, what: str = "") -> dict:
        """The child's next message within `timeout` seconds, or `ChildGone`; its warnings are kept."""
        if not self.connection.poll(timeout):
            raise ChildGone(f"timed out after {timeout:g} s{what}", timed_out=True)
        try:
            message = json.loads(self.connection.recv_bytes())
            texts = message.get("warnings") if isinstance(message, dict) else None
            if isinstance(texts, list):
                self.warnings += [str(t)[:500] for t in texts[:MAX_WARNINGS + 1]]
            return message
        except (EOFError, OSError):
            self.process.join(2)
            raise ChildGone(ending(self.process.exitcode) + what) from None
        except ValueError:
            raise ChildGone("the probe sent back data the grader cannot read") from None

    def load(self, timeout: float) -> str | None:
        """None once the module is loaded, else why it could not be (the timeout covers the import)."""
        try:
            message = self.receive(timeout, " while importing the file")
        except ChildGone as gone:
            return f"{gone.reason}: {IMPORT_HINT}" if gone.timed_out else gone.reason
        return None if message.get("loaded") else str(message.get("load_failed", "the file could not be imported"))[:2000]

    def ask(self, probe: Probe, timeout: float) -> Outcome:
        """Run one probe; `ChildGone` if the child does not answer in time or dies."""
        try:
            self.connection.send_bytes(probe_request_json(probe))
        except OSError:
            self.process.join(2)
            raise ChildGone(ending(self.process.exitcode)) from None
        try:
            message = self.receive(timeout)
        except ChildGone as gone:
            if gone.timed_out:
                gone.stuck_in = self.where_stuck()
            raise
        return outcome_from_wire(message.get("answer"))

    def where_stuck(self) -> str | None:
        """Ask the child which of the student's functions is running (it answers between two lines of Python)."""
        if not hasattr(signal, "SIGUSR1") or not self.process.is_alive():
            return None
        try:
            os.kill(self.process.pid, signal.SIGUSR1)
            if self.connection.poll(1.0):
                name = json.loads(self.connection.recv_bytes()).get("stuck_in")
                return name if isinstance(name, str) and name.replace(".", "_").isidentifier() else None
        except (OSError, EOFError, ValueError, AttributeError):
            pass
        return None

    def stop(self) -> None:
        """Kill the child and reap it."""
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.connection.close()


# ------------------------------------------------------------------------------------------------- the parent


class ExerciseSession:
    """The probes of one exercise: a child loaded once, replaced after a timeout or a crash, never for a stuck function."""

    def __init__(self, exercise: str, target: Target, *, timeout: float = DEFAULT_TIMEOUT, quiet: bool = False) -> None:
        self.exercise, self.target, self.timeout, self.quiet = exercise, target, timeout, quiet
        self.child: Child | None = None
        self.load_failure: str | None = None
        if isinstance(target, Path) and not target.is_file():
            self.load_failure = f"file not found: {target} (nor {target.with_suffix('.ipynb').name})"
        self.timed_out: set[str] = set()
        self.announced = False  # whether the import failure was reported
        self.warnings: list[str] = []
        self.in_process = not isinstance(target, Path) and not CAN_FORK

    def run(self, probes: Sequence[Probe], *, in_process: bool = False) -> list[Outcome]:
        """One outcome per probe, in order (in this process where asked, or where nothing can be forked)."""
        if in_process or self.in_process:
            module = self.target if isinstance(self.target, ModuleType) else namespace_module(self.target, f"notebook_{self.exercise}")
            return InProcessRunner(timeout=self.timeout).run_loaded(module, probes)
        return [self._ask(probe) for probe in probes]

    def _ask(self, probe: Probe) -> Outcome:
        if probe.function in self.timed_out:
            return Lost(f"not run: {probe.function} timed out earlier")
        if self.load_failure is None and self.child is None:
            self.child = Child(self.exercise, self.target, self.quiet, sorted(self.timed_out))
            self.load_failure = self.child.load(self.timeout)
            if self.load_failure is not None:
                self._discard()
        if self.load_failure is not None:
            return Lost(NOT_LOADED)
        try:
            return self.child.ask(probe, probe.timeout or self.timeout)
        except ChildGone as gone:
            self._discard()
            stuck = gone.stuck_in or probe.function
            if not gone.timed_out or not stuck:
                return Lost(gone.reason)
            self.timed_out.add(stuck)  # the next child fails at once where anything calls it
            return Lost(gone.reason if stuck == probe.function else f"{gone.reason} (in {stuck})")

    def _discard(self) -> None:
        child, self.child = self.child, None
        if child is not None:
            self.warnings += child.warnings
            child.stop()

    def take_warnings(self) -> tuple[str, ...]:
        """The warnings issued since the last call."""
        if self.child is not None:
            self.warnings += self.child.warnings
            self.child.warnings = []
        taken, self.warnings = tuple(self.warnings), []
        return taken

    def close(self) -> None:
        self._discard()

    def __enter__(self) -> "ExerciseSession":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


AUTOGRAD_FORK = "autograd's threading in combination with fork"


def cuda_here(target: Target) -> tuple[bool, bool]:
    """(whether CUDA checks can run here, whether they must run in this process).

    Asked of the driver (NVML), never of torch, so that children forked afterwards can still initialise CUDA; each
    child decides for itself whether it can use the GPU. A notebook's kernel runs the CUDA checks itself: it may have
    started CUDA's driver (a backward pass does, on a CUDA build), and then no fork of it could use the GPU.
    """
    if gpu.context_initialised():
        return True, True
    return gpu.available(), not isinstance(target, Path)


def forked_autograd_failed(outcomes: Sequence[Outcome]) -> bool:
    """Whether a child could not run autograd because its parent had (a notebook kernel on a CUDA build of torch)."""
    return any(isinstance(o, Raised) and AUTOGRAD_FORK in o.message for o in outcomes)


def check_exercise(exercise: str, target: Target, checks: Sequence[Check], *, timeout: float = DEFAULT_TIMEOUT,
                   quiet: bool = False) -> Iterator[Event]:
    """Run and judge `checks` on `target`, yielding each event as it happens (see the module's docstring)."""
    with ExerciseSession(exercise, target, timeout=timeout, quiet=quiet) as session:
        for check in checks:
            in_process = False
            if check.requires == "cuda":
                available, in_kernel = cuda_here(target)
                in_process = in_kernel and not isinstance(target, Path)
                if not available:
                    yield skipped(check)
                    continue
            elif check.requires is not None:
                yield skipped(check)
                continue
            yield Running(check)
            outcomes = session.run(check.probes, in_process=in_process)
            if not in_process and not isinstance(target, Path) and forked_autograd_failed(outcomes):
                outcomes = session.run(check.probes, in_process=True)  # the kernel ran backward on a CUDA build
            if session.load_failure is not None and not session.announced:
                session.announced = True
                yield NotLoaded(exercise, session.load_failure)
            yield judge_check(check, outcomes)
            texts = session.take_warnings()
            if texts:
                yield Warned(exercise, texts)


# ------------------------------------------------------------------------------------------------- `grader check`


def untouched_stubs(path: Path) -> int:
    """How many generated stubs an exercise file still holds (a notebook: in its code cells)."""
    from grader.model import STUB_MESSAGE

    return (module_text(path) or "").count(STUB_MESSAGE)


def choose_form(folder: Path, exercise: str) -> tuple[Path, str]:
    """The student's file for `exercise` in `folder`, and why it was chosen where both forms exist (else "").

    The rule of class grading: the `.py` or the `.ipynb`, whichever holds fewer untouched stubs, the `.py` on a tie.
    (Opening a notebook in Jupyter touches it, so the time a file was saved says nothing about where the work is.)
    """
    found = [p for p in (folder / f"{exercise}.py", folder / f"{exercise}.ipynb") if p.is_file()]
    if not found:
        return folder / f"{exercise}.py", ""
    if len(found) == 1:
        return found[0], ""
    stubs = {p: untouched_stubs(p) for p in found}
    chosen = min(found, key=lambda p: (stubs[p], p.suffix != ".py"))
    other = next(p for p in found if p != chosen)
    if stubs[chosen] == stubs[other]:
        return chosen, f"both forms hold {stubs[chosen]} untouched stubs: the .py counts, as in class grading"
    return chosen, (f"it holds {stubs[chosen]} untouched stubs, {other.name} {stubs[other]}: the form with fewer counts, "
                    "as in class grading")


def exercise_file(folder: Path, exercise: str) -> Path:
    """The student's file for `exercise` in `folder` (`choose_form`)."""
    return choose_form(folder, exercise)[0]


class NoSuchFile(LookupError):
    """A file named on the command line that is not there."""


class Console:
    """Prints each event as it comes; on a terminal a progress line names the check that runs now."""

    def __init__(self, stream: Any = None, *, progress: bool | None = None) -> None:
        self.stream = stream or sys.stdout
        self.progress = self.stream.isatty() if progress is None else progress
        self.results: list[CheckResult] = []
        self.not_loaded: set[str] = set()
        self._dirty = False

    def write(self, text: str) -> None:
        self._clear()
        print(text, file=self.stream, flush=True)

    def _clear(self) -> None:
        if self._dirty:
            self.stream.write("\r\033[K")
            self._dirty = False

    def show(self, event: Event) -> None:
        from grader.report import format_result

        if isinstance(event, Running):
            if self.progress:
                self._clear()
                self.stream.write(f"  running {event.check.qualified_name} …")
                self.stream.flush()
                self._dirty = True
        elif isinstance(event, NotLoaded):
            self.not_loaded.add(event.exercise)
            self.write(f"ERROR {event.exercise}: {event.reason}")
        elif isinstance(event, Warned):
            self.write("\n".join(f"      warning from your code: {text}" for text in event.texts))
        else:
            self.results.append(event)
            self.write(format_result(event, details=event.exercise not in self.not_loaded))

    def summary(self, *, interrupted: bool = False) -> None:
        from grader.report import format_summary

        self.write(("\ninterrupted: the checks above finished; the others did not run.\n" if interrupted else "\n")
                   + format_summary(self.results))


def chosen_files(folder: Path, names: Sequence[str]) -> list[tuple[str, Path, str]]:
    """(exercise, file, why that file) for each name: an exercise name or prefix, or a path to an exercise file;
    every file of `folder` when no name is given. `UnknownExercise` for a name that matches no exercise (or
    several), `NoSuchFile` for a path that is not there."""
    from grader.checks import EXERCISES, resolve

    if not names:
        return [(e, *choose_form(folder, e)) for e in EXERCISES if exercise_file(folder, e).is_file()]
    chosen = []
    for name in names:
        path = Path(name)
        if path.suffix in (".py", ".ipynb") and path.is_file():
            chosen.append((resolve([path.stem])[0], path, ""))
        elif path.suffix in (".py", ".ipynb") and len(path.parts) > 1:
            raise NoSuchFile(f"no such file: {name}")
        else:
            exercise = resolve([name.removesuffix(".ipynb").removesuffix(".py")])[0]
            chosen.append((exercise, *choose_form(folder, exercise)))
    return chosen


PRELOADED = ("torch", "sympy")  # what a child should not import again after every fork


def preload(path: Path) -> None:
    """Import here the heavy libraries the student's file imports, so that every child forked for it starts warm
    (and torch without its compiler); the torch-free exercises never import torch."""
    text = module_text(path) or ""
    for name in PRELOADED:
        if re.search(rf"^\s*(import|from)\s+{name}\b", text, re.M):
            importlib.import_module(name)
    if "torch" in sys.modules:
        from grader.probes import lazy_dynamo

        lazy_dynamo.install()


def check_files(*, folder: Path, names: Sequence[str] = (), seed: int, timeout: float = DEFAULT_TIMEOUT,
                hidden: bool = False, console: Console | None = None) -> int:
    """`grader check`: every chosen exercise's checks on the student's files, printed as decided. The exit status:
    0 when nothing failed, 1 when a check failed, 2 for bad input, 130 after Ctrl-C (the summary is printed)."""
    from grader.checks import EXERCISES, UnknownExercise, load_checks

    if not timeout > 0:
        print(f"grader check: --timeout must be a positive number of seconds (got {timeout:g})", file=sys.stderr)
        return 2
    if not folder.is_dir() and not all(Path(n).is_file() for n in names or [""]):
        missing = next((n for n in names if Path(n).suffix in (".py", ".ipynb") and not Path(n).is_file()), None)
        print(f"grader check: no such file: {missing}" if missing else
              f"grader check: no folder {folder}; run it where your exercises/ folder is, or pass --path DIR", file=sys.stderr)
        return 2
    try:
        chosen = chosen_files(folder, names)
    except (UnknownExercise, NoSuchFile) as error:
        print(f"grader check: {error}", file=sys.stderr)
        return 2
    if not chosen:
        print(f"grader check: no exercise files in {folder}; expected files such as {folder / (EXERCISES[0] + '.py')} "
              f"or {EXERCISES[0]}.ipynb", file=sys.stderr)
        return 2
    console = console or Console()
    interrupted = False
    try:
        for exercise, path, why in chosen:
            if why or path.suffix == ".ipynb":
                console.write(f"{exercise}: checking {path}" + (f" ({why})" if why else ""))
            import_sources_only(str(path.parent.resolve()))  # a student's module may import its neighbours
            checks = load_checks(exercise, seed=seed, hidden=hidden)
            preload(path)
            gpu.refuse_fork_with_context("grader check")  # its children run the student's code, on the GPU too
            for event in check_exercise(exercise, path, checks, timeout=timeout):
                console.show(event)
    except KeyboardInterrupt:
        interrupted = True
    console.summary(interrupted=interrupted)
    console.write(f"(random inputs drawn with --seed {seed})")
    if interrupted:
        return 130
    return 0 if all(r.status != "failed" for r in console.results) else 1
