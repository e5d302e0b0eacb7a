"""Project-wide pytest set-up: the notebooks are only ever tested in quick mode, and write under the clone.

This file sits at the project root so that it is loaded for any test path,
including ``pytest --nbval-lax notebooks/`` on its own. nbval starts each
notebook's kernel in the notebook's folder, where the notebook would write its
outputs; the test suite sends them to the clone's ``build/quick/`` instead, as
``make test`` does (``SNN_OUTPUT_DIR``, unless it is set already).
"""
import os
from pathlib import Path

import pytest

os.environ.setdefault("SNN_OUTPUT_DIR", str(Path(__file__).resolve().parent))
# Timing stays out of the tests: backend="auto" takes the compiled kernels where they run (plain torch
# elsewhere) instead of measuring which is faster on this machine (snn_helpers/engine/backend.py). The
# notebooks' kernels inherit it. tests/test_backend.py unsets it where it tests the measured choice.
os.environ.setdefault("SNN_ENGINE", "compiled")


def pytest_collection_modifyitems(config, items):
    """Stop the run when nbval collected notebook cells but ``SNN_QUICK=1`` is not set."""
    notebooks = sorted({item.path.name for item in items if item.path.suffix == ".ipynb"})
    if notebooks and os.environ.get("SNN_QUICK") != "1":
        raise pytest.UsageError(
            f"notebook tests ({', '.join(notebooks)}) must run in quick mode: set SNN_QUICK=1, "
            f"e.g. `SNN_QUICK=1 pytest --nbval-lax notebooks/` or `make test`. Without it they "
            f"would train on all of MNIST and write figures over img/.")
