"""ex07: each check catches a wrong submission of its own, names the known mistakes, and accepts other styles."""

from __future__ import annotations

import pytest

from conftest import failed, mutate, record_hints, solution_source
from grader.checks import load_checks
from grader.runner import InProcessRunner, grade_exercise

EX = "ex07_mlp_regression"
X_LINE = "    x = torch.rand(n, 1, generator=generator) * 6.0\n"
NOISE_LINE = "    noise = torch.randn(n, 1, generator=generator) * noise_std\n"
GENERATOR_LINE = "    generator = torch.Generator().manual_seed(seed)\n"
BUILD = """    return nn.Sequential(
        nn.Linear(1, 10), nn.ReLU(),
        nn.Linear(10, 30), nn.ReLU(),
        nn.Linear(30, 10), nn.ReLU(),
        nn.Linear(10, 1),
    )"""
STEP = "        optimizer.step()\n        losses.append(loss.item())\n"


def with_forward(forward: str) -> str:
    """The solution with build_mlp returning its layers in an nn.Sequential subclass whose forward body is `forward`."""
    return mutate(solution_source(EX), (BUILD, "    class Custom(nn.Sequential):\n        def forward(self, x):\n"
                                               f"{forward}\n\n" + BUILD.replace("nn.Sequential(", "Custom(")))


@pytest.fixture
def grade_quick(tmp_path, request):
    """Grade the solution with these replacements (every check, hidden ones too)."""

    def grade(*replacements: tuple[str, str]) -> dict:
        path = tmp_path / f"{EX}.py"
        path.write_text(mutate(solution_source(EX), *replacements))
        checks = load_checks(EX, seed=0, hidden=True)
        results = {r.name: r for r in grade_exercise(EX, path, checks, InProcessRunner(timeout=20))}
        record_hints(request.node.nodeid, EX, results)
        return results

    return grade


def test_solution_passes_public_and_hidden_checks(grade_mutant):
    import time

    start = time.perf_counter()
    results = grade_mutant(EX)
    assert time.perf_counter() - start < 30  # a few seconds on an idle 2-core machine; generous for a busy CI runner
    assert not failed(results)
    assert results["train_cuda"].status in {"skipped", "passed"}


# ------------------------------------------------------------------------------------------------- make_data


def test_x_not_scaled_to_six_is_named(grade_quick):
    results = grade_quick((X_LINE, "    x = torch.rand(n, 1, generator=generator)\n"))
    assert failed(results) == {"make_data_distribution", "make_data_random"}
    assert "ex07_mlp_regression.make_data(): x ranges over [" in results["make_data_distribution"].message
    assert results["make_data_distribution"].hint == "torch.rand draws from [0, 1): scale the draw to cover [0, 6]."


def test_normal_x_is_named(grade_quick):
    results = grade_quick((X_LINE, "    x = 3.0 + torch.randn(n, 1, generator=generator)\n"))
    assert "make_data_distribution" in failed(results)
    assert results["make_data_distribution"].hint.startswith("draw x uniformly")


def test_noise_scaled_by_variance_is_named(grade_quick):
    results = grade_quick((NOISE_LINE, NOISE_LINE.replace("* noise_std", "* noise_std ** 2")))
    assert {"make_data_distribution", "make_data_random"} <= failed(results)
    message = results["make_data_distribution"].message
    assert "the noise y − ((x − 3)² + 4) has mean" in message and "standard deviation noise_std = 0.5" in message
    assert results["make_data_distribution"].hint.startswith("noise_std is a standard deviation: multiply torch.randn by noise_std")


def test_missing_noise_is_named(grade_quick):
    results = grade_quick(("    y = (x - 3.0) ** 2 + 4.0 + noise\n", "    y = (x - 3.0) ** 2 + 4.0\n"))
    assert results["make_data_distribution"].hint.startswith("y has no noise")


def test_uniform_noise_is_named(grade_quick):
    results = grade_quick((NOISE_LINE, "    noise = torch.rand(n, 1, generator=generator) * noise_std\n"))
    assert "make_data_distribution" in failed(results)
    assert "mean 0" in results["make_data_distribution"].hint


def test_global_seed_is_named(grade_quick):
    results = grade_quick((GENERATOR_LINE, "    torch.manual_seed(seed)\n    generator = None\n"))
    assert failed(results) == {"make_data_global_rng"}  # reproducible, right distribution: only the global state moved
    assert "torch.Generator" in results["make_data_global_rng"].hint


