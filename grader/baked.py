"""The public checks as a student bundle ships them: baked at release time, judged by the shipped logic.

`grader release` (instructor side, `grader.instructor.bake`) draws the public checks of each exercise for several seeds and
writes one file per seed, `grader/data/<exercise>/<k>.json.gz`: every check's probes and, for its `DataJudge`, the
logic's name, its spec and the values its sources computed for each probe (references, known mistakes' answers).
Arrays that occur several times in a case (one network's weights in several probes) are stored once, as blobs.
Here a case becomes `Check`s again, each judged by a `BakedJudge`; `--seed N` picks case N modulo their number.
"""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path
from typing import Any

from grader import wire
from grader.judges import BakedJudge
from grader.model import Check, Probe

DATA = Path(__file__).resolve().parent / "data"


def case_files(exercise: str, folder: Path = DATA) -> list[Path]:
    """The baked cases of `exercise`, in seed order."""
    return sorted((folder / exercise).glob("*.json.gz"), key=lambda p: int(p.name.split(".")[0]))


def with_blobs(data: Any, blobs: dict[str, Any]) -> Any:
    """Wire data with every `{"__blob__": key}` replaced by its blob."""
    if isinstance(data, list):
        return [with_blobs(v, blobs) for v in data]
    if isinstance(data, dict):
        if set(data) == {"__blob__"}:
            return blobs[data["__blob__"]]
        return {k: with_blobs(v, blobs) for k, v in data.items()}
    return data


def read_case(path: Path) -> dict:
    stored = json.loads(gzip.decompress(path.read_bytes()))
    return wire.decode(with_blobs(stored["case"], stored["blobs"]))


def check_from_data(exercise: str, data: dict) -> Check:
    probes = tuple(Probe(p["recipe"], p["params"], p["timeout"]) for p in data["probes"])
    judge = data["judge"]
    return Check(exercise=exercise, visibility=data["visibility"], name=data["name"], points=data["points"], probes=probes,
                 judge=BakedJudge(judge["logic"], judge["spec"], judge["table"]), requires=data["requires"],
                 expects_errors=data["expects_errors"], description=data["description"])


def baked_checks(exercise: str, seed: int | None, folder: Path = DATA) -> list[Check] | None:
    """The checks of the baked case that `seed` picks (a random one without a seed); None where none were baked."""
    files = case_files(exercise, folder)
    if not files:
        return None
    path = random.choice(files) if seed is None else files[seed % len(files)]
    return [check_from_data(exercise, data) for data in read_case(path)["checks"]]
