"""The results file (results/measurements.json) and the README blocks quoted from it."""
import json
from pathlib import Path

import pytest

from snn_helpers import cli
from snn_helpers.course import results

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_quotes_the_results_file():
    blocks = results.readme_blocks(README.read_text())
    want = results.render(results.load(results.RESULTS_FILE), results.load_memory(results.MEMORY_FILE))
    assert sorted(blocks) == sorted(want)  # every block is in the README, once
    for name, body in blocks.items():
        assert body == want[name], f"README block {name!r} differs from the results file: " \
                                   "run `python -m snn_helpers results --readme`"


def _train_entry(accuracy, model="Test CPU"):
    return {"kind": "train", "machine": {"model": model, "flags": ["avx2"]}, "commit": "c" * 40,
            "date": "2026-01-01T00:00:00+00:00", "command": "python -m snn_helpers train --record",
            "figures": {"recipe": "seed", "epochs": 5, "num_steps": 10, "train_limit": None, "test_limit": None,
                        "precision": "fp32", "surrogate": None, "engine": {"name": "compiled"},
                        "accuracy": {"42": accuracy}, "wall_seconds": 30.0}}


def test_a_new_entry_changes_what_the_readme_must_say():
    entries = results.load(results.RESULTS_FILE)
    text = results.update_readme(README.read_text(), entries, results.load_memory())
    changed = results.update_readme(text, [*entries, _train_entry(12.34, "Another CPU")], results.load_memory())
    assert changed != text
    assert "| compiled | fp32 | Another CPU | 30.0 s | 12.34% |" in results.readme_blocks(changed)["train-runs"]
    assert "| Another CPU | avx2 | compiled | 12.34% |" in results.readme_blocks(changed)["seed-spread"]
    assert results.update_readme(changed, entries, results.load_memory()) == text  # the blocks follow the files


def test_a_run_of_several_seeds_gives_no_wall_time_for_one_run():
    three = _train_entry(12.34, "Another CPU")
    three["figures"]["accuracy"] = {"42": 12.34, "43": 12.5, "44": 12.6}
    three["figures"]["wall_seconds"] = 90.0  # three trainings, not one
    block = results.render([three, _train_entry(12.34, "Another CPU")])["train-runs"]
    assert "| compiled | fp32 | Another CPU | 30.0 s | 12.34% |" in block and "90.0" not in block


def _bench_entry(model, flags, bf16_gflops, bf16_samples, date="2026-01-03T00:00:00+00:00"):
    variants = {"default": {"samples_per_s": 10000}, "fast_bf16": {"samples_per_s": bf16_samples}}
    return {"kind": "bench", "machine": {"model": model, "flags": flags, "cores": 2, "torch": "2.x"},
            "commit": "e" * 40, "date": date, "command": "python benchmarks/train_speed.py --record",
            "figures": {"threads": 2, "gemm_gflops": {"fp32": 100.0, "bf16": bf16_gflops}, "variants": variants}}


def test_the_bf16_block_gives_each_machine_its_last_run():
    block = results.BLOCKS["bf16"]([_bench_entry("CPU A", ["avx2", "avx512_bf16"], 150.0, 9000),
                            _bench_entry("CPU B", ["avx2"], 20.0, 2500),
                            _bench_entry("CPU A", ["avx2", "avx512_bf16"], 400.0, 12500, "2026-01-04T00:00:00+00:00")])
    rows = block.splitlines()[2:]
    assert rows == ["| CPU A | avx512_bf16 | 2 | 4.00× | 1.25× | 2026-01-04, commit eeeeeeeeee |",
                    "| CPU B | none (emulated) | 2 | 0.20× | 0.25× | 2026-01-03, commit eeeeeeeeee |"]


def test_record_appends_an_entry_with_machine_commit_and_date(tmp_path):
    path = tmp_path / "m.json"
    results.record("train", "cmd", {"accuracy": {"42": 97.0}}, path)
    entry = results.record("bench", "cmd", {"rounds": 1}, path)
    saved = json.loads(path.read_text())["entries"]
    assert [e["kind"] for e in saved] == ["train", "bench"] and saved[1] == entry
    assert {"model", "vendor", "flags", "cores", "threads", "torch"} <= set(entry["machine"])
    assert entry["commit"] and entry["date"].endswith("+00:00")
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]  # no temporary file left
    with pytest.raises(ValueError, match="kind must be one of"):
        results.record("guess", "cmd", {}, path)


def test_a_broken_results_file_or_block_names_the_problem(tmp_path):
    path = tmp_path / "m.json"
    path.write_text("[1, 2]")
    with pytest.raises(ValueError, match="m.json is not a results file"):
        results.load(path)
    path.write_text(json.dumps({"entries": [{"kind": "rumour", "figures": {}}]}))
    with pytest.raises(ValueError, match="entry 0 must be a dict with 'figures' and a 'kind'"):
        results.load(path)
    with pytest.raises(ValueError, match="README block 'speeds' is not one of"):
        results.update_readme("<!-- results:speeds -->\nx\n<!-- /results:speeds -->", [])


def test_the_results_command_rewrites_a_readme(tmp_path, capsys):
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"entries": [_train_entry(97.5)]}))
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- results:seed-spread -->\nold\n<!-- /results:seed-spread -->\nend\n")
    assert cli.main(["results", "--file", str(path), "--readme", str(readme)]) == 0
    text = readme.read_text()
    assert text.startswith("intro\n") and text.endswith("end\n") and "old" not in text
    assert "| Test CPU | avx2 | compiled | 97.50% |" in text


