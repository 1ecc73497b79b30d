"""solutions/ -> exercises/: stubs generated, drift detected, markers validated."""

from __future__ import annotations

import pytest

from grader import release


def test_committed_exercises_match_solutions():
    assert release.drifted() == [], "run `python -m grader release --exercises` and commit exercises/"


def test_stub_replaces_region_at_its_indentation():
    source = "def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n"
    stub = release.strip_solutions(source)
    assert "return 2 * x" not in stub
    assert "    raise NotImplementedError(" in stub
    namespace: dict = {}
    exec(compile(stub, "<stub>", "exec"), namespace)
    with pytest.raises(NotImplementedError):
        namespace["f"](1)


@pytest.mark.parametrize("source, problem", [
    ("### BEGIN SOLUTION\nx = 1\n", "never closed"),
    ("### END SOLUTION\n", "without a"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", "inside another region"),
])
def test_unpaired_markers_are_reported_with_their_line(source, problem):
    with pytest.raises(release.ReleaseError, match=problem):
        release.strip_solutions(source, "ex.py")


def test_drift_is_detected(tmp_path):
    solutions, exercises = tmp_path / "solutions", tmp_path / "exercises"
    solutions.mkdir()
    (solutions / "ex01_a.py").write_text("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n")
    release.write_exercises(solutions=solutions, exercises=exercises)
    assert release.drifted(solutions=solutions, exercises=exercises) == []
    (exercises / "ex01_a.py").write_text("def f():\n    return 1\n")
    assert release.drifted(solutions=solutions, exercises=exercises) == ["ex01_a.py"]
