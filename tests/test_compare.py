"""SNN against ANN: the MLP, operation counts, energy and firing rates."""
import pytest
import torch

from snn_helpers import SNN
from snn_helpers.compare import (ANN, PJ_PER_AC, PJ_PER_MAC, ann_activity, ann_macs, energy_pj, evaluate_ann,
                                 fit_ann, snn_activity, synaptic_ops)


def test_ann_has_the_snn_shape_and_its_macs_are_its_weights():
    ann = ANN()
    assert ann(torch.zeros(3, 1, 28, 28)).shape == (3, 10)
    weights = sum(m.weight.numel() for m in ann if isinstance(m, torch.nn.Linear))
    assert ann_macs(ann.sizes) == weights == 784 * 512 + 512 * 256 + 256 * 10 == 535_040
    assert sum(isinstance(m, torch.nn.ReLU) for m in ann) == 2  # none after the output layer


def test_synaptic_ops_count_one_accumulate_per_spike_and_outgoing_synapse():
    into_1 = torch.zeros(3, 2, 5)  # T=3, B=2, 5 inputs
    into_1[0, 0, :2] = 1  # image 0: 2 spikes at t=0 ...
    into_1[2, 0, 4] = 1  # ... and 1 at t=2; image 1: 3 spikes
    into_1[1, 1, 1:4] = 1
    into_2 = torch.zeros(3, 2, 4)
    into_2[:, 1, 0] = 1  # image 1: 3 spikes; image 0: none
    # per image: layer 1 (6 spikes * 7 synapses) / 2 images, layer 2 (3 spikes * 2) / 2
    assert synaptic_ops([into_1, into_2], [7, 2]) == [21.0, 3.0]
    with pytest.raises(ValueError, match="layer_inputs and fan_outs"):
        synaptic_ops([into_1], [7, 2])


def test_snn_activity_matches_a_hand_count():
    """Pixels of 1.0 always fire, of 0.0 never; layer 1 always fires, layer 2 never does."""
    model = SNN(sizes=(4, 3, 2), reset="subtract")
    with torch.no_grad():
        model.fcs[0].weight.fill_(2.0)
        model.fcs[0].bias.zero_()
        model.fcs[1].weight.zero_()
        model.fcs[1].bias.zero_()
    images = torch.tensor([[1.0, 1.0, 0.0, 0.0]] * 2)
    stats = snn_activity(model, [(images, torch.zeros(2))], num_steps=5, device=torch.device("cpu"))
    assert stats["images"] == 2
    assert stats["layers"] == ["input", "layer 1", "layer 2"]
    assert stats["rates"] == [0.5, 1.0, 0.0]
    assert stats["synops"] == [2 * 5 * 3, 3 * 5 * 2]  # input spikes * 3 synapses, layer-1 spikes * 2
    assert stats["neuron_updates"] == (3 + 2) * 5


def test_energy_uses_the_published_figures():
    assert (PJ_PER_MAC, PJ_PER_AC) == (4.6, 0.9)
    assert energy_pj(macs=10, acs=100) == pytest.approx(46 + 90)
    with pytest.raises(ValueError, match="acs"):
        energy_pj(acs=-1)


def test_fit_ann_learns_a_separable_problem():
    torch.manual_seed(0)
    x = torch.randn(512, 6)
    y = (x[:, 0] > 0).long()
    batches = [(x[i:i + 64], y[i:i + 64]) for i in range(0, 512, 64)]
    ann = ANN(sizes=(6, 16, 2))
    history = fit_ann(ann, batches, epochs=5, lr=1e-2, device=torch.device("cpu"))
    assert history[-1] < history[0]
    assert evaluate_ann(ann, batches, device=torch.device("cpu")) > 0.9


def test_ann_activity_counts_non_zero_inputs_of_every_weight_layer():
    ann = ANN(sizes=(2, 2, 3))
    with torch.no_grad():
        ann[1].weight.copy_(torch.tensor([[1.0, 0.0], [-1.0, 0.0]]))
        ann[1].bias.zero_()
    images = torch.tensor([[1.0, 5.0], [2.0, 0.0], [-3.0, 0.0], [0.0, 0.0]])
    stats = ann_activity(ann, [(images[:2], None), (images[2:], None)], device=torch.device("cpu"))
    # pixels: 4 of 8 non-zero; hidden: one unit of two is positive for the first three images, none for the last
    assert stats["active"] == [0.5, 3 / 8]
    assert stats["macs_skipping_zeros"] == [4 / 4 * 2, 3 / 4 * 3]