def test_unseeded_draws_are_named(grade_quick):
    results = grade_quick((GENERATOR_LINE, "    generator = None\n"))
    assert {"make_data_reproducible", "make_data_global_rng"} <= failed(results)
    assert "two calls with the same seed returned different data" in results["make_data_reproducible"].message
    assert results["make_data_reproducible"].hint.startswith("seed a private generator")


def test_ignored_seed_is_named(grade_quick):
    results = grade_quick((GENERATOR_LINE, "    generator = torch.Generator().manual_seed(1234)\n"))
    assert failed(results) == {"make_data_reproducible"}
    assert results["make_data_reproducible"].hint.startswith("the seed argument is ignored")


def test_float64_data_is_named(grade_quick):
    results = grade_quick((X_LINE, "    x = torch.rand(n, 1, generator=generator, dtype=torch.float64) * 6.0\n"))
    assert "make_data_shapes" in failed(results)
    assert "has dtype float64; expected float32" in results["make_data_shapes"].message
    assert "float32" in results["make_data_shapes"].hint


def test_flat_data_is_named(grade_quick):
    results = grade_quick((X_LINE, "    x = torch.rand(n, generator=generator) * 6.0\n"),
                           (NOISE_LINE, "    noise = torch.randn(n, generator=generator) * noise_std\n"))
    assert "make_data_shapes" in failed(results)
    assert results["make_data_shapes"].message == "ex07_mlp_regression.make_data(): x has shape (1000,); expected (1000, 1), one row per sample"
    assert results["make_data_shapes"].hint.startswith("keep the feature axis")


# ------------------------------------------------------------------------------------------------- build_mlp


def test_relu_after_output_layer_is_named(grade_quick):
    results = grade_quick(("        nn.Linear(10, 1),\n    )", "        nn.Linear(10, 1), nn.ReLU(),\n    )"))
    assert "build_mlp_structure" in failed(results)
    assert "no activation after the last Linear layer" in results["build_mlp_structure"].hint


def test_sigmoid_is_named(grade_quick):
    results = grade_quick((BUILD, BUILD.replace("nn.ReLU()", "nn.Sigmoid()")))
    assert "build_mlp_structure" in failed(results)
    assert results["build_mlp_structure"].hint == "the activations are ReLU (nn.ReLU()), as in the lecture."


def test_missing_activations_are_named(grade_quick):
    results = grade_quick((BUILD, BUILD.replace(" nn.ReLU(),", "")))
    assert "build_mlp_structure" in failed(results)
    assert "collapse into one straight line" in results["build_mlp_structure"].hint


def test_wrong_layer_size_fails_with_both_structures(grade_quick):
    results = grade_quick((BUILD, BUILD.replace("nn.Linear(10, 30), nn.ReLU(),\n        nn.Linear(30, 10)", "nn.Linear(10, 20), nn.ReLU(),\n        nn.Linear(20, 10)")))
    assert failed(results) == {"build_mlp_structure"}
    assert "Linear(10, 20)" in results["build_mlp_structure"].message and "expected Linear(1, 10), ReLU, Linear(10, 30)" in results["build_mlp_structure"].message


def test_model_tied_to_the_cpu_fails_on_meta(grade_source):
    results = grade_source(EX, with_forward('            return super().forward(x) + torch.zeros(1, device="cpu")'))
    assert failed(results) == {"build_mlp_any_device"}
    assert "on meta: raised RuntimeError" in results["build_mlp_any_device"].message
    assert results["build_mlp_any_device"].hint.startswith("forward uses a fixed device")


# ------------------------------------------------------------------------------------------------- train


def test_gradients_never_zeroed_are_named(grade_quick):
    results = grade_quick(("        optimizer.zero_grad()\n", ""))
    assert {"train_trajectory", "train_trajectory_random"} <= failed(results)
    message = results["train_trajectory"].message
    assert message.startswith("ex07_mlp_regression.train(model, x, y, lr=0.01, epochs=30) on 64 samples: losses: expected [")
    assert "(the grader's own full-batch Adam run on nn.MSELoss from the same initial weights), got " in message
    assert "elements differ; the largest difference is at [" in message
    assert results["train_trajectory"].hint.startswith("the gradients are never zeroed")


