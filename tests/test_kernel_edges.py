"""The compiled kernels' edges: what reaches C is checked, the C side refuses a bad
table index, NaN and infinities are defined, and the ctypes signatures match the C source."""
import ctypes
import os
import re
import shutil
import stat

import pytest
import torch

from snn_helpers import SURROGATES
from snn_helpers.core.neurons import FusedLIF
from snn_helpers.engine import kernels

needs_library = pytest.mark.usefixtures("kernel_library")  # skipped where no C compiler builds the kernels
KINDS = ("sigmoid", "fast_sigmoid", "arctan")  # the rows of the table in snn_lif_bwd
C_TYPES = {"float *": ctypes.c_void_p, "int32_t *": ctypes.c_void_p, "int64_t *": ctypes.c_void_p,
           "uint8_t *": ctypes.c_void_p, "int64_t": ctypes.c_int64, "float": ctypes.c_float, "int": ctypes.c_int, "void": None}


def _exported_functions(source: str) -> dict:
    """``{name: (return type, [argument types])}`` of the functions ``source`` defines
    without ``static``, the types as C spells them without ``const``, ``restrict`` or names."""
    source = re.sub(r"/\*.*?\*/", " ", source.replace("\\\n", " "), flags=re.S)
    source = re.sub(r"^\s*#.*$", " ", source, flags=re.M)
    headers, depth, start = [], 0, 0
    for i, char in enumerate(source):  # the text before each top-level "{"
        if char == "{":
            if depth == 0:
                headers.append(source[start:i])
            depth += 1
        elif char == "}":
            depth -= 1
            start = i + 1 if depth == 0 else start
        elif char == ";" and depth == 0:
            start = i + 1
    functions = {}
    for header in headers:
        header = re.sub(r"__attribute__\s*\(\(.*?\)\)\)?", " ", header, flags=re.S)
        match = re.fullmatch(r"\s*(.*?)\b(\w+)\s*\((.*)\)\s*", header, flags=re.S)
        if not match or "static" in match.group(1).split():
            continue
        arguments = []
        for argument in match.group(3).split(","):
            words = argument.replace("*", " * ").split()
            words = [w for w in words if w not in ("const", "restrict")]
            if words != ["void"]:
                words = words[:-1]  # the argument's name
            arguments.append(" ".join(words))
        functions[match.group(2)] = (" ".join(match.group(1).split()), [a for a in arguments if a != "void"])
    return functions


def test_the_ctypes_signatures_match_the_c_definitions():
    exported = _exported_functions(kernels.SOURCE.read_text())
    assert exported.keys() == kernels._SIGNATURES.keys(), "every exported C function has one ctypes signature"
    for name, (restype, argtypes) in exported.items():
        assert all(t in C_TYPES for t in [restype, *argtypes]), f"{name}: a C type the test cannot map"
        want = (C_TYPES[restype], [C_TYPES[t] for t in argtypes])
        assert kernels._SIGNATURES[name] == want, f"{name}: ctypes {kernels._SIGNATURES[name]} but C {want}"


def test_the_signature_parser_reads_what_the_c_file_uses():
    source = """static inline int64_t min64(int64_t a, int64_t b) { return a; }
    __attribute__((optimize("fp-contract=fast")))
    void snn_a(const float *restrict x, int32_t *idx, int64_t n, float beta, int kind) { if (n) { n++; } }
    static inline __attribute__((always_inline))
    void hidden(float *x) { }
    int snn_b(void) { return 1; }"""
    assert _exported_functions(source) == {
        "snn_a": ("void", ["float *", "int32_t *", "int64_t", "float", "int"]),
        "snn_b": ("int", []),
    }


class _Recording:
    """The library, recording the pointer arguments of every call."""

    def __init__(self, lib):
        self.lib, self.calls = lib, []

    def __getattr__(self, name):
        function = getattr(self.lib, name)

        def call(*args):
            pointers = [a for a, t in zip(args, function.argtypes, strict=True) if t is ctypes.c_void_p]
            self.calls.append((name, pointers))
            return function(*args)
        return call


