"""`grader gradescope --out autograder.zip`: a Gradescope autograder that runs `grader grade` on one submission.

The zip holds `setup.sh` (Gradescope runs it once to build the image: it installs CPU torch and the kit), the
`run_autograder` script (run for every submission) and `kit/`, the installable grader with its hidden checks (never
`solutions/`). `run_autograder` calls `python3 -m grader.instructor.gradescope`, which copies the student's exercise files out
of `$AUTOGRADER_ROOT/submission` (default `/autograder`; `.py` files, or notebooks converted to them, found at the
top or in folders), runs `grader grade` on them as one student, and copies that student's `results.json` to
`$AUTOGRADER_ROOT/results/results.json`. The seed is fixed when the zip is built, so every resubmission is graded
on the same inputs and `grader grade --seed SEED` reproduces a score; `GRADER_SEED` overrides it.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Sequence

from grader.instructor.files import atomic_write_bytes, atomic_write_json
from grader.instructor.submissions import Refused, collect_submission

ROOT = Path(__file__).resolve().parents[2]
STUDENT = "submission"
ROOT_VARIABLE = "AUTOGRADER_ROOT"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image: CPU-only torch, then the kit.
set -euxo pipefail
cd "$(dirname "${{BASH_SOURCE[0]}}")"
if ! command -v python3 >/dev/null || ! python3 -m pip --version >/dev/null 2>&1; then
    apt-get update && apt-get install -y python3 python3-pip
fi
export PIP_BREAK_SYSTEM_PACKAGES=1 PIP_NO_CACHE_DIR=1
python3 -m pip install --index-url {index} "{torch}"
python3 -m pip install ./kit
python3 -c "import grader.instructor.checks.hidden, torch; print('grader ready; torch', torch.__version__)"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission. AUTOGRADER_ROOT redirects /autograder (for tests);
# GRADER_SEED changes the inputs the checks draw (the zip was built with seed {seed}).
set -uo pipefail
exec "${{GRADER_PYTHON:-python3}}" -m grader.instructor.gradescope --root "${{{root_variable}:-/autograder}}" --seed "${{GRADER_SEED:-{seed}}}"
"""


# ------------------------------------------------------------------------------------------------- building the zip


def torch_requirement() -> str:
    """The torch pin of constraints/cpu.txt where there is one, else any torch 2.x from 2.2."""
    constraints = ROOT / "constraints" / "cpu.txt"
    if constraints.is_file():
        for line in constraints.read_text().splitlines():
            if re.match(r"^torch\s*[=<>~!]", line.strip()):
                return line.strip()
    return "torch>=2.2"


def _add(archive: zipfile.ZipFile, name: str, data: bytes, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
    archive.writestr(info, data)


def build_autograder(*, out: Path, seed: int | None = None, report=print) -> Path:
    """Write the autograder zip to `out`: setup.sh, run_autograder and the kit with every check."""
    from grader.instructor.bundle import write_kit

    seed = random.SystemRandom().randrange(2**31) if seed is None else int(seed)
    with tempfile.TemporaryDirectory(prefix="gd-autograder-") as work:
        kit = write_kit(Path(work) / "kit", hidden=True, description="Gradient-descent exercise grader (autograder kit)")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            _add(archive, "setup.sh", SETUP_SH.format(index=TORCH_CPU_INDEX, torch=torch_requirement()).encode(), executable=True)
            _add(archive, "run_autograder", RUN_AUTOGRADER.format(seed=seed, root_variable=ROOT_VARIABLE).encode(), executable=True)
            for path in sorted(p for p in kit.rglob("*") if p.is_file()):
                _add(archive, f"kit/{path.relative_to(kit).as_posix()}", path.read_bytes())
    atomic_write_bytes(out, buffer.getvalue())
    if report:
        report(f"Gradescope autograder written to {out} (seed {seed}): upload it as a zip file under "
               f"'Configure Autograder'; students submit their exercise files (.py or .ipynb)")
    return out


# ------------------------------------------------------------------------------------------------- running on Gradescope


def failure_results(reason: str) -> dict:
    """results.json for a run that produced no grades: score 0 and what went wrong."""
    return {"score": 0.0, "execution_time": 0.0, "output_format": "text", "tests": [],
            "output": f"The autograder could not grade this submission: {reason}\nPlease tell your instructor."}


def run_autograder(*, root: Path, seed: int, python: str = sys.executable, workers: int = 1, timeout: float = 10.0) -> int:
    """Grade `root/submission` as one student and write `root/results/results.json`; 0 when grades were written."""
    started = time.monotonic()
    results_file = root / "results" / "results.json"
    submission = root / "submission"
    if not submission.is_dir():
        atomic_write_json(results_file, failure_results(f"no submission folder at {submission}"))
        return 1
    with tempfile.TemporaryDirectory(prefix="gd-gradescope-") as work:
        submissions, out = Path(work) / "submissions", Path(work) / "out"
        try:
            found, missing = collect_submission(submission, submissions / STUDENT)
        except Refused as error:  # past the bounds of a submission: too deep, too many files or bytes
            atomic_write_json(results_file, failure_results(str(error)))
            return 1
        command = [python, "-m", "grader", "grade", str(submissions), "--out", str(out), "--seed", str(seed),
                   "--workers", str(workers), "--timeout", str(timeout), "--quiet"]
        done = subprocess.run(command, capture_output=True, text=True)
        produced = out / STUDENT / "results.json"
        if not produced.is_file():
            detail = (done.stderr or done.stdout).strip()[-2000:]
            atomic_write_json(results_file, failure_results(f"`grader grade` exited with status {done.returncode}\n{detail}"))
            print(done.stdout, done.stderr, sep="\n", file=sys.stderr)
            return 1
        results = json.loads(produced.read_text())
    note = f"Graded files: {', '.join(e + '.py' for e in found) or 'none'}."
    if missing:
        note += f" Not found (0 points): {', '.join(missing)}."
    results["output"] = f"{note}\n{results.get('output', '')}".strip()
    results["execution_time"] = round(time.monotonic() - started, 3)
    atomic_write_json(results_file, results)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.instructor.gradescope", description="Grade one Gradescope submission.")
    parser.add_argument("--root", default=os.environ.get(ROOT_VARIABLE, "/autograder"), help="Gradescope's /autograder")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds allowed per probe")
    args = parser.parse_args(argv)
    return run_autograder(root=Path(args.root), seed=args.seed, workers=args.workers, timeout=args.timeout)


if __name__ == "__main__":
    raise SystemExit(main())
