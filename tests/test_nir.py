"""Export to NIR and import from it: round trips spike for spike, and every refusal with its message."""
import h5py
import nir
import numpy as np
import pytest
import torch

from snn_helpers import SNN, as_tensors, load_mnist, poisson_encode
from snn_helpers.cli import main
from snn_helpers.core.checkpoint import settings_payload
from snn_helpers.course.handoff import model_from_checkpoint
from snn_helpers.course.shipped import pretrained_path
from snn_helpers.interop.nir_graph import (
    DT,
    NIRGraphError,
    as_reset_to_zero,
    describe,
    export_nir,
    from_nir,
    lif_parameters,
    load_nir,
    read_nir,
    threshold_ties,
    to_nir,
)
from snn_helpers.interop.snntorch_harness import compare_with_snntorch, snntorch_spikes


def small_model(beta, threshold, sizes=(40, 30, 20, 5), seed=0):
    """A reset-to-zero SNN whose random weights make every layer fire."""
    torch.manual_seed(seed)
    model = SNN(sizes, beta=beta, threshold=threshold, reset="zero", backend="torch")
    with torch.no_grad():
        for fc in model.fcs:
            fc.weight.mul_(4 * threshold)
            fc.bias.add_(0.2 * threshold)
    return model.eval()


def random_spikes(steps=25, batch=16, size=40, seed=1):
    return (torch.rand(steps, batch, size, generator=torch.Generator().manual_seed(seed)) < 0.3).float()


def pretrained_with_reset_to_zero():
    """The shipped weights in a reset-to-zero network: a model that fires on MNIST and can be exported."""
    model, _ = model_from_checkpoint(pretrained_path())
    zero = as_reset_to_zero(model)
    assert model.lifs[0].reset == "subtract" and zero.lifs[0].reset == "zero"
    assert torch.equal(zero.fcs[0].weight, model.fcs[0].weight)
    return zero


@pytest.mark.parametrize("beta, threshold", [(0.95, 1.0), (0.5, 0.3), (0.0, 2.0), (0.8, 0.75), (0.99, 1.5)])
def test_project_to_nir_file_to_project_keeps_weights_and_spikes(tmp_path, beta, threshold):
    model = small_model(beta, threshold)
    loaded = load_nir(export_nir(model, tmp_path / "model.nir"))
    assert loaded.settings == model.settings
    for fc, fc_back in zip(model.fcs, loaded.fcs):
        assert torch.equal(fc.weight, fc_back.weight) and torch.equal(fc.bias, fc_back.bias)
    x = random_spikes()
    with torch.no_grad():
        spikes, spikes_back = model(x), loaded(x)
    assert spikes.sum() > 0 and torch.equal(spikes, spikes_back)


def test_graph_holds_affine_and_lif_nodes_with_per_neuron_parameters_and_dt(tmp_path):
    model = small_model(0.9, 0.5)
    graph = read_nir(export_nir(model, tmp_path / "model.nir"))
    assert graph.edges == [("input", "fc1"), ("fc1", "lif1"), ("lif1", "fc2"), ("fc2", "lif2"),
                           ("lif2", "fc3"), ("fc3", "lif3"), ("lif3", "output")]
    assert float(graph.metadata["dt"]) == DT
    lif = graph.nodes["lif2"]
    assert isinstance(graph.nodes["fc2"], nir.Affine) and isinstance(lif, nir.LIF)
    for key in ("tau", "r", "v_leak", "v_threshold", "v_reset"):
        assert getattr(lif, key).shape == (20,), key
    np.testing.assert_allclose(lif.tau, DT / (1 - 0.9))
    np.testing.assert_allclose(lif.r, lif.tau / DT)
    assert np.all(lif.v_threshold == 0.5) and not lif.v_leak.any() and not lif.v_reset.any()


def test_describe_lists_the_nodes_in_chain_order():
    lines = describe(to_nir(small_model(0.95, 1.0, sizes=(4, 3, 2))))
    assert [line.split()[0] for line in lines] == ["input", "fc1", "lif1", "fc2", "lif2", "output"]
    assert lines[1] == "fc1     Affine  weight (3, 4), bias (3,)"
    assert lines[0] == "input   Input   shape [4]"
    assert lines[2].startswith("lif1    LIF     3 neurons: tau 0.002 s, r 20, v_leak 0, v_threshold 1, v_reset 0")