def test_train_record_appends_the_run(tmp_path, capsys):
    path = tmp_path / "m.json"
    args = ["train", "--epochs", "1", "--train-limit", "128", "--test-limit", "64", "--no-progress"]
    assert cli.main([*args, "--record", str(path)]) == 0
    (entry,) = results.load(path)
    figures = entry["figures"]
    assert entry["kind"] == "train" and entry["command"].startswith("python -m snn_helpers train --epochs 1")
    assert figures["train_limit"] == 128 and figures["test_images"] == 64 and figures["epochs"] == 1
    printed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("seed 42:")][0]
    assert f"{figures['accuracy']['42']:.2f}%" in printed
    assert figures["engine"]["name"] in ("compiled", "torch") and len(figures["loss_history"]["42"]) == 1


def _shared_entry(shares):
    settings = [{"name": name, "environment": env, "alone_seconds": 2.0, "slowest_together_seconds": 4 * 2.0 / share,
                 "share": share, "share_range": [share - 0.1, share + 0.1]}
                for (name, env), share in zip([("nothing set", {}), ("half a CPU each", {"CPU_LIMIT": "0.5"})], shares)]
    return {"kind": "shared", "machine": {"model": "Test CPU", "flags": ["avx2"], "cores": 2, "torch": "2.x"},
            "commit": "d" * 40, "date": "2026-01-02T00:00:00+00:00", "command": "python benchmarks/shared_server.py",
            "figures": {"students": 4, "images": 25600, "rounds": 2, "recipe": "improved", "settings": settings,
                        "load_average_start_end": [0.1, 3.9]}}


def test_the_shared_server_block_quotes_the_last_run_in_its_order():
    entries = results.load(results.RESULTS_FILE)
    block = results.render([*entries, _shared_entry([0.4, 0.75]), _shared_entry([0.36, 0.55])])["shared-server"]
    assert block.startswith("Measured on Test CPU, 2 cores with avx2, torch 2.x; commit dddddddddd")
    rows = [line for line in block.splitlines() if line.startswith("| ") and "%" in line]
    assert rows == ["| nothing set | 2.0 s | 22.2 s | 36% (26%–46%) |",
                    "| half a CPU each (`CPU_LIMIT=0.5`) | 2.0 s | 14.5 s | 55% (45%–65%) |"]


def test_the_shared_server_benchmark_refuses_a_bad_count(capsys):
    import runpy
    bench = runpy.run_path(str(README.parent / "benchmarks" / "shared_server.py"))
    with pytest.raises(SystemExit):
        bench["main"](["--students", "0"])
    assert "--students must be at least 1, got 0" in capsys.readouterr().err
    assert list(bench["SETTINGS"])[0] == bench["REFERENCE"] and bench["SETTINGS"][bench["REFERENCE"]] == {}


def _memory(peaks, limit_gb=2.0):
    return {"limit_gb": limit_gb, "notebooks": {
        f"0{n}_x.ipynb": {"kernel_peak_mb": kernel, "client_peak_mb": 70.0, "cpu": "Test CPU (family 1, model 2)",
                          "cores": 2, "date": f"2026-01-0{n}T10:00Z"} for n, kernel in enumerate(peaks, 1)}}


def test_the_memory_block_says_what_fits_and_which_neighbours_pass_the_limit():
    block = results.render([], _memory([900.0, 1000.0, 1950.0, 400.0]))["notebook-memory"]
    assert block.startswith("Measured on Test CPU (family 1, model 2), 2 cores, 2026-01-01 to 2026-01-04:")
    rows = [line for line in block.splitlines() if line.startswith("| 0")]
    assert rows == ["| 01 | 900 MB | 970 MB | fits |", "| 02 | 1,000 MB | 1,070 MB | fits |",
                    "| 03 | 1,950 MB | 2,020 MB | does not fit |", "| 04 | 400 MB | 470 MB | fits |"]
    assert "(02 and 03), hold 1,000 + 1,950 = 2,950 MB: more than the 2 GB." in block
    assert "(01 and 02), hold 900 + 1,000 = 1,900 MB: within the 3 GB." in \
        results.render([], _memory([900.0, 1000.0], limit_gb=3))["notebook-memory"]
    assert "no notebook measured yet" in results.render([], None)["notebook-memory"]


def test_a_broken_notebook_memory_file_names_the_file_and_the_row(tmp_path):
    path = tmp_path / "memory.json"
    path.write_text("{")
    with pytest.raises(ValueError, match="memory.json is not a notebook-memory file"):
        results.load_memory(path)
    memory = _memory([900.0])
    del memory["notebooks"]["01_x.ipynb"]["cpu"]
    path.write_text(json.dumps(memory))
    with pytest.raises(ValueError, match="row '01_x.ipynb' is"):
        results.load_memory(path)
    path.write_text(json.dumps(_memory([900.0])))
    assert results.load_memory(path)["notebooks"]["01_x.ipynb"]["kernel_peak_mb"] == 900.0


@pytest.mark.slow
def test_the_notebook_memory_benchmark_measures_a_notebook_and_names_the_cpu(tmp_path):
    import subprocess
    import sys

    import nbformat

    from snn_helpers.system.machine import cpu_name
    notebook = tmp_path / "01_tiny.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("data = bytearray(50_000_000)")]),
                   notebook)
    out = tmp_path / "memory.json"
    done = subprocess.run([sys.executable, str(README.parent / "benchmarks" / "notebook_memory.py"), "--out", str(out),
                           "--output-dir", str(tmp_path / "outputs"), str(notebook)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    row = results.load_memory(out)["notebooks"]["01_tiny.ipynb"]
    assert row["cpu"] == cpu_name() and row["fits"] is True
    assert row["kernel_peak_mb"] > 50  # the 50 MB the cell holds, and the kernel itself
    assert "| 01 |" in results.render([], results.load_memory(out))["notebook-memory"]
