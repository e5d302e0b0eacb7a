"""Device choice and timing: the bottom layer, imports only torch and the standard library."""
from __future__ import annotations

import torch


def get_device() -> torch.device:
    """The GPU when one is available, otherwise the CPU. The one place this is chosen."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
