"""Judge helpers shared by the tensor and matrix exercises (ex05, ex06).

`compare_shaped` is `grader.judges.compare_case` that also recognises a known mistake whose answer has a different
shape from the reference (a transposed Jacobian, a Hessian instead of a gradient, one epoch too few): such answers
fail on shape before values can be compared, yet deserve their `Hint:` line. `expect_parts` (in `grader.judges`)
judges a returned structure part by part (`(w, b, losses)`: the parameters, then the losses), each with its label.
"""

from __future__ import annotations

from typing import Any, Sequence

from grader.judges import WHOLE, Known, Mistake, compare_case, expect_parts  # noqa: F401 - expect_parts is re-exported
from grader.model import Check, Probe, Verdict
from grader.wire import TensorData

whole = WHOLE  # the identity extractor


def compare_shaped(check: Check, probe: Probe, got: Any, expected: Any, source: str, tolerance: tuple[float, float],
                   mistakes: Sequence[Mistake | Known] = (), label: str | None = None) -> Verdict:
    """`compare_case`, recognising known mistakes of another shape too."""
    return compare_case(check, probe, got, expected, source, tolerance, mistakes, label, shaped=True)


def tensor_dtype(probe: Probe, default: str = "float64") -> str:
    """The dtype of the first tensor among a probe's arguments (`default` when it has none)."""
    for value in [*probe.params.get("args", ()), *probe.params.get("kwargs", {}).values()]:
        if isinstance(value, TensorData):
            return value.dtype
    return default
