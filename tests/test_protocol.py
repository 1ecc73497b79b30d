"""The sandbox's channel: frames survive short reads, oversized frames are refused before they are read, and the
child module does nothing when imported."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest

from grader.instructor import protocol


def test_a_frame_written_a_byte_at_a_time_is_read_whole():
    reader, writer = os.pipe()
    frame = protocol.encode({"ended": {"exit": 3}, "padding": "x" * 5000})

    def trickle():
        for byte in frame:
            os.write(writer, bytes([byte]))
            time.sleep(0.0002)
        os.close(writer)

    thread = threading.Thread(target=trickle)
    thread.start()
    try:
        assert protocol.receive(reader, time.monotonic() + 30) == {"ended": {"exit": 3}, "padding": "x" * 5000}
    finally:
        thread.join()
        os.close(reader)


def test_an_oversized_frame_is_refused_from_its_header_and_a_silent_peer_times_out():
    reader, writer = os.pipe()
    try:
        os.write(writer, protocol.HEADER.pack(1 << 30))
        with pytest.raises(protocol.FrameTooLarge):
            protocol.receive(reader, time.monotonic() + 5, limit=1 << 20)
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            protocol.receive(reader, time.monotonic() + 0.2)
        assert time.monotonic() - started < 5
    finally:
        os.close(reader)
        os.close(writer)


def test_a_closed_peer_is_an_end_of_file_even_mid_frame():
    reader, writer = os.pipe()
    os.write(writer, protocol.HEADER.pack(10) + b"{}")
    os.close(writer)
    with pytest.raises(EOFError):
        protocol.receive(reader, time.monotonic() + 5)
    os.close(reader)


def test_importing_the_child_module_does_nothing():
    code = "import sys, grader.instructor.sandbox_child; print(sorted({'torch', 'sympy', 'grader.probes.models'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == "[]"


def test_a_recipe_module_that_cannot_be_imported_stops_the_zygote(monkeypatch):
    import grader.probes
    from grader.instructor import sandbox_child

    monkeypatch.setattr(grader.probes, "RECIPE_MODULES", {"functions", "no_such_recipes"})
    with pytest.raises(ModuleNotFoundError):
        sandbox_child.preload()


def test_the_judging_lock_is_held_while_judging_and_released_while_probes_run(tmp_path):
    from grader.instructor import batch
    from grader.model import Check, Verdict, call
    from grader.runner import InProcessRunner, grade_exercise

    seen = []

    class Recording(InProcessRunner):
        def run(self, exercise, path, probes):
            seen.append(("probes", batch._JUDGING.locked()))
            return super().run(exercise, path, probes)

    def judge(check, cases):
        seen.append(("judge", batch._JUDGING.locked()))
        return Verdict.ok()

    (tmp_path / "ex01_linear_model.py").write_text("def f():\n    return 1\n")
    checks = [Check(exercise="ex01_linear_model", name=name, points=1, visibility="public", probes=(call("f"),), judge=judge) for name in ("a", "b")]
    for _ in range(2):  # twice: the lock must not depend on how often a runner is called
        results = grade_exercise("ex01_linear_model", tmp_path / "ex01_linear_model.py", checks, Recording(), batch.student_judge())
        assert [r.status for r in results] == ["passed", "passed"]
    assert seen == [("probes", False), ("judge", True), ("judge", True)] * 2
    assert not batch._JUDGING.locked()
