"""Recipes, the learning-rate schedule and `train --recipe/--seeds`."""
import dataclasses
import json
import math

import pytest
import torch

from snn_helpers import SNN, fit
from snn_helpers.cli import main
from snn_helpers.core.checkpoint import CheckpointError, load_checkpoint, read_settings
from snn_helpers.core.data import sha256_of
from snn_helpers.core.recipes import RECIPES, get_recipe, run_recipe
from snn_helpers.core.settings import TrainSettings
from snn_helpers.core.training import lr_factor
from snn_helpers.course.handoff import model_from_checkpoint
from snn_helpers.course.shipped import check_accuracy, export_model


def test_baseline_recipe_is_the_seed_projects_and_improved_keeps_what_the_issue_fixes():
    baseline, improved = RECIPES["baseline"], RECIPES["improved"]
    assert SNN(**baseline.model.as_dict()).settings == SNN().settings
    assert (baseline.train.lr, baseline.train.schedule) == (1e-3, "constant")
    assert (improved.model.neuron.reset, improved.train.schedule) == ("subtract", "cosine")
    for recipe in (baseline, improved):
        assert (recipe.train.epochs, recipe.train.num_steps, recipe.batch_size) == (5, 10, 128)
        assert SNN(**recipe.model.as_dict()).sizes == (784, 512, 256, 10)
    with pytest.raises(ValueError, match="recipe must be one of"):
        get_recipe("best")


def test_the_old_recipe_name_seed_resolves_to_baseline_and_outputs_record_baseline(tmp_path, capsys):
    assert get_recipe("seed") is RECIPES["baseline"] and "seed" not in RECIPES
    assert main(["train", "--recipe", "seed", "--epochs", "0", "--train-limit", "64", "--test-limit", "64",
                 "--no-progress", "--export", str(tmp_path / "m.pt")]) == 0
    assert capsys.readouterr().out.startswith("recipe baseline: ")
    assert json.loads((tmp_path / "m.json").read_text())["recipe"]["name"] == "baseline"