@needs_library
def test_every_pointer_handed_to_c_went_through_the_check(monkeypatch):
    recording, checked = _Recording(kernels.library()), set()
    check = kernels._address

    def spy(*args, **kwargs):
        address = check(*args, **kwargs)
        checked.add(address)
        return address
    monkeypatch.setitem(kernels._state, "lib", recording)
    monkeypatch.setattr(kernels, "_address", spy)
    x = (torch.rand(7, 3, 20) < 0.3).float().requires_grad_()
    for bias, columns in ((torch.randn(64), None), (None, torch.arange(0, 40, 2))):
        weight = torch.randn(64, 20 if columns is None else 40, requires_grad=True)
        kernels.SpikeLinear.apply(x, weight, bias, columns).sum().backward()
    currents = torch.randn(4, 2, 5, requires_grad=True)
    spikes, _ = FusedLIF.apply(currents, 0.9, 0.5, 5.0, "sigmoid", "zero", True)
    spikes.sum().backward()
    kernels.poisson_spikes(torch.tensor([0.0, 0.5, 1.0]), torch.rand(3, 1))
    monkeypatch.setitem(kernels._state, "rand", None)  # put back as it was after the test; absent here,
    del kernels._state["rand"]  # so that its check against torch runs (and is recorded) too
    kernels.rand((2, 3))
    names = {name for name, _ in recording.calls}
    assert names == set(kernels._SIGNATURES) - {"snn_num_threads", "snn_set_ftz"}, "every kernel that takes pointers ran"
    for name, pointers in recording.calls:
        assert all(p in checked for p in pointers if p is not None), f"{name} got an unchecked pointer"
        assert None not in pointers or name == "snn_spike_linear_fwd", f"{name} got NULL"  # only a missing bias
    assert [None in pointers for name, pointers in recording.calls if name == "snn_spike_linear_fwd"] == [False, True]


@needs_library
def test_each_argument_is_checked_for_dtype_device_contiguity_and_shape():
    shape = (4, 2, 3)
    grad, potentials, spikes = torch.ones(shape), torch.randn(shape), torch.zeros(shape)
    args = (0.9, 1.0, 5.0, "sigmoid", "zero")
    cases = {  # argument -> (bad value, what the error says)
        "potentials": (torch.randn(4, 2, 4), r"potentials must be a float32 CPU tensor of shape \(4, 2, 3\)"),
        "spikes": (spikes.double(), "spikes must be a float32 CPU tensor.*got torch.float64"),
        "grad_spikes": (torch.ones(shape, device="meta"), "grad_spikes must be a float32 CPU tensor.*on meta"),
    }
    for name, (bad, message) in cases.items():
        given = {"grad_spikes": grad, "potentials": potentials, "spikes": spikes, name: bad}
        with pytest.raises(ValueError, match=message):
            kernels.lif_backward(given["grad_spikes"], given["potentials"], given["spikes"], *args)
    with pytest.raises(ValueError, match=r"grad_spikes must be \[T, \.\.\.\]"):
        kernels.lif_backward(torch.tensor(1.0), torch.tensor(1.0), torch.tensor(1.0), *args)
    strided = torch.zeros(3, 4).t()
    with pytest.raises(ValueError, match=r"values must be a float32 CPU tensor of shape \(4, 3\), contiguous.*"
                                         r"not contiguous"):
        kernels._address("values", strided, torch.float32, (4, 3))
    with pytest.raises(ValueError, match="index must be a int32 CPU tensor.*got torch.int64"):
        kernels._address("index", torch.zeros(5, dtype=torch.int64), torch.int32, (5,))
    with pytest.raises(TypeError, match="bias must be a tensor"):
        kernels._address("bias", None, torch.float32, (5,))
    assert kernels._address("bias", None, torch.float32, (5,), optional=True) is None


