"""The surrogate registry, the compiled kernels' surrogate table and the command line agree."""
import argparse
import re

import pytest
import torch

from snn_helpers import SURROGATES
from snn_helpers.cli import build_parser
from snn_helpers.core.neurons import FusedLIF
from snn_helpers.core.recipes import RECIPES
from snn_helpers.engine import kernels
from snn_helpers.engine.surrogates import REGISTRY


def _c_table() -> list[str]:
    """The surrogate of each row of ``steps[kinds][2]`` in ``snn_lif_bwd``, in row order."""
    source = kernels.SOURCE.read_text()
    table = re.search(r"steps\[\w+\]\[2\]\s*=\s*\{(.*?)\};", source, re.S)
    assert table, "the table of backward steps in _kernels.c was not found"
    rows = re.findall(r"\{\s*bwd_(\w+)_zero\s*,\s*bwd_(\w+)_subtract\s*\}", table.group(1))
    assert all(zero == subtract for zero, subtract in rows), rows
    return [zero for zero, _ in rows]


def test_the_surrogate_table_has_one_name():
    from snn_helpers.core import neurons
    from snn_helpers.engine import surrogates
    assert SURROGATES is neurons.SURROGATES is surrogates.SURROGATES


def test_each_registry_entry_names_itself_and_the_c_row_that_computes_it():
    assert sorted(SURROGATES) == sorted(REGISTRY)
    assert all(name == entry.name and SURROGATES[name] is entry.derivative for name, entry in REGISTRY.items())
    assert {entry.name: entry.kernel_id for entry in REGISTRY.values()} == \
        {name: row for row, name in enumerate(_c_table())}


@pytest.mark.usefixtures("kernel_library")  # skipped where no C compiler builds the kernels
@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_the_c_row_of_each_id_computes_that_surrogate(name):
    """A wrong id would pick another bump: the compiled backward must match the torch one."""
    currents = (0.3 + 0.5 * torch.randn(7, 3, 40, generator=torch.Generator().manual_seed(4))).requires_grad_()
    weights = torch.randn(7, 3, 40, generator=torch.Generator().manual_seed(5))
    grads = []
    for compiled in (False, True):
        spikes, _ = FusedLIF.apply(currents, 0.9, 1.0, 3.0, name, "subtract", compiled)
        grads.append(torch.autograd.grad((spikes * weights).sum(), currents)[0])
    torch.testing.assert_close(grads[1], grads[0], rtol=1e-5, atol=1e-6)


def _options(parser: argparse.ArgumentParser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _options(sub)
        else:
            yield action


def test_the_command_line_and_the_recipes_offer_exactly_the_registered_surrogates():
    options = [action for action in _options(build_parser()) if "surrogate" in action.dest]
    assert [action.option_strings for action in options] == [["--surrogate"]]
    assert sorted(options[0].choices) == sorted(REGISTRY)
    assert all(recipe.model.neuron.surrogate in REGISTRY for recipe in RECIPES.values())
