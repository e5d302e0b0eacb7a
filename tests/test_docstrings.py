"""The docstrings' examples run, and every public function and class has one.

Every module of ``snn_helpers`` (the exercises too) has its ``>>>`` examples run as
doctests, one test per module. A second test asks every public module for an
example in the docstring of each public function and class it defines.

Left out of the second test, with the reason:

- modules whose name starts with ``_`` (``_checks``) and ``__main__`` (importing it
  runs the command line);
- ``cli``: its functions are the commands of ``python -m snn_helpers``; each one
  trains, downloads or writes the project's folders, and ``--help`` documents them;
- exception classes: the examples of the functions that raise them show them;
- the few functions in :data:`NO_EXAMPLE`, each with the reason an example cannot
  run in well under a second without a download, a notebook kernel or a write
  outside a temporary folder (a third test keeps that list current).

Examples that need the MNIST files are marked ``+SKIP``: no doctest downloads.
"""
from __future__ import annotations

import doctest
import importlib
import inspect
import io
import pkgutil

import matplotlib
import pytest
import torch

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

import snn_helpers  # noqa: E402

ENTRY_MODULES = {"snn_helpers.cli"}

# "module.function": why its docstring has no example that runs.
NO_EXAMPLE = {
    "snn_helpers.course.runner.execute_notebook": "starts a Jupyter kernel and runs a notebook",
    "snn_helpers.course.runner.run_notebooks": "runs every notebook",
    "snn_helpers.course.runner.main_job": "runs every notebook and writes img/",
    "snn_helpers.course.site.ensure_mathjax": "downloads MathJax",
    "snn_helpers.course.site.build_site": "runs Sphinx over the executed notebooks",
}


def _module_names() -> list[str]:
    names = [snn_helpers.__name__]
    names += [info.name for info in pkgutil.walk_packages(snn_helpers.__path__, prefix="snn_helpers.")]
    return sorted(name for name in names if name != "snn_helpers.__main__")


MODULES = _module_names()


@pytest.mark.parametrize("name", MODULES)
def test_doctests_pass(name, tmp_path, monkeypatch):
    module = importlib.import_module(name)
    monkeypatch.chdir(tmp_path)  # an example that writes by mistake writes here, not into the project
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report = io.StringIO()
    with torch.random.fork_rng(devices=[]):  # examples seed torch; the tests after them see no change
        for test in doctest.DocTestFinder(exclude_empty=True).find(module):
            runner.run(test, out=report.write)
            plt.close("all")
    result = runner.summarize(verbose=False)
    if result.failed:
        pytest.fail(f"{result.failed} of {result.attempted} examples failed in {name}:\n{report.getvalue()}",
                    pytrace=False)


def _public_objects(module):
    """``(qualified name, object)`` of each public function and class ``module`` defines."""
    for attr, value in sorted(vars(module).items()):
        if attr.startswith("_") or not (inspect.isfunction(value) or inspect.isclass(value)):
            continue
        if getattr(value, "__module__", None) != module.__name__:
            continue  # imported from elsewhere: checked where it is defined
        if inspect.isclass(value) and issubclass(value, BaseException):
            continue
        yield f"{module.__name__}.{attr}", value


def test_every_public_function_and_class_has_an_example():
    missing = []
    for name in MODULES:
        if name in ENTRY_MODULES or any(part.startswith("_") for part in name.split(".")):
            continue
        for qualified, value in _public_objects(importlib.import_module(name)):
            if qualified in NO_EXAMPLE:
                continue
            doc = inspect.getdoc(value) or ""
            if not doc.strip():
                missing.append(f"{qualified}: no docstring")
            elif ">>>" not in doc:
                missing.append(f"{qualified}: no >>> example")
    if missing:
        pytest.fail(f"{len(missing)} public functions and classes lack an example:\n" + "\n".join(missing),
                    pytrace=False)


def test_no_example_list_names_only_existing_functions_without_examples():
    """An entry that no longer exists, or that now has an example, is taken off the list."""
    stale = []
    for qualified in NO_EXAMPLE:
        module_name, attr = qualified.rsplit(".", 1)
        value = getattr(importlib.import_module(module_name), attr, None)
        if value is None:
            stale.append(f"{qualified}: not defined any more")
        elif ">>>" in (inspect.getdoc(value) or ""):
            stale.append(f"{qualified}: has an example now")
    if stale:
        pytest.fail("take these off NO_EXAMPLE:\n" + "\n".join(stale), pytrace=False)
