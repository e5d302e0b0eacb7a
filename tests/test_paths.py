"""The path rules of ``snn_helpers.system.paths``: quick mode read in one place, folders named without being made."""
import subprocess
import sys

import pytest

from snn_helpers.system import paths
from snn_helpers.system.paths import PROJECT_ROOT


@pytest.mark.parametrize("env, explicit, expected", [
    ("1", None, True), ("0", None, False), ("1", False, False), ("0", True, True), ("", None, False),
])
def test_quick_mode_reads_the_environment_only_when_not_told(monkeypatch, env, explicit, expected):
    monkeypatch.setenv("SNN_QUICK", env)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert paths.quick_mode(explicit) is expected


def test_quick_mode_refuses_a_string(monkeypatch):
    with pytest.raises(TypeError, match="quick must be True, False or None"):
        paths.quick_mode("0")  # "0" is truthy: refused, not read as full mode


@pytest.mark.parametrize("quick, folder", [("1", "build/quick"), ("0", "build")])
def test_every_output_folder_follows_the_mode(tmp_path, monkeypatch, quick, folder):
    monkeypatch.setenv("SNN_OUTPUT_DIR", str(tmp_path))
    monkeypatch.setenv("SNN_QUICK", quick)
    found = {name: getattr(paths, name)().relative_to(tmp_path).as_posix()
             for name in ("figure_dir", "media_dir", "executed_dir", "site_dir")}
    assert found == {"figure_dir": f"{folder}/img", "media_dir": f"{folder}/media",
                     "executed_dir": f"{folder}/executed", "site_dir": f"{folder}/site"}
    assert paths.checkpoint_dir() == (tmp_path / "build/quick" if quick == "1" else tmp_path) / "checkpoints"


def test_naming_a_folder_does_not_make_it(tmp_path, monkeypatch):
    monkeypatch.setenv("SNN_OUTPUT_DIR", str(tmp_path))
    for name in ("figure_dir", "media_dir", "checkpoint_dir", "executed_dir", "site_dir", "vendor_dir",
                 "student_dir"):
        getattr(paths, name)()
    assert list(tmp_path.iterdir()) == []


def test_the_runner_and_the_site_load_without_ipython():
    """The pre-render protocol lives in ``snn_helpers.course.prerender``, so reading it loads no IPython."""
    code = ("import sys, snn_helpers.course.runner, snn_helpers.course.site; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'IPython', 'ipywidgets'}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=PROJECT_ROOT, check=True)
    assert done.stdout.strip() == "[]"