def test_loss_recorded_after_the_step_is_named(grade_quick):
    results = grade_quick((STEP, "        optimizer.step()\n        with torch.no_grad():\n            losses.append(loss_fn(model(x), y).item())\n"))
    assert {"train_trajectory", "train_trajectory_random"} <= failed(results)
    assert results["train_trajectory"].hint.startswith("record the loss computed before optimizer.step()")


def test_sgd_instead_of_adam_is_named(grade_quick):
    results = grade_quick(("torch.optim.Adam(model.parameters(), lr=lr)", "torch.optim.SGD(model.parameters(), lr=lr)"))
    assert "train_trajectory" in failed(results)
    assert results["train_trajectory"].hint == "the optimizer is torch.optim.Adam, not torch.optim.SGD."


def test_sum_of_squares_is_named(grade_quick):
    results = grade_quick(("loss_fn = nn.MSELoss()", "loss_fn = nn.MSELoss(reduction='sum')"))
    assert "train_trajectory" in failed(results)
    assert results["train_trajectory"].hint.startswith("the loss is the mean squared error")


def test_one_loss_missing_fails(grade_quick):
    results = grade_quick(("    for _ in range(epochs):\n", "    for _ in range(epochs - 1):\n"))
    assert "returned 29 losses; expected one per epoch, 30" in results["train_trajectory"].message


def test_too_small_default_learning_rate_does_not_fit(grade_mutant):
    results = grade_mutant(EX, ("lr: float = 0.01, epochs: int = 1000) -> list[float]:", "lr: float = 0.0001, epochs: int = 1000) -> list[float]:"))
    assert failed(results) == {"train_fits_parabola"}  # explicit lr still replays exactly
    assert results["train_fits_parabola"].message == ("ex07_mlp_regression.train: the default of lr is 0.0001; the exercise's "
                                                      "signature is train(model, x, y, lr=0.01, epochs=1000)")


def test_too_few_default_epochs_are_named(grade_mutant):
    results = grade_mutant(EX, ("lr: float = 0.01, epochs: int = 1000) -> list[float]:", "lr: float = 0.01, epochs: int = 100) -> list[float]:"))
    assert failed(results) == {"train_fits_parabola"}
    assert "the default of epochs is 100" in results["train_fits_parabola"].message
    assert results["train_fits_parabola"].hint.startswith("keep the defaults of the exercise's signature")


def test_defaults_read_from_kwargs_fail_with_the_signature(grade_mutant):
    results = grade_mutant(EX, ("lr: float = 0.01, epochs: int = 1000) -> list[float]:", "**options) -> list[float]:\n"
                                "    lr, epochs = options.get('lr', 0.01), options.get('epochs', 1000)"))
    assert failed(results) == {"train_fits_parabola"}
    assert "the default of lr is 'no default'" in results["train_fits_parabola"].message


def test_training_a_copy_is_named(grade_quick):
    results = grade_quick(("    device = next(model.parameters()).device\n",
                           "    import copy\n    model = copy.deepcopy(model)\n    device = next(model.parameters()).device\n"))
    assert {"train_trajectory", "train_trajectory_random", "train_fits_parabola"} <= failed(results)
    assert "the trained model's predictions at x = 2, 3, 4: expected" in results["train_trajectory"].message
    assert results["train_trajectory"].hint.startswith("the losses are right but the model given to train did not change")


@pytest.mark.parametrize("loss", ["loss_fn(model(x).squeeze(), y)", "loss_fn(model(x), y.view(-1))"])
def test_an_output_compared_with_a_flat_target_is_named(grade_quick, loss):
    results = grade_quick(("        loss = loss_fn(model(x), y)\n", f"        loss = {loss}\n"))
    assert {"train_trajectory", "train_trajectory_random", "train_fits_parabola"} <= failed(results)
    assert results["train_trajectory"].hint.startswith("the loss compares an (n,) tensor with an (n, 1) one")
    assert results["train_fits_parabola"].hint.startswith("the loss compares an (n,) tensor with an (n, 1) one")


# ------------------------------------------------------------------------------------------------- other styles


def test_other_correct_styles_pass(grade_source):
    source = mutate(
        solution_source(EX),
        (X_LINE + NOISE_LINE, "    noise = torch.normal(0.0, noise_std, size=(n, 1), generator=generator)\n"
                              "    x = torch.empty(n, 1).uniform_(0.0, 6.0, generator=generator)\n"),
        (BUILD, """    sizes = [1, 10, 30, 10, 1]
    layers = []
    for fan_in, fan_out in zip(sizes, sizes[1:]):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    return nn.Sequential(*layers[:-1])"""),
        ("        loss = loss_fn(model(x), y)\n", "        loss = ((model(x) - y) ** 2).mean()\n"),
        ("        losses.append(loss.item())\n", "        losses.append(float(loss.detach()))\n"),
        ("    return losses\n", "    return torch.tensor(losses)  # a tensor of losses instead of a list\n"),
    )
    assert not failed(grade_source(EX, source))