@needs_library
def test_columns_and_draws_that_do_not_fit_are_refused_before_c_sees_them():
    x, weight = torch.zeros(2, 3, 4), torch.zeros(64, 10)
    for columns, message in ((torch.tensor([0, 1, 2, 10]), r"indices in \[0, 9\], got values in \[0, 10\]"),
                             (torch.tensor([-1, 1, 2, 3]), r"indices in \[0, 9\], got values in \[-1, 3\]"),
                             (torch.zeros(4), "1-D integer CPU tensor")):
        with pytest.raises(ValueError, match=message):
            kernels.SpikeLinear.apply(x, weight, None, columns)
    with pytest.raises(ValueError, match="it has 1, probs has 2"):  # 0.5 and 0.25 take a draw each
        kernels.poisson_spikes(torch.tensor([0.5, 1.0, 0.25]), torch.rand(4, 1))
    with pytest.raises(ValueError, match="probs must be"):
        kernels.poisson_spikes(torch.rand(2, 3), torch.rand(4, 1))


@needs_library
def test_non_contiguous_inputs_give_the_same_gradient():
    gen = torch.Generator().manual_seed(3)
    grad, potentials = torch.randn(5, 6, 4, generator=gen), torch.randn(5, 6, 4, generator=gen) + 1
    spikes = (potentials >= 1.0).float()
    want = kernels.lif_backward(grad, potentials, spikes, 0.9, 1.0, 5.0, "arctan", "zero")
    flipped = [t.transpose(1, 2).contiguous().transpose(1, 2) for t in (grad, potentials, spikes)]
    assert not flipped[0].is_contiguous()
    assert torch.equal(kernels.lif_backward(*flipped, 0.9, 1.0, 5.0, "arctan", "zero"), want)


@needs_library
def test_a_surrogate_or_reset_out_of_the_table_is_refused_in_c_and_in_python():
    lib, n = kernels.library(), 8
    grad_spk, pot, spk = torch.ones(2, n), torch.randn(2, n), torch.zeros(2, n)
    for kind, subtract in ((-1, 0), (len(KINDS), 0), (10**6, 1), (0, 2), (0, -1)):
        out = torch.full((2, n), 7.0)
        status = lib.snn_lif_bwd(grad_spk.data_ptr(), pot.data_ptr(), spk.data_ptr(), out.data_ptr(),
                                 2, n, 0.9, 1.0, 5.0, kind, subtract)
        assert status == 1 and torch.all(out == 7.0), f"kind {kind}, subtract {subtract}: memory touched"
    out = torch.full((2, n), 7.0)
    assert lib.snn_lif_bwd(grad_spk.data_ptr(), pot.data_ptr(), spk.data_ptr(), out.data_ptr(),
                           2, n, 0.9, 1.0, 5.0, len(KINDS) - 1, 1) == 0 and not torch.any(out == 7.0)
    with pytest.raises(ValueError, match="surrogate must be one of"):
        kernels.lif_backward(grad_spk, pot, spk, 0.9, 1.0, 5.0, "tanh", "zero")
    with pytest.raises(ValueError, match="reset must be one of"):
        kernels.lif_backward(grad_spk, pot, spk, 0.9, 1.0, 5.0, "sigmoid", "none")
    with pytest.raises(ValueError, match="reset must be one of"):
        kernels.lif_forward(pot, 0.9, 1.0, "Zero")


def _kernel_surrogate(u, threshold, slope, kind):
    """g(U - threshold) as the kernel computes it: one step, reset by subtraction, dL/dS = 1."""
    u = u.reshape(1, -1)
    return kernels.lif_backward(torch.ones_like(u), u, (u >= threshold).float(),
                                0.9, threshold, slope, kind, "subtract")[0]


