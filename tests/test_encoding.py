"""Poisson rate coding: shapes, statistics, reproducibility."""
import math

import pytest
import torch

from snn_helpers import poisson_encode


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


@pytest.mark.parametrize("kwargs, error, name", [
    ({"num_steps": 0}, ValueError, "num_steps"),
    ({"num_steps": -3}, ValueError, "num_steps"),
    ({"num_steps": 2.5}, TypeError, "num_steps"),
    ({"images": torch.full((1, 4), 1.5)}, ValueError, "images"),
    ({"images": torch.full((1, 4), -0.1)}, ValueError, "images"),
    ({"images": torch.tensor([[0.2, float("nan")]])}, ValueError, "images"),
    ({"images": torch.zeros(1, 4, dtype=torch.uint8)}, TypeError, "images"),
])
def test_rejects_bad_input_naming_the_argument(kwargs, error, name):
    args = {"images": torch.rand(1, 4), "num_steps": 3, **kwargs}
    with pytest.raises(error, match=name):
        poisson_encode(**args)