def test_cosine_schedule_warms_up_then_decays_to_zero():
    total = 200
    factors = [lr_factor("cosine", step, total) for step in range(total)]
    warmup = round(0.05 * total)
    assert factors[:warmup] == sorted(factors[:warmup]) and factors[warmup - 1] == 1.0
    assert all(a >= b for a, b in zip(factors[warmup:], factors[warmup + 1:]))
    assert factors[-1] < 1e-3
    assert lr_factor("cosine", warmup + (total - warmup) // 2, total) == pytest.approx(0.5, abs=0.01)
    assert {lr_factor("constant", step, total) for step in range(total)} == {1.0}
    with pytest.raises(ValueError, match="schedule must be one of"):
        lr_factor("linear", 0, total)


def _batches(n=4, batch=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [(torch.rand(batch, 1, 28, 28, generator=g), torch.randint(0, 10, (batch,), generator=g))
            for _ in range(n)]


class _Interrupted(RuntimeError):
    pass


def _interrupt_after(batches, n):
    """A loader over ``batches`` that raises after ``n`` batches in all (a run killed mid-way)."""
    class Loader:
        seen = 0

        def __len__(self):
            return len(batches)

        def __iter__(self):
            for batch in batches:
                if Loader.seen == n:
                    raise _Interrupted
                Loader.seen += 1
                yield batch
    return Loader()


def test_fit_sets_the_scheduled_rate_and_resumes_to_the_same_weights(tmp_path):
    kw = dict(num_steps=3, lr=5e-3, schedule="cosine", device=torch.device("cpu"), progress=False)
    torch.manual_seed(0)
    whole = SNN(sizes=(784, 16, 10), reset="subtract")
    split = SNN(sizes=(784, 16, 10), reset="subtract")
    split.load_state_dict(whole.state_dict())
    fit(whole, _batches(), 3, generator=torch.Generator().manual_seed(1), checkpoint_path=tmp_path / "w.pt", **kw)
    state = load_checkpoint(tmp_path / "w.pt")
    assert read_settings(state, "w.pt") == (whole.settings, TrainSettings(3, 3, 5e-3, "cosine"))
    assert state["optimizer"]["param_groups"][0]["lr"] == pytest.approx(5e-3 * lr_factor("cosine", 11, 12))
    with pytest.raises(_Interrupted):  # killed after 2 of the 3 epochs (and 1 batch)
        fit(split, _interrupt_after(_batches(), 9), 3, generator=torch.Generator().manual_seed(1),
            checkpoint_path=tmp_path / "s.pt", **kw)
    assert load_checkpoint(tmp_path / "s.pt")["epoch"] == 2
    with pytest.raises(CheckpointError, match="schedule_epochs"):
        fit(split, _batches(), 4, generator=torch.Generator(), resume_from=tmp_path / "s.pt", **kw)
    fit(split, _batches(), 3, generator=torch.Generator(), resume_from=tmp_path / "s.pt", **kw)
    for a, b in zip(whole.parameters(), split.parameters()):
        torch.testing.assert_close(a, b)
    with pytest.raises(ValueError, match="schedule"):
        fit(whole, _batches(), 1, num_steps=3, schedule="step", progress=False)


def test_checkpoint_rebuilds_the_improved_model(tmp_path):
    model = SNN(**RECIPES["improved"].model.replace(sizes=(784, 16, 10)).as_dict())
    fit(model, _batches(1), 1, num_steps=2, device=torch.device("cpu"), progress=False,
        checkpoint_path=tmp_path / "m.pt")
    clone, _ = model_from_checkpoint(tmp_path / "m.pt")
    assert clone.settings == model.settings and clone.settings.neuron.surrogate == "arctan"
    x = (torch.rand(2, 3, 784) < 0.3).float()
    torch.testing.assert_close(clone.scores(x), model.eval().scores(x))


def test_run_recipe_trains_and_evaluates_on_a_subset():
    result = run_recipe("improved", 0, train_limit=512, test_limit=128, epochs=1, device=torch.device("cpu"))
    assert result["recipe"] == "improved" and result["test_images"] == 128
    assert (result["accuracy"] * 128).is_integer()  # a fraction of the 128 test images
    assert result["accuracy"] > 0.3 and len(result["loss_history"]) == 1  # chance is 0.1; 4 batches reach about 0.55
    assert math.isfinite(result["loss_history"][0]) and result["train_seconds"] > 0 < result["test_seconds"]
    assert result["model"].settings == result["settings"] == RECIPES["improved"].model
    assert result["train_settings"] == dataclasses.replace(RECIPES["improved"].train, epochs=1)


def test_train_command_prints_every_seed_and_the_mean(capsys):
    args = ["train", "--recipe", "improved", "--seeds", "2", "--epochs", "1", "--train-limit", "256",
            "--test-limit", "128", "--no-progress"]
    assert main(args) == 0
    out = capsys.readouterr().out
    per_seed = [line for line in out.splitlines() if line.startswith("seed ")]
    assert [line.split(":")[0] for line in per_seed] == ["seed 42", "seed 43"]
    assert "mean test accuracy over 2 seeds" in out


def test_train_command_step_loop_never_uses_the_fused_path(monkeypatch, capsys):
    def refuse(*args):
        raise AssertionError("the fused LIF ran")
    monkeypatch.setattr("snn_helpers.core.neurons.FusedLIF.apply", refuse)
    args = ["train", "--epochs", "1", "--train-limit", "128", "--test-limit", "64", "--no-progress"]
    with pytest.raises(AssertionError, match="fused LIF"):
        main(args)
    assert main([*args, "--backend", "step"]) == 0
    assert "seed 42: test accuracy (10-step evaluation, 64 images)" in capsys.readouterr().out


def test_train_command_surrogate_overrides_the_recipes(monkeypatch, capsys):
    built = []
    real_init = SNN.__init__

    def record(self, *args, **kwargs):
        built.append(kwargs.get("surrogate"))
        real_init(self, *args, **kwargs)
    monkeypatch.setattr(SNN, "__init__", record)
    assert main(["train", "--surrogate", "arctan", "--epochs", "0", "--train-limit", "64", "--test-limit", "64",
                 "--no-progress"]) == 0
    assert built == ["arctan"] and "surrogate: arctan (overrides the recipe's sigmoid)" in capsys.readouterr().out


def test_train_command_refuses_export_with_several_seeds(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--seeds", "2", "--export", "x.pt"])
    assert "--export" in capsys.readouterr().err


def test_export_writes_weights_settings_and_a_json_that_checks_them(tmp_path):
    result = run_recipe("improved", 1, train_limit=256, test_limit=128, epochs=1, device=torch.device("cpu"))
    info = export_model(result, "improved", tmp_path / "m.pt", "python -m snn_helpers train ...")
    payload = torch.load(tmp_path / "m.pt", map_location="cpu", weights_only=True)
    assert set(payload) == {"model", "settings", "train_settings"}
    saved = json.loads((tmp_path / "m.json").read_text())
    assert saved == info and saved["sha256"] == sha256_of(tmp_path / "m.pt")
    assert (saved["seed"], saved["test_accuracy"], saved["precision"]) == (1, result["accuracy"], "fp32")
    assert read_settings(saved, "m.json") == read_settings(payload, "m.pt") == (result["settings"],
                                                                                 result["train_settings"])
    assert saved["train_settings"]["epochs"] == 1 and saved["recipe"]["train"]["epochs"] == 5
    model, _ = model_from_checkpoint(tmp_path / "m.pt")
    assert check_accuracy(model) == saved["check"]["accuracy"]
