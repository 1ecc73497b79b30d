"""The contributor's path, proved: CONTRIBUTING.md followed literally in a copy of the kit adds a toy exercise that the
copy's own `grader` then checks, with full marks for a correct submission and the known mistake's hint for a wrong one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kit_copy import ROOT, copy_kit, register, run_in

GUIDE = ROOT / "CONTRIBUTING.md"
EXERCISE = "ex09_toy"
STEP = re.compile(r"^## (\d+)\. (.*)$", re.M)
BLOCK = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```$", re.M | re.S)
SLOW_COMMANDS = ("grader release --out",)  # the bundle bakes every exercise: test_the_guides_bundle_step


def steps() -> list[tuple[str, list[tuple[str, str, str]]]]:
    """The guide's numbered steps: (title, [(language, info, body) of each fenced block])."""
    text = GUIDE.read_text()
    heads = list(STEP.finditer(text))
    return [(head.group(2), BLOCK.findall(text, head.end(), heads[i + 1].start() if i + 1 < len(heads) else len(text)))
            for i, head in enumerate(heads)]


def follow_guide(kit: Path) -> dict[str, str]:
    """Do what each step says in `kit`: write its files, make its registration edits, run its commands (each must
    succeed). Returns each command's output."""
    outputs = {}
    for title, blocks in steps():
        for language, info, body in blocks:
            if language == "python" and "file=" in info:
                path = kit / info.split("file=", 1)[1].strip()
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(body)
        if title == "Registration":
            before = run_in(kit, "grader doctor")
            outputs["grader doctor, before registering"] = before.stdout if before.returncode == 1 else ""
            register(kit / "grader" / "checks" / "__init__.py", EXERCISE)
            register(kit / "tools" / "make_sample_class.py", EXERCISE)
        for language, _, body in blocks:
            for command in (line for line in body.splitlines() if language == "bash" and line.strip()):
                if command.startswith(SLOW_COMMANDS):
                    continue
                done = run_in(kit, command)
                assert done.returncode == 0, f"{command} (step {title!r}) exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
                outputs[command] = done.stdout + done.stderr
    return outputs


@pytest.fixture(scope="module")
def toy_kit(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    kit = copy_kit(tmp_path_factory.mktemp("kit"))
    return kit, follow_guide(kit)


def test_the_guide_has_every_step_of_an_exercise():
    written = [info.split("file=", 1)[1].strip() for _, blocks in steps() for _, info, _ in blocks if "file=" in info]
    assert written == [f"solutions/{EXERCISE}.py", f"grader/instructor/checks/{EXERCISE}.py",
                       f"grader/instructor/checks/hidden/{EXERCISE}.py", f"tests/checks/test_{EXERCISE}.py"]
    assert "Registration" in [title for title, _ in steps()]


def test_following_the_guide_leaves_the_doctor_nothing_to_say(toy_kit):
    kit, outputs = toy_kit
    assert (kit / "exercises" / f"{EXERCISE}.py").read_text().count('raise NotImplementedError("') == 2
    assert "slope is 2 everywhere" not in (kit / "exercises" / f"{EXERCISE}.py").read_text()  # the derivation stays home
    assert outputs["grader doctor"].strip() == "all 9 exercises complete"
    quoted = GUIDE.read_text().split("Before step 3, for instance, it says\n\n```\n", 1)[1].split("\n```", 1)[0]
    assert quoted in outputs["grader doctor, before registering"].splitlines()
    assert outputs["grader doctor --caught -k ex09_toy"].strip() == "all 9 exercises complete; every check is caught by a wrong submission"
    assert "3 passed" in outputs[f"python -m pytest -q tests/checks/test_{EXERCISE}.py"]
    assert "2 of 2 checks passed; 3 of 3 points." in outputs["grader check ex09 --path solutions --seed 3"]
    assert f"{EXERCISE}.py" in {p.name for p in (kit / "sample_class" / "ada_lovelace").iterdir()}


def submit(kit: Path, name: str, source: str) -> Path:
    folder = kit / "submissions" / name
    folder.mkdir(parents=True)
    (folder / f"{EXERCISE}.py").write_text(source)
    return folder


def test_the_copys_grader_gives_full_marks_to_a_correct_submission_and_names_the_mistake_of_a_wrong_one(toy_kit):
    kit, _ = toy_kit
    solution = (kit / "solutions" / f"{EXERCISE}.py").read_text()
    right = submit(kit, "right", solution.replace("return sum(values) / len(values)", "return sum(v for v in values) / len(values)"))
    wrong = submit(kit, "wrong", solution.replace("return 2 * x", "return x + 2"))

    passed = run_in(kit, f"grader check {EXERCISE} --path {right} --seed 11 --hidden")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "3 of 3 checks passed; 4 of 4 points." in passed.stdout

    failed = run_in(kit, f"grader check {EXERCISE} --path {wrong} --seed 11 --hidden")
    assert failed.returncode == 1
    lines = failed.stdout.splitlines()
    verdicts = {line.split()[1]: line.split()[0] for line in lines if line.startswith(("PASS", "FAIL"))}
    assert verdicts == {f"{EXERCISE}.double": "FAIL", f"{EXERCISE}.mean": "PASS", f"{EXERCISE}.double_large": "FAIL"}
    hints = [line.strip() for line in lines if line.strip().startswith("Hint:")]
    assert hints == ["Hint: this is x + 2, not 2·x."] * 2


@pytest.mark.slow
def test_the_guides_bundle_step_bakes_the_toy_exercise(toy_kit, tmp_path):
    kit, _ = toy_kit
    bundle = tmp_path / "gd-exercises"
    [command] = [line for _, blocks in steps() for language, _, body in blocks if language == "bash"
                 for line in body.splitlines() if line.startswith(SLOW_COMMANDS)]
    done = run_in(kit, command.replace("/tmp/gd-exercises", str(bundle)), timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (bundle / "exercises" / f"{EXERCISE}.ipynb").is_file()
    assert len(list((bundle / "grader" / "data" / EXERCISE).glob("*.json.gz"))) == 32
    assert not (bundle / "grader" / "instructor").exists()
