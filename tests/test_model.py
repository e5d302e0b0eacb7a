"""The SNN: shapes, settings, devices, input checks."""
import pytest
import torch

from snn_helpers import SNN


def _spikes(T=6, B=3, p=0.4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(T, B, 1, 28, 28, generator=g) < p).float()


def test_output_is_binary_spikes_per_step_and_scores_count_them():
    torch.manual_seed(0)
    model = SNN()
    x = _spikes()
    out = model(x)
    assert out.shape == (6, 3, 10)
    assert set(out.unique().tolist()) <= {0.0, 1.0}
    torch.testing.assert_close(model.scores(x), out.sum(0))


def test_record_returns_every_layer():
    model = SNN(sizes=(784, 32, 16, 10))
    out, rec = model(_spikes(), record=True)
    assert [s.shape[-1] for s in rec["spikes"]] == [32, 16, 10]
    assert [p.shape for p in rec["potentials"]] == [s.shape for s in rec["spikes"]]
    assert torch.equal(rec["spikes"][-1], out)


def test_sizes_are_configurable_and_flat_input_works():
    model = SNN(sizes=(20, 7, 3))
    assert model(torch.ones(4, 2, 20)).shape == (4, 2, 3)
    assert [fc.weight.shape for fc in model.fcs] == [(7, 20), (3, 7)]


def test_settings_rebuild_the_same_network():
    model = SNN(sizes=(784, 64, 10), beta=0.8, threshold=0.5, reset="subtract", surrogate="arctan", slope=2.0)
    clone = SNN(**model.settings.as_dict())
    clone.load_state_dict(model.state_dict())
    x = _spikes(p=0.8)
    assert torch.equal(model(x), clone(x))
    assert clone.settings == model.settings and clone.settings.neuron.slope == 2.0


@pytest.mark.parametrize("backend", ["auto", "torch", "step"])
def test_state_follows_the_model_to_another_device(backend):
    # On the meta device any tensor left behind on the CPU would make forward fail.
    model = SNN(sizes=(784, 16, 10), backend=backend).to("meta")
    out = model(torch.empty(3, 2, 1, 28, 28, device="meta"))
    assert out.device.type == "meta" and out.shape == (3, 2, 10)


@pytest.mark.parametrize("x, error", [
    (torch.zeros(3, 2, 1, 27, 28), ValueError),
    (torch.zeros(2, 784), ValueError),
    (torch.zeros(3, 2, 784, dtype=torch.long), TypeError),
    ([[0.0] * 784], TypeError),
])
def test_rejects_inputs_of_the_wrong_shape_or_type(x, error):
    with pytest.raises(error, match="x must"):
        SNN()(x)


@pytest.mark.parametrize("features, x_width, error", [
    (torch.tensor([0, 5, 783]), 4, ValueError),  # x must hold one column per feature
    (torch.tensor([0, 5, 784]), 3, ValueError),  # indices must be inputs of the network
    (torch.tensor([-1, 5, 7]), 3, ValueError),
    (torch.tensor([0.0, 5.0, 7.0]), 3, TypeError),  # integer indices
    (torch.tensor([[0, 5, 7]]), 3, ValueError),
])
def test_rejects_bad_features(features, x_width, error):
    with pytest.raises(error, match="features"):
        SNN()(torch.zeros(2, 3, x_width), features)


@pytest.mark.parametrize("sizes", [(784,), (784, 0, 10), (784, 12.5, 10)])
def test_rejects_bad_sizes(sizes):
    with pytest.raises((ValueError, TypeError), match="sizes"):
        SNN(sizes=sizes)
