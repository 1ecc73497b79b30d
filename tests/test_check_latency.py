"""bench/check_latency.py keeps running: one exercise, one run. Its timings are printed, never asserted; what is
asserted is the table's shape and what each submission costs in timeouts, as the bench counts them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_latency_bench_times_every_kind_of_submission():
    done = subprocess.run([sys.executable, "bench/check_latency.py", "--runs", "1", "--timeout", "1", "--exercises", "ex01"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = {line[22:37].strip(): line[38:].split() for line in done.stdout.splitlines()
            if line.startswith("ex01_linear_model ") and "imports torch" not in line}
    assert set(rows) == {"solution", "stub", "stuck import", "stuck function"}, done.stdout
    for kind in ("solution", "stub"):  # first line, end, in-process end, ratio, timeouts, target note
        first, end, in_process, ratio, timeouts = rows[kind][:5]
        assert first.endswith("s") and end.endswith("s") and in_process.endswith("s") and ratio.endswith("x")
        assert timeouts == "0", rows[kind]
    for kind in ("stuck import", "stuck function"):  # first line, end, timeouts, the stuck function
        assert rows[kind][2] == "1", rows[kind]
    assert rows["stuck function"][3] == "forward"
    assert "ex01_linear_model     imports torch: no" in done.stdout