def test_describe_refuses_a_graph_whose_edges_loop_instead_of_running_forever():
    graph = to_nir(small_model(0.95, 1.0, sizes=(4, 3, 2)))
    graph.edges = [edge for edge in graph.edges if edge[0] != "lif1"] + [("lif1", "fc1")]
    with pytest.raises(NIRGraphError, match=r"node 'lif1' feeds back into 'fc1'"):
        describe(graph)


@pytest.mark.parametrize("size, error", [(-1, ValueError), (2.5, TypeError), ("3", TypeError)])
def test_lif_parameters_refuse_a_bad_size_naming_it(size, error):
    with pytest.raises(error, match="size must be"):
        lif_parameters(0.9, 1.0, size)


def test_lif_parameters_give_back_beta_by_one_euler_step():
    p = lif_parameters(0.9, 1.0, 3, dt=1e-3)
    np.testing.assert_allclose(1 - 1e-3 / p["tau"], 0.9)  # the leak of one step
    np.testing.assert_allclose(p["r"] * 1e-3 / p["tau"], 1.0)  # the input enters unscaled
    with pytest.raises(ValueError, match="beta must be below 1"):
        lif_parameters(1.0, 1.0, 3)


@pytest.mark.slow  # reads real MNIST
def test_project_to_nir_file_to_snntorch_gives_the_same_spikes_on_mnist(tmp_path):
    from snntorch.import_nir import import_from_nir
    model = pretrained_with_reset_to_zero()
    net = import_from_nir(read_nir(export_nir(model, tmp_path / "model.nir")))
    images, labels = as_tensors(load_mnist(train=False), 300)
    result = compare_with_snntorch(model, net, images, labels, 10, torch.Generator().manual_seed(0), batch_size=100)
    assert result["ties"] == 0 and result["margin"] > 1e-6  # the condition for spike-for-spike identity
    assert result["output_spikes"] > 1000 and result["differing_spikes"] == 0
    assert result["same_predictions"] == 300 and result["accuracy"] == result["accuracy_snntorch"] > 0.5
    x = poisson_encode(images[:50], 10, torch.Generator().manual_seed(1)).flatten(2)
    first = snntorch_spikes(net, x)
    with torch.no_grad():
        assert torch.equal(model(x), first)
    assert torch.equal(snntorch_spikes(net, x), first)  # the membranes were reset between runs


def test_snntorch_to_nir_file_to_project_gives_the_same_spikes(tmp_path):
    import snntorch as snn
    from snntorch.export_nir import export_to_nir
    torch.manual_seed(0)

    def leaky(n, **kwargs):  # per-neuron beta and threshold: scalars would fail NIR's shape check
        return snn.Leaky(beta=torch.full((n,), 0.9), threshold=torch.full((n,), 0.7), reset_mechanism="zero",
                         init_hidden=True, **kwargs)
    net = torch.nn.Sequential(torch.nn.Linear(40, 30), leaky(30), torch.nn.Linear(30, 5), leaky(5, output=True))
    nir.write(tmp_path / "snntorch.nir", export_to_nir(net, torch.zeros(1, 40), ignore_dims=[0]))
    model = load_nir(tmp_path / "snntorch.nir")
    assert model.sizes == (40, 30, 5) and model.lifs[0].reset == "zero"
    x = random_spikes() * 1.5
    with torch.no_grad():
        ours = model(x)
    assert ours.sum() > 0 and torch.equal(snntorch_spikes(net, x), ours)


def test_a_model_that_resets_by_subtraction_is_refused(tmp_path):
    model, _ = model_from_checkpoint(pretrained_path())
    with pytest.raises(NIRGraphError, match=r"resets by subtraction.*NIR 1\.0.*notebook 03"):
        export_nir(model, tmp_path / "improved.nir")
    assert not (tmp_path / "improved.nir").exists()