# ------------------------------------------------------------------------------------------------- CUDA


cuda = pytest.mark.skipif("not __import__('torch').cuda.is_available()", reason="needs CUDA")


@pytest.mark.gpu
@cuda
def test_training_on_cuda_matches_the_cpu(grade_mutant):
    results = grade_mutant(EX)
    assert results["train_cuda"].status == "passed"


@pytest.mark.gpu
@cuda
def test_data_left_on_the_cpu_is_named_on_cuda(grade_mutant):
    results = grade_mutant(EX, ("    x, y = x.to(device), y.to(device)\n", ""))
    assert failed(results) == {"train_cuda"}
    assert results["train_cuda"].hint.startswith("move x and y to the model's device inside train")


def test_a_default_run_that_does_not_fit_is_named(grade_mutant):
    results = grade_mutant(EX, ("lr: float = 0.01, epochs: int = 1000) -> list[float]:", "lr: float = 0.0001, epochs: int = 1000) -> list[float]:"))
    assert "the one that fits the parabola" in results["train_fits_parabola"].hint


def test_training_mistakes_are_named(grade_quick):
    results = grade_quick((STEP, "        losses.append(loss.item())\n"))
    assert "never change" in results["train_trajectory"].hint
    results = grade_quick(("    loss_fn = nn.MSELoss()\n", "    loss_fn = nn.L1Loss()\n"))
    assert "not the mean absolute error" in results["train_trajectory"].hint
    results = grade_quick(("torch.optim.Adam(model.parameters(), lr=lr)", "torch.optim.Adam(model.parameters(), lr=0.01)"))
    assert "the lr argument is ignored" in results["train_trajectory_random"].hint


def test_a_wrong_layer_width_or_a_missing_relu_is_named(grade_quick):
    results = grade_quick(("        nn.Linear(10, 30), nn.ReLU(),\n        nn.Linear(30, 10), nn.ReLU(),",
                           "        nn.Linear(10, 20), nn.ReLU(),\n        nn.Linear(20, 10), nn.ReLU(),"))
    assert "width differs" in results["build_mlp_structure"].hint
    results = grade_quick(("        nn.Linear(10, 30), nn.ReLU(),\n", "        nn.Linear(10, 30),\n"))
    assert "a ReLU is missing" in results["build_mlp_structure"].hint


def test_one_loss_missing_is_named(grade_quick):
    results = grade_quick(("    for _ in range(epochs):\n", "    for _ in range(epochs - 1):\n"))
    assert results["train_trajectory"].hint.startswith("one loss too few")


def test_data_left_on_the_cpu_while_the_model_is_on_cuda_is_named_without_a_gpu():
    """The CUDA check's judge, given what torch raises when train forgets to move x and y (judged here without a GPU)."""
    from grader.model import Raised
    from grader.runner import judge_check

    check = next(c for c in load_checks(EX, seed=3) if c.name == "train_cuda")
    raised = Raised("RuntimeError", "Expected all tensors to be on the same device, but found at least two devices, cuda:0 and cpu!",
                    "line 40: prediction = model(x)")
    result = judge_check(check, [raised])
    assert result.status == "failed" and result.message.startswith(f"{EX}.train(model, x, y, lr=0.01, epochs=30) on 64 samples with the model on cuda: raised RuntimeError")
    assert result.hint.startswith("move x and y to the model's device inside train")
    assert judge_check(check, [Raised("ValueError", "another mistake")]).hint is None


def test_a_model_that_reads_values_in_forward_fails_on_meta(grade_source):
    """A forward pass that looks at a tensor's values (here, to clip the output) cannot run on the meta device."""
    results = grade_source(EX, with_forward("            y = super().forward(x)\n"
                                            "            return y if float(y.detach().max()) < 1e6 else y.clamp(max=1e6)"))
    assert failed(results) == {"build_mlp_any_device"}
    assert "on meta: raised" in results["build_mlp_any_device"].message
    assert results["build_mlp_any_device"].hint.startswith("forward reads values out of tensors")
