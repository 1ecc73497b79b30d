"""The torch._dynamo stand-in: eager code gives the same numbers without the compiler, and compiling still works.

Each case runs in a fresh interpreter, since what is imported is the point.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent

TRAIN = """
import json, sys, torch
from grader.probes import lazy_dynamo
if sys.argv[1] == "stand-in":
    lazy_dynamo.install()
torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
x, y = torch.randn(16, 3), torch.randn(16, 1)
losses = []
for optimizer in (torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9), torch.optim.Adam(net.parameters(), lr=0.01)):
    for _ in range(5):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(net(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
meta = net.to("meta")(torch.empty(7, 3, device="meta"))
print(json.dumps({"losses": losses, "meta_shape": list(meta.shape),
                  "dynamo": type(sys.modules.get("torch._dynamo")).__name__}))
"""

COMPILE = """
import json, sys, torch
from grader.probes import lazy_dynamo
lazy_dynamo.install()
net = torch.nn.Linear(2, 1)
optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
optimizer.zero_grad(); net(torch.ones(1, 2)).sum().backward(); optimizer.step()  # wrapped by the stand-in
double = torch.compile(lambda t: t * 2 + 1, backend="eager")
value = double(torch.arange(3.0)).tolist()
optimizer.zero_grad(); net(torch.ones(1, 2)).sum().backward(); optimizer.step()  # now through the real disable
print(json.dumps({"value": value, "real": lazy_dynamo.is_real(), "dynamo": type(sys.modules["torch._dynamo"]).__name__}))
"""


def run(code: str, *args: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_eager_training_and_meta_give_the_same_numbers_without_the_compiler():
    real, stand_in = run(TRAIN, "real"), run(TRAIN, "stand-in")
    assert real["dynamo"] == "module"  # the first optimizer step imports the real one
    assert stand_in["dynamo"] == "StandIn"
    assert stand_in["losses"] == real["losses"] and stand_in["meta_shape"] == real["meta_shape"] == [7, 1]


def test_compiling_loads_the_real_compiler_and_wrapped_functions_follow():
    result = run(COMPILE)
    assert result == {"value": [1.0, 3.0, 5.0], "real": True, "dynamo": "module"}


def test_grader_check_of_a_training_exercise_does_not_import_the_compiler():
    code = ("import sys; from grader.cli import main; status = main(['check', 'ex05_torch_gd', '--path', 'solutions', '--seed', '1']); "
            "print(type(sys.modules['torch._dynamo']).__name__, status)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.stdout.splitlines()[-1] == "StandIn 0", done.stdout + done.stderr
