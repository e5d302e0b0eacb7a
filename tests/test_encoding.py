"""Poisson rate coding: shapes, statistics, reproducibility."""
import math

import pytest
import torch

from snn_helpers import SNN, poisson_encode
from snn_helpers.encoding import encode_lit


def test_shape_and_values_are_binary_floats():
    images = torch.rand(4, 1, 28, 28)
    spikes = poisson_encode(images, num_steps=7)
    assert spikes.shape == (7, 4, 1, 28, 28)
    assert spikes.dtype == images.dtype
    assert set(spikes.unique().tolist()) <= {0.0, 1.0}


def test_firing_rate_matches_intensity_within_binomial_tolerance():
    intensities = torch.linspace(0, 1, 101).reshape(1, 1, 101)
    num_steps = 4000
    spikes = poisson_encode(intensities, num_steps, generator=torch.Generator().manual_seed(0))
    rate = spikes.mean(0).flatten()
    p = intensities.flatten()
    sigma = torch.sqrt(p * (1 - p) / num_steps)
    # 5 sigma per pixel: a wrong encoder (e.g. rate = p**2 or 1 - p) is off by far more
    assert torch.all((rate - p).abs() <= 5 * sigma + 1e-9), (rate - p).abs().max()


def test_black_never_fires_and_white_always_fires():
    images = torch.tensor([[0.0, 1.0]])
    spikes = poisson_encode(images, num_steps=500)
    assert spikes[:, 0, 0].sum() == 0
    assert spikes[:, 0, 1].sum() == 500


def test_steps_are_independent_draws():
    images = torch.full((1, 1000), 0.5)
    spikes = poisson_encode(images, num_steps=2, generator=torch.Generator().manual_seed(1))
    agreement = (spikes[0] == spikes[1]).float().mean().item()
    assert abs(agreement - 0.5) < 5 * math.sqrt(0.25 / 1000)


def test_generator_makes_it_reproducible():
    images = torch.rand(2, 1, 28, 28)
    a = poisson_encode(images, 5, generator=torch.Generator().manual_seed(3))
    b = poisson_encode(images, 5, generator=torch.Generator().manual_seed(3))
    c = poisson_encode(images, 5, generator=torch.Generator().manual_seed(4))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_encode_lit_keeps_exactly_the_lit_pixels_and_draws_the_same_spikes():
    images = torch.rand(6, 1, 28, 28, generator=torch.Generator().manual_seed(5))
    images[images < 0.6] = 0.0  # about 40% of the pixels lit per image ...
    images[..., :5, :] = 0.0  # ... and a border black in every image
    images[0, 0, 10, 10] = 1.0
    spikes, pixels = encode_lit(images, 9, generator=torch.Generator().manual_seed(8))
    assert torch.equal(pixels, (images.flatten(1) > 0).any(0).nonzero().squeeze(1))
    assert spikes.shape == (9, 6, len(pixels)) and len(pixels) < 28 * 23
    full = poisson_encode(images, 9, generator=torch.Generator().manual_seed(8)).flatten(2)
    assert torch.equal(spikes, full[..., pixels])
    assert full.sum() == spikes.sum()  # nothing fired outside the lit pixels


def test_encode_lit_of_an_all_black_batch_has_no_pixels_and_the_network_still_runs():
    spikes, pixels = encode_lit(torch.zeros(3, 1, 28, 28), 4)
    assert spikes.shape == (4, 3, 0) and pixels.numel() == 0
    assert SNN(sizes=(784, 8, 10))(spikes, pixels).shape == (4, 3, 10)


@pytest.mark.parametrize("kwargs, error, name", [
    ({"num_steps": 0}, ValueError, "num_steps"),
    ({"num_steps": -3}, ValueError, "num_steps"),
    ({"num_steps": 2.5}, TypeError, "num_steps"),
    ({"images": torch.full((1, 4), 1.5)}, ValueError, "images"),
    ({"images": torch.full((1, 4), -0.1)}, ValueError, "images"),
    ({"images": torch.tensor([[0.2, float("nan")]])}, ValueError, "images"),
    ({"images": torch.zeros(1, 4, dtype=torch.uint8)}, TypeError, "images"),
])
@pytest.mark.parametrize("encode", [poisson_encode, encode_lit])
def test_rejects_bad_input_naming_the_argument(kwargs, error, name, encode):
    args = {"images": torch.rand(1, 4), "num_steps": 3, **kwargs}
    with pytest.raises(error, match=name):
        encode(**args)