@needs_library
@pytest.mark.parametrize("kind", KINDS)
def test_nan_and_infinities_reaching_the_surrogate_are_defined(kind):
    tiny, big = torch.finfo(torch.float32).tiny, torch.finfo(torch.float32).max
    u = torch.tensor([float("nan"), float("inf"), -float("inf"), big, -big, 1e30, -1e30,
                      200.0, -200.0, 1.0, tiny, -tiny, 0.0])
    got = _kernel_surrogate(u, 1.0, 5.0, kind)
    want = SURROGATES[kind](u - 1.0, 5.0)
    assert torch.equal(got.isnan(), u.isnan()), "NaN exactly where U is NaN"
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-30, equal_nan=True)


@needs_library
@pytest.mark.parametrize("kind", KINDS)
def test_the_surrogate_matches_torch_over_the_whole_float_range(kind):
    gen = torch.Generator().manual_seed(4)
    magnitude = torch.pow(10.0, torch.empty(200_000).uniform_(-45, 38, generator=gen))
    u = magnitude * torch.where(torch.rand(200_000, generator=gen) < 0.5, -1.0, 1.0)
    u = torch.cat([u, torch.empty(200_000).uniform_(-30, 30, generator=gen)])
    torch.testing.assert_close(_kernel_surrogate(u, 0.5, 4.0, kind), SURROGATES[kind](u - 0.5, 4.0),
                               rtol=1e-5, atol=1e-30)


@needs_library
@pytest.mark.parametrize("reset", ["zero", "subtract"])
def test_a_nan_current_spreads_as_in_torch(reset):
    currents = torch.randn(6, 3, 64, generator=torch.Generator().manual_seed(5))
    currents[2, 1, 7] = currents[4, 0, 3] = float("nan")
    grads = []
    for compiled in (True, False):
        x = currents.clone().requires_grad_()
        spikes, potentials = FusedLIF.apply(x, 0.9, 0.5, 5.0, "sigmoid", reset, compiled)
        (grad,) = torch.autograd.grad(spikes, x, torch.ones_like(spikes))
        grads.append((spikes, potentials, grad))
    for kernel, plain in zip(*grads, strict=True):
        assert torch.equal(kernel.isnan(), plain.isnan())
        torch.testing.assert_close(kernel, plain, rtol=1e-5, atol=1e-6, equal_nan=True)
    assert grads[0][2].isnan().any()


def _fake_compiler_without_openmp(folder):
    """A compiler that refuses -fopenmp, as Apple's clang does, and passes everything else to cc."""
    path = folder / "cc-without-openmp"
    path.write_text('#!/bin/sh\nfor a in "$@"; do [ "$a" = -fopenmp ] && '
                    '{ echo "clang: error: unsupported option \'-fopenmp\'" >&2; exit 1; }; done\n'
                    f'exec {shutil.which("cc") or shutil.which("gcc")} "$@"\n')
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.mark.skipif(not (shutil.which("cc") or shutil.which("gcc")) or os.name != "posix",
                    reason="needs a C compiler and a POSIX shell")
def test_a_compiler_without_openmp_is_named_as_such(monkeypatch, tmp_path):
    fake = _fake_compiler_without_openmp(tmp_path)
    monkeypatch.setattr(kernels, "_state", {})
    monkeypatch.setenv("CC", str(fake))
    monkeypatch.setenv(kernels.CACHE_ENV, str(tmp_path / "cache"))
    assert kernels.has_openmp() is False
    with pytest.warns(RuntimeWarning, match="cc-without-openmp has no OpenMP.*unsupported option"):
        assert kernels.library() is None
    if kernels.has_openmp(shutil.which("cc") or shutil.which("gcc")):
        monkeypatch.setattr(kernels, "_state", {})
        monkeypatch.delenv("CC")
        assert kernels.has_openmp() is True


@needs_library
def test_num_threads_needs_the_library(monkeypatch):
    assert kernels.num_threads() == torch.get_num_threads()
    monkeypatch.setenv(kernels.ENABLE_ENV, "0")
    with pytest.raises(RuntimeError, match="not available"):
        kernels.num_threads()
