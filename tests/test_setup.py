"""The project's promises about its own set-up."""
import re
from pathlib import Path

import torch
import torchvision

ROOT = Path(__file__).resolve().parents[1]


def _pins(lines):
    return {m.group(1).lower(): m.group(2) for m in (re.match(r"^\s*(?:-\s+)?([A-Za-z0-9_.\-]+)==(\S+)", l) for l in lines) if m}


def test_environment_yml_lists_the_same_pins_as_requirements():
    req = _pins((ROOT / "requirements.txt").read_text().splitlines())
    env_text = (ROOT / "environment.yml").read_text()
    pip_section = env_text.split("- pip:", 1)[1].splitlines()
    env = _pins(pip_section)
    assert req, "requirements.txt pins nothing"
    assert env == req


def test_required_teaching_packages_are_pinned():
    req = _pins((ROOT / "requirements.txt").read_text().splitlines())
    for name in ["torch", "torchvision", "matplotlib", "pillow", "ipywidgets", "jupyterlab", "nbval", "tqdm", "pytest"]:
        assert name in req, name
    # the environment the tests run in is the pinned one
    assert (torch.__version__.split("+")[0], torchvision.__version__.split("+")[0]) == \
        (req["torch"], req["torchvision"])


def test_readme_promises_the_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    assert "make run" in readme and "make test" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test\b", ci, re.M)
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^test:.*\n\tSNN_QUICK=1 .*pytest tests notebooks --nbval-lax", makefile, re.M)


def test_layout():
    for name in ["notebooks", "snn_helpers", "img", "tests", "environment.yml", "README.md", "pyproject.toml"]:
        assert (ROOT / name).exists(), name
