"""This process's share of the machine (:func:`snn_helpers.system.threads.thread_share`) from each limit,
with fake cgroup files under a temporary root, and the spinning of OpenMP's idle threads shortened
where the package starts processes. No timing here."""
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from snn_helpers.course.runner import kernel_environment
from snn_helpers.system.threads import SPIN_COUNT, cpu_limits, quiet_spinning, thread_share

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def eight_cpus(monkeypatch):
    """The process may run on 8 CPUs, whatever this machine has."""
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)


def _files(root: Path, files: dict) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.mark.parametrize("limit, expected", [("0.5", 1), ("1", 1), ("2", 2), (" 3.7 ", 3), ("64", 8)])
def test_cpu_limit_gives_its_whole_cpus_and_at_least_one(tmp_path, limit, expected):
    assert thread_share(tmp_path, {"CPU_LIMIT": limit}) == expected


def test_a_cgroup_v2_quota_counts_and_the_smallest_along_the_path_wins(tmp_path):
    _files(tmp_path, {"proc/self/cgroup": "0::/user.slice/student\n",
                      "sys/fs/cgroup/user.slice/student/cpu.max": "300000 100000\n",
                      "sys/fs/cgroup/user.slice/cpu.max": "max 100000\n"})
    assert cpu_limits(tmp_path, {})["cgroup cpu.max"] == 3.0
    assert thread_share(tmp_path, {}) == 3
    _files(tmp_path, {"sys/fs/cgroup/cpu.max": "150000 100000\n"})  # a parent's quota caps its children
    assert thread_share(tmp_path, {}) == 1
    _files(tmp_path, {"sys/fs/cgroup/cpu.max": "max 100000\n", "sys/fs/cgroup/user.slice/student/cpu.max": "max\n"})
    assert "cgroup cpu.max" not in cpu_limits(tmp_path, {}) and thread_share(tmp_path, {}) == 8


def test_a_cgroup_v2_quota_inside_a_container_counts(tmp_path):
    """In a container, /proc/self/cgroup says ``0::/`` and the quota sits at the mount's top."""
    _files(tmp_path, {"proc/self/cgroup": "0::/\n", "sys/fs/cgroup/cpu.max": "200000 100000\n"})
    assert thread_share(tmp_path, {}) == 2


def test_a_cgroup_v1_quota_counts(tmp_path):
    cgroup = "sys/fs/cgroup/cpu,cpuacct/kubepods/pod1/"
    _files(tmp_path, {"proc/self/cgroup": "4:memory:/kubepods/pod1\n3:cpu,cpuacct:/kubepods/pod1\n",
                      cgroup + "cpu.cfs_quota_us": "250000\n", cgroup + "cpu.cfs_period_us": "100000\n"})
    assert cpu_limits(tmp_path, {})["cgroup cpu.cfs_quota_us"] == 2.5
    assert thread_share(tmp_path, {}) == 2
    _files(tmp_path, {cgroup + "cpu.cfs_quota_us": "-1\n"})  # -1: no quota
    assert thread_share(tmp_path, {}) == 8


def test_the_affinity_counts(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 2, 5}, raising=False)
    assert cpu_limits(tmp_path, {})["affinity"] == 3.0
    assert thread_share(tmp_path, {}) == 3


@pytest.mark.parametrize("value, expected", [("4", 4), ("4,2", 4), ("12", 8)])
def test_omp_num_threads_counts_where_the_user_set_it(tmp_path, value, expected):
    assert thread_share(tmp_path, {"OMP_NUM_THREADS": value}) == expected


def test_the_smallest_limit_wins(tmp_path):
    _files(tmp_path, {"sys/fs/cgroup/cpu.max": "300000 100000\n"})
    assert thread_share(tmp_path, {"CPU_LIMIT": "5", "OMP_NUM_THREADS": "6"}) == 3
    assert thread_share(tmp_path, {"CPU_LIMIT": "5", "OMP_NUM_THREADS": "2"}) == 2
    assert thread_share(tmp_path, {"CPU_LIMIT": "0.5", "OMP_NUM_THREADS": "2"}) == 1


@pytest.mark.parametrize("bad", ["abc", "-1", "0", "nan", "inf"])
def test_a_bad_cpu_limit_warns_with_its_name_and_the_share_used(tmp_path, bad):
    _files(tmp_path, {"sys/fs/cgroup/cpu.max": "300000 100000\n"})
    with pytest.warns(RuntimeWarning, match=rf"CPU_LIMIT='{bad}' is not a positive number of CPUs; ignoring "
                                            r"it and using 3 thread\(s\).*cgroup cpu.max 3, affinity 8"):
        assert thread_share(tmp_path, {"CPU_LIMIT": bad}) == 3


def test_a_bad_omp_num_threads_warns_too_and_an_empty_cpu_limit_is_unset(tmp_path):
    with pytest.warns(RuntimeWarning, match="OMP_NUM_THREADS='many' is not a positive number"):
        assert thread_share(tmp_path, {"OMP_NUM_THREADS": "many"}) == 8
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert thread_share(tmp_path, {"CPU_LIMIT": " "}) == 8


def test_quiet_spinning_sets_a_default_and_never_overrides_the_user():
    assert quiet_spinning({}) == {"GOMP_SPINCOUNT": str(SPIN_COUNT)}
    assert quiet_spinning({"GOMP_SPINCOUNT": "300000"}) == {"GOMP_SPINCOUNT": "300000"}
    assert quiet_spinning({"OMP_WAIT_POLICY": "active"}) == {"OMP_WAIT_POLICY": "active"}  # it would override that


def _environment_seen(code: str, **extra) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")}
    return subprocess.run([sys.executable, "-c", code], env={**env, **extra}, capture_output=True, text=True,
                          check=True, cwd=ROOT).stdout.strip()


def test_importing_the_package_before_torch_sets_the_spin_count_and_after_it_does_not():
    show = "import os; print(os.environ.get('GOMP_SPINCOUNT'))"
    assert _environment_seen("import snn_helpers; " + show) == str(SPIN_COUNT)
    assert _environment_seen("import torch, snn_helpers; " + show) == "None", "too late for libgomp: left alone"
    assert _environment_seen("import snn_helpers; " + show, GOMP_SPINCOUNT="5") == "5"


def test_the_notebook_kernels_get_the_spin_count(monkeypatch):
    monkeypatch.delenv("GOMP_SPINCOUNT", raising=False)
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    assert kernel_environment()["GOMP_SPINCOUNT"] == str(SPIN_COUNT)
    monkeypatch.setenv("OMP_WAIT_POLICY", "passive")
    assert "GOMP_SPINCOUNT" not in kernel_environment()


def _lab_command(**extra) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")}
    out = subprocess.run(["make", "-n", "lab"], env={**env, **extra}, capture_output=True, text=True, check=True,
                         cwd=ROOT).stdout
    return next(line for line in out.splitlines() if "jupyter lab" in line)


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_lab_sets_the_spin_count_unless_the_user_did():
    assert _lab_command().startswith(f"GOMP_SPINCOUNT={SPIN_COUNT} "), "the number of threads.SPIN_COUNT"
    assert "GOMP_SPINCOUNT" not in _lab_command(GOMP_SPINCOUNT="5")
    assert "GOMP_SPINCOUNT" not in _lab_command(OMP_WAIT_POLICY="passive")
