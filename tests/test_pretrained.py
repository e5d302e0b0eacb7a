"""The shipped checkpoint: safe to load, unchanged, and as accurate as its JSON says.

The JSON records the accuracy on the first 1000 test images with the Poisson
input drawn from a generator seeded with 0 (``shipped.check_accuracy``), so the
same weights give the same spikes and the same answer. The tolerance of 0.5
percentage points (5 of the 1000 images) only allows for floating-point
differences between machines moving an image across a decision boundary;
damaged or different weights miss it by far more.
"""
import json

import pytest
import torch

from snn_helpers.core.checkpoint import read_settings
from snn_helpers.core.data import sha256_of
from snn_helpers.core.recipes import RECIPES
from snn_helpers.course import handoff
from snn_helpers.course.handoff import model_from_checkpoint
from snn_helpers.course.shipped import CHECK_IMAGES, CHECK_SEED, check_accuracy, pretrained_path

TOLERANCE = 0.005


@pytest.fixture(scope="module")
def info():
    return json.loads(pretrained_path().with_suffix(".json").read_text())


def test_checkpoint_matches_the_sha256_in_its_json(info):
    assert info["file"] == pretrained_path().name
    assert sha256_of(pretrained_path()) == info["sha256"]


def test_checkpoint_loads_with_weights_only_and_holds_no_optimizer_state(info):
    payload = torch.load(pretrained_path(), map_location="cpu", weights_only=True)
    assert set(payload) <= {"model", "settings", "train_settings"}  # weights and settings, no optimizer
    assert read_settings(payload, pretrained_path()) == read_settings(info, "its json")
    assert pretrained_path().stat().st_size < 4 * 2**20


def test_json_records_the_improved_recipe_and_its_accuracy(info):
    assert info["recipe"]["name"] == "improved"
    assert read_settings(info, "its json") == (RECIPES["improved"].model, RECIPES["improved"].train)
    assert info["test_images"] == 10_000 and info["test_accuracy"] >= 0.98
    assert "snn_helpers train --recipe improved" in info["command"] and "--export" in info["command"]
    assert (info["check"]["test_images"], info["check"]["generator_seed"]) == (CHECK_IMAGES, CHECK_SEED)


def test_accuracy_on_the_check_subset_matches_the_recorded_figure(info):
    model, _ = model_from_checkpoint(pretrained_path())
    model_settings, train_settings = read_settings(info, "its json")
    assert model.settings == model_settings
    accuracy = check_accuracy(model, train_settings.num_steps)
    assert accuracy == pytest.approx(info["check"]["accuracy"], abs=TOLERANCE)


def test_notebooks_fall_back_to_the_shipped_model_without_a_checkpoint_of_your_own(tmp_path, monkeypatch):
    monkeypatch.setattr(handoff, "model_path", lambda: tmp_path / "none.pt")
    model, source = handoff.load_trained_model(lambda: pytest.fail("trained although a model is shipped"))
    assert "pretrained" in source
    assert model.settings == read_settings(torch.load(pretrained_path(), weights_only=True), "shipped")[0]