def chain(lif=None, fc=None, metadata=None):
    """A valid one-layer graph with one node replaced."""
    lif = lif or nir.LIF(**lif_parameters(0.9, 1.0, 3))
    fc = fc or nir.Affine(weight=np.ones((3, 4), np.float32), bias=np.zeros(3, np.float32))
    return nir.NIRGraph(nodes={"input": nir.Input(input_type={"input": np.array([4])}), "fc": fc, "lif": lif,
                               "output": nir.Output(output_type={"output": np.array([3])})},
                        edges=[("input", "fc"), ("fc", "lif"), ("lif", "output")],
                        metadata={"dt": DT} if metadata is None else metadata, type_check=False)


def lif_with(**changes):
    return nir.LIF(**{**lif_parameters(0.9, 1.0, 3), **changes})


def test_a_linear_node_loads_with_zero_bias():
    model = from_nir(chain(fc=nir.Linear(weight=np.full((3, 4), 0.5, np.float32))))
    assert model.sizes == (4, 3) and not model.fcs[0].bias.any() and model.lifs[0].beta == 0.9


@pytest.mark.parametrize("graph, message", [
    (lambda: chain(lif=nir.IF(r=np.ones(3), v_threshold=np.ones(3))), r"node 'lif' is a IF"),
    (lambda: chain(lif=nir.Delay(delay=np.ones(3))), r"node 'lif' is a Delay"),
    (lambda: chain(lif=nir.LIF(**lif_parameters(0.9, 1.0, 2))), r"node 'lif': tau has shape \(2,\), expected \(3,\)"),
    (lambda: chain(lif=nir.LIF(**{k: v[0] for k, v in lif_parameters(0.9, 1.0, 3).items()})),
     r"node 'lif': tau has shape \(\), expected \(3,\), one value per neuron"),
    (lambda: chain(fc=nir.Affine(weight=np.ones((3, 4)), bias=np.zeros(2))), r"node 'fc': bias must have shape"),
    (lambda: chain(lif=lif_with(v_leak=np.full(3, 0.1))), r"node 'lif': v_leak must be 0"),
    (lambda: chain(lif=lif_with(v_reset=np.full(3, -0.5))), r"node 'lif': v_reset must be 0"),
    (lambda: chain(lif=lif_with(v_threshold=np.array([1.0, 1.0, 2.0]))), r"node 'lif': v_threshold differs"),
    (lambda: chain(lif=lif_with(r=np.array([10.0, 10.0, 20.0])), metadata={}), r"cannot find the time step dt"),
    (lambda: chain(lif=lif_with(r=np.full(3, 5.0))), r"node 'lif': r \* dt / tau is 0\.5"),
    (lambda: nir.NIRGraph(nodes={"input": nir.Input(input_type={"input": np.array([4])}),
                                 "output": nir.Output(output_type={"output": np.array([4])})},
                          edges=[("input", "output")], type_check=False), r"must end in a LIF node"),
])
def test_graphs_that_do_not_fit_are_refused_naming_node_and_problem(graph, message):
    with pytest.raises(NIRGraphError, match=message):
        from_nir(graph())


def test_layers_with_different_beta_are_refused():
    graph = to_nir(small_model(0.9, 1.0, sizes=(4, 3, 2)))
    graph.nodes["lif2"] = nir.LIF(**lif_parameters(0.8, 1.0, 2))
    with pytest.raises(NIRGraphError, match=r"different beta \(lif1: 0\.9, lif2: 0\.8\)"):
        from_nir(graph)


def test_missing_truncated_and_foreign_files_are_refused(tmp_path):
    with pytest.raises(NIRGraphError, match="does not exist"):
        load_nir(tmp_path / "missing.nir")
    whole = export_nir(small_model(0.9, 1.0), tmp_path / "whole.nir").read_bytes()
    (tmp_path / "truncated.nir").write_bytes(whole[: len(whole) // 2])
    (tmp_path / "text.nir").write_text("not a graph\n")
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f.create_dataset("x", data=np.arange(3))
    for name in ("truncated.nir", "text.nir", "other.h5"):
        with pytest.raises(NIRGraphError, match=r"cannot be read as a NIR graph \(truncated, or not a NIR file\)"):
            load_nir(tmp_path / name)


def test_export_and_import_commands(tmp_path, capsys):
    model = small_model(0.9, 1.0)
    torch.save({"model": model.state_dict(), **settings_payload(model.settings)}, tmp_path / "snn.pt")
    assert main(["export-nir", str(tmp_path / "snn.pt"), str(tmp_path / "snn.nir")]) == 0
    assert main(["import-nir", str(tmp_path / "snn.nir"), str(tmp_path / "back.pt")]) == 0
    assert "wrote" in capsys.readouterr().out
    back, _ = model_from_checkpoint(tmp_path / "back.pt")
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), back.state_dict().values()))
    assert main(["export-nir", str(pretrained_path()), str(tmp_path / "improved.nir")]) == 2
    assert "resets by subtraction" in capsys.readouterr().err


