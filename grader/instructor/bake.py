"""Baking the public checks for a student bundle (instructor side): the data `grader.baked` reads back.

For each seed, the public checks of an exercise are drawn as `grader check` would draw them; each check's probes
and its `DataJudge` — the logic's name, its spec without instructor-only entries, and every source's value for every
probe — are written as wire data. A check whose judge is not a `DataJudge` cannot be baked: its decisions would
need code that computes references, which a student bundle must not hold.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import multiprocessing
import os
import shutil
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Iterable

from grader import wire
from grader.checks import EXERCISES, load_checks
from grader.instructor.files import atomic_write_bytes
from grader.judges import DataJudge
from grader.model import Check

SEEDS = 32  # baked cases per exercise: inputs still vary from run to run
# ex08's lenet_forward_numpy carries a network's random weights (incompressible): fewer cases keep the bundle small.
# (Its model probes ship a seed instead: `grader.probes.models.seeded_weights` draws the weights next to the student's code.)
SEEDS_BY_EXERCISE = {"ex08_lenet": 8}
BLOB_SIZE = 4096  # arrays whose wire form is longer are stored once per case
INSTRUCTOR_ONLY = ("curve", "formula")  # spec entries that never ship (feedback-page curves, derived formulas)


class NotBakeable(ValueError):
    """A public check whose judge is code rather than data."""


def bake_check(check: Check) -> dict:
    """A check as plain data: its probes, and its judge's logic, spec and per-probe values."""
    judge = check.judge
    if not isinstance(judge, DataJudge):
        raise NotBakeable(f"{check.qualified_name}: its judge is a plain function; build it with grader.judges.expect (or another "
                          "DataJudge) so that a student bundle can judge it from data")
    spec = {k: v for k, v in judge.spec.items() if k not in INSTRUCTOR_ONLY}
    code = [k for k, v in spec.items() if callable(v) or (isinstance(v, list) and any(callable(x) for x in v))]
    if code:
        raise NotBakeable(f"{check.qualified_name}: its judge's {', '.join(code)} is code; use plain data "
                          "(e.g. grader.judges.column, item, items for the part of a value to compare)")
    return {
        "name": check.name, "points": check.points, "visibility": check.visibility, "requires": check.requires,
        "expects_errors": check.expects_errors, "description": check.description,
        "probes": [{"recipe": p.recipe, "params": p.params, "timeout": p.timeout} for p in check.probes],
        "judge": {"logic": judge.logic, "spec": spec,
                  "table": [judge.bake(p) for p in check.probes]},
    }


def blobbed(data: Any, blobs: dict[str, Any]) -> Any:
    """Wire data with each array payload stored once in `blobs` and referred to by `{"__blob__": key}`."""
    if isinstance(data, list):
        return [blobbed(v, blobs) for v in data]
    if isinstance(data, dict):
        if set(data) == {"dtype", "shape", "data"} and len(data["data"]) > BLOB_SIZE:  # an array's payload
            key = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]
            blobs[key] = data
            return {"__blob__": key}
        return {k: blobbed(v, blobs) for k, v in data.items()}
    return data


def seeds_of(exercise: str) -> range:
    return range(SEEDS_BY_EXERCISE.get(exercise, SEEDS))


def write_case(folder: Path, exercise: str, seed: int) -> Path:
    """`folder/<exercise>/<seed>.json.gz`: the public checks of `exercise` drawn from `seed`, baked."""
    case = {"seed": seed, "checks": [bake_check(c) for c in load_checks(exercise, seed=seed)]}
    blobs: dict[str, Any] = {}
    stored = {"case": blobbed(wire.encode(case), blobs), "blobs": blobs}
    path = folder / exercise / f"{seed}.json.gz"
    atomic_write_bytes(path, gzip.compress(json.dumps(stored, allow_nan=False, separators=(",", ":")).encode(), mtime=0))
    return path


def write_baked(folder: Path, exercises: Iterable[str] = EXERCISES, seeds: Iterable[int] | None = None,
                workers: int | None = None) -> list[Path]:
    """`folder/<exercise>/<seed>.json.gz` for every exercise and seed (`seeds_of` by default), baked by `workers`
    forked processes (the cores by default); returns the files written."""
    jobs = []
    for exercise in exercises:
        target = folder / exercise
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        jobs += [(exercise, seed) for seed in (seeds_of(exercise) if seeds is None else seeds)]
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(jobs) == 1:
        return [write_case(folder, exercise, seed) for exercise, seed in jobs]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        return list(pool.map(write_case, [folder] * len(jobs), *zip(*jobs)))
