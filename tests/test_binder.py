"""The Binder (repo2docker) files in binder/ agree with the project's own and run the package's commands.

repo2docker reads only binder/ when it exists: ``requirements.txt`` (pip),
``runtime.txt`` (the Python version), ``apt.txt`` and ``postBuild``. These
tests need neither Docker nor a network: ``postBuild`` runs with a stand-in
``python`` on PATH that records what it is asked to do.
"""
import os
import re
import shlex
import subprocess
import tomllib

from snn_helpers.cli import build_parser
from snn_helpers.system.paths import PROJECT_ROOT

BINDER = PROJECT_ROOT / "binder"
# In requirements.txt for the tests and the website only, so not installed on Binder.
NOT_ON_BINDER = {"nbval", "pytest", "ruff", "playwright", "sphinx", "myst-nb", "sphinx-book-theme", "sphinx-copybutton"}
CPU_ONLY = {"torch", "torchvision"}  # their CPU-only builds: the same version with the local label +cpu


def pins(path) -> dict[str, str]:
    """``name == version`` lines of a requirements file (comments and options skipped), names lower-cased."""
    found = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            name, version = re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", line).groups()
            found[name.lower()] = version
    return found


def test_binder_pins_are_the_projects_less_the_tests_and_the_website():
    project, binder = pins(PROJECT_ROOT / "requirements.txt"), pins(BINDER / "requirements.txt")
    assert NOT_ON_BINDER <= project.keys(), "NOT_ON_BINDER names a package requirements.txt no longer pins"
    assert binder.keys() == project.keys() - NOT_ON_BINDER
    for name, version in binder.items():
        expected = f"{project[name]}+cpu" if name in CPU_ONLY else project[name]
        assert version == expected, f"binder/requirements.txt pins {name}=={version}, requirements.txt {project[name]}"
    options = [line for line in (BINDER / "requirements.txt").read_text().splitlines() if line.startswith("-")]
    assert options == ["--extra-index-url https://download.pytorch.org/whl/cpu"], options  # where +cpu builds are


def test_binder_installs_what_the_package_declares_and_the_python_conda_uses():
    declared = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {re.match(r"[A-Za-z0-9_.-]+", spec).group().lower() for spec in declared}
    assert names <= pins(BINDER / "requirements.txt").keys()
    conda_python = re.search(r"^\s*- python=(\S+)", (PROJECT_ROOT / "environment.yml").read_text(), re.M).group(1)
    assert (BINDER / "runtime.txt").read_text().strip() == f"python-{conda_python}"
    assert "gcc" in (BINDER / "apt.txt").read_text().split()  # the compiled kernels (README: Speed)


def test_postbuild_is_executable_and_runs_the_packages_commands(tmp_path):
    post_build = BINDER / "postBuild"
    assert os.access(post_build, os.X_OK) and post_build.read_text().startswith("#!")
    mode = subprocess.run(["git", "ls-files", "-s", "binder/postBuild"], cwd=PROJECT_ROOT,
                          capture_output=True, text=True).stdout.split()
    if mode:  # in a git checkout, which Binder clones: the executable bit must be committed too
        assert mode[0] == "100755", "commit binder/postBuild as executable (git update-index --chmod=+x)"
    stand_in = tmp_path / "bin" / "python"
    stand_in.parent.mkdir()
    stand_in.write_text('#!/bin/sh\nprintf "%s|%s|%s\\n" "$PWD" "$SNN_OUTPUT_DIR" "$*" >> "$LOG"\n')
    stand_in.chmod(0o755)
    log = tmp_path / "log"
    env = {**os.environ, "PATH": f"{stand_in.parent}{os.pathsep}{os.environ['PATH']}", "LOG": str(log)}
    done = subprocess.run([str(post_build)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    calls = [line.split("|") for line in log.read_text().splitlines()]
    assert {(cwd, out) for cwd, out, _ in calls} == {(str(PROJECT_ROOT), str(PROJECT_ROOT))}
    commands = [shlex.split(args) for _, _, args in calls]
    assert commands[0][:4] == ["-m", "pip", "install", "--no-deps"] and commands[0][-2:] == ["-e", "."]
    assert [args[:2] for args in commands[1:]] == [["-m", "snn_helpers"]] * 2
    assert [args[2] for args in commands[1:]] == ["fetch-data", "student"]
    for args in commands[1:]:
        build_parser().parse_args(args[2:])  # a command and options the package takes

