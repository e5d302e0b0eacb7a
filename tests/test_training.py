"""Seeding, training and evaluation on a small slice of real MNIST."""
import random

import numpy as np
import pytest
import torch

from snn_helpers import SNN, BatchLoader, evaluate, fit, get_device, mnist_loaders, predict, set_seed


@pytest.fixture(scope="module")
def loaders():
    return mnist_loaders(batch_size=64, train_limit=2000, test_limit=500,
                         generator=torch.Generator().manual_seed(0))


def test_set_seed_seeds_torch_numpy_and_random():
    set_seed(7)
    first = (torch.rand(3), np.random.rand(3), random.random(), SNN(sizes=(4, 3)).fcs[0].weight.clone())
    gen = set_seed(7)
    second = (torch.rand(3), np.random.rand(3), random.random(), SNN(sizes=(4, 3)).fcs[0].weight.clone())
    assert torch.equal(first[0], second[0]) and np.array_equal(first[1], second[1])
    assert first[2] == second[2] and torch.equal(first[3], second[3])
    assert torch.equal(torch.rand(2, generator=gen), torch.rand(2, generator=torch.Generator().manual_seed(7)))


def test_device_is_the_gpu_only_when_there_is_one():
    assert get_device().type == ("cuda" if torch.cuda.is_available() else "cpu")


@pytest.mark.slow  # trains on real MNIST
def test_training_lowers_the_loss_and_beats_chance(loaders):
    train, test = loaders
    gen = set_seed(0)
    model = SNN()
    before = evaluate(model, test, num_steps=5, generator=gen)
    history = fit(model, train, epochs=3, num_steps=5, generator=gen, progress=False)
    after = evaluate(model, test, num_steps=5, generator=gen)
    assert len(history) == 3
    assert history[2] < history[1] < history[0]
    assert after > 0.5 and after > before + 0.3  # chance is 0.1; 96 batches reach about 0.7


@pytest.mark.slow  # trains on real MNIST
def test_predict_returns_one_label_per_image_in_the_loaders_order(loaders):
    _, test = loaders
    torch.manual_seed(0)
    model = SNN(threshold=0.2)
    preds, truth = predict(model, test, num_steps=2)
    assert preds.shape == truth.shape == (500,)
    assert torch.equal(truth, test.labels)
    binary = BatchLoader((test.images > 0.5).float(), test.labels, 64)  # pixels 0 or 1: every spike is certain
    counts = model(binary.images.flatten(1).expand(3, -1, -1)).sum(0)  # the whole set at once, by hand
    assert len(counts.argmax(1).unique()) > 1  # the check below would be weak if every image got one class
    assert torch.equal(predict(model, binary, num_steps=3)[0], counts.argmax(1))


@pytest.mark.slow  # trains on real MNIST
def test_zero_epochs_trains_nothing(loaders):
    train, _ = loaders
    model = SNN()
    before = [p.clone() for p in model.parameters()]
    assert fit(model, train, epochs=0, progress=False) == []
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


@pytest.mark.slow  # trains on real MNIST
def test_fit_and_predict_leave_out_the_pixels_black_in_the_whole_batch(loaders, monkeypatch):
    """What the first product is given: only the lit pixels of each batch, and the same result as
    the full input up to rounding."""
    train, test = loaders
    seen = []
    check_features = SNN._check_features
    monkeypatch.setattr(SNN, "_check_features", lambda self, features: seen.append(features) or
                        check_features(self, features))
    images, labels = next(iter(test))
    batch = [(images, labels)]
    fit(SNN(), batch, epochs=1, num_steps=2, generator=set_seed(0), progress=False)
    predict(SNN(), batch, num_steps=2)
    lit = (images.flatten(1) > 0).any(0).nonzero().squeeze(1)
    assert len(seen) == 2 and all(torch.equal(features, lit) for features in seen)
    assert len(lit) < 0.8 * 784  # MNIST's black border is left out


@pytest.mark.parametrize("entry", ["predict", "snn_activity", "decisions_by_steps", "evaluate_ann", "ann_activity"])
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_inference_gives_the_model_back_in_its_mode_also_when_it_raises(entry, mode):
    from snn_helpers.analysis.ann import ANN, ann_activity, evaluate_ann
    from snn_helpers.analysis.costs import snn_activity
    from snn_helpers.analysis.timesteps import decisions_by_steps
    if entry in ("evaluate_ann", "ann_activity"):
        model, steps = ANN((784, 8, 10)), ()
        run = {"evaluate_ann": evaluate_ann, "ann_activity": ann_activity}[entry]
    else:
        model, steps = SNN((784, 8, 10)), (3,)
        run = {"predict": predict, "snn_activity": snn_activity, "decisions_by_steps": decisions_by_steps}[entry]
    model.train(mode == "train")
    batches = [(torch.rand(2, 1, 28, 28), torch.tensor([1, 2]))]
    run(model, batches, *steps, device="cpu")
    assert model.training == (mode == "train") and torch.is_grad_enabled()

    def broken():
        yield torch.rand(2, 1, 28, 28), torch.tensor([1, 2])
        raise RuntimeError("the loader broke")
    seen = []
    if steps:  # the SNN's layers compute with their weights, not by calling the Linear modules
        original = model.forward
        model.forward = lambda *a, **k: seen.append(model.training) or original(*a, **k)
    else:  # ann_activity calls the ANN's modules one by one
        first = next(m for m in model.modules() if isinstance(m, torch.nn.Linear))
        first.register_forward_pre_hook(lambda module, inputs: seen.append(model.training))
    with pytest.raises(RuntimeError, match="the loader broke"):
        run(model, broken(), *steps, device="cpu")
    assert seen == [False]  # it ran in eval mode ...
    assert model.training == (mode == "train")  # ... and the caller's mode came back