def test_a_potential_exactly_at_threshold_is_the_one_difference(tmp_path):
    """This series fires at U >= threshold, NIR and snnTorch at U > threshold: the documented condition."""
    model = SNN((1, 1), beta=0.5, threshold=1.0, reset="zero", backend="torch")
    with torch.no_grad():
        model.fcs[0].weight.fill_(1.0)
        model.fcs[0].bias.zero_()
    x = torch.ones(3, 1, 1)  # U = 1.0, exactly the threshold, at every step: each one fires and resets
    assert threshold_ties(model, x) == 3
    with torch.no_grad():
        assert model(x)[:, 0, 0].tolist() == [1.0, 1.0, 1.0]
    from snntorch.import_nir import import_from_nir
    net = import_from_nir(read_nir(export_nir(model, tmp_path / "tie.nir")))
    assert snntorch_spikes(net, x)[:, 0, 0].tolist() == [0.0, 1.0, 0.0]  # U = 1, then 0.5 + 1 = 1.5 > 1, then 1


def tie_model(weight_of_second_pixel):
    """Two inputs, one output neuron: pixel 0 gives U = 1.0 = threshold (a tie), pixel 1 a potential far below."""
    model = SNN((2, 1), beta=0.5, threshold=1.0, reset="zero", backend="torch")
    with torch.no_grad():
        model.fcs[0].weight.copy_(torch.tensor([[1.0, weight_of_second_pixel]]))
        model.fcs[0].bias.zero_()
    return model


def test_compare_explains_every_differing_image_by_a_potential_at_the_threshold(tmp_path):
    from snntorch.import_nir import import_from_nir
    images, labels = torch.tensor([[1.0, 0.0], [0.0, 1.0]]), torch.tensor([0, 0])  # always fire (p = 1) or never
    model = tie_model(0.3)
    net = import_from_nir(read_nir(export_nir(model, tmp_path / "tie.nir")))
    result = compare_with_snntorch(model, net, images, labels, 4)
    assert result["ties"] == 4 and result["differing_spikes"] == 2  # ours fires 4 times on image 0, snnTorch twice
    assert result["differing_images"] == 1 and result["unexplained_images"] == 0
    # a network that is not the same one: image 1 now fires in snnTorch, with our potentials far from the threshold
    other = import_from_nir(read_nir(export_nir(tie_model(1.3), tmp_path / "other.nir")))
    result = compare_with_snntorch(model, other, images, labels, 4)
    assert result["differing_images"] == 2 and result["unexplained_images"] == 1


def test_bad_arguments_name_the_argument(tmp_path):
    with pytest.raises(TypeError, match="model must be a snn_helpers.SNN"):
        to_nir(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match=r"path must be a file path, but .* is a folder"):
        export_nir(small_model(0.9, 1.0), tmp_path)
    with pytest.raises(ValueError, match=r"dt must be in \(0.0, inf\)"):
        to_nir(small_model(0.9, 1.0), dt=0.0)
    with pytest.raises(ValueError, match=r"beta must be in \[0.0, 1.0\]"):
        lif_parameters(1.5, 1.0, 3)
    with pytest.raises(NIRGraphError, match="expected a nir.NIRGraph"):
        from_nir(nir.LIF(**lif_parameters(0.9, 1.0, 3)))
    with pytest.raises(NIRGraphError, match="metadata gives dt = 'soon', which is not a number"):
        from_nir(chain(metadata={"dt": "soon"}))
    with pytest.raises(SystemExit):
        main(["import-nir", str(tmp_path / "missing.nir"), str(tmp_path / "out.pt")])
