"""The results file: every figure the README quotes, with the machine, commit and date it came from.

``results/measurements.json`` holds a list of entries. The benchmark
(``benchmarks/train_speed.py --record``), the shared-server benchmark
(``benchmarks/shared_server.py --record``) and the training command
(``python -m snn_helpers train ... --record``) append one each through :func:`record`,
written atomically. An entry is a dict with:

- ``kind``: ``"bench"`` (a run of the benchmark), ``"shared"`` (a run of the shared-server
  benchmark), ``"train"`` (a run of ``train``) or
  ``"reported"`` (a figure reported elsewhere, in an issue or an earlier README, whose
  run this file did not see; ``source`` says where it is from);
- ``machine``: :func:`~snn_helpers.system.machine.cpu_info` plus torch's version and threads;
- ``commit``, ``date`` (UTC) and ``command``;
- ``figures``: what the run measured (see :func:`train_figures` and the benchmark's JSON).

``results/notebook_memory.json`` holds the peak memory of each notebook, written by
``benchmarks/notebook_memory.py`` (:func:`load_memory`).

``python -m snn_helpers results --readme`` rewrites the blocks of README.md between
``<!-- results:NAME -->`` and ``<!-- /results:NAME -->`` from the two files (:func:`render`);
``tests/test_results.py`` checks that the README holds what the file gives.
"""
from __future__ import annotations

import json
import re
import statistics
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import torch

from ..system.atomic import write_json
from ..system.machine import cpu_info
from ..system.paths import PROJECT_ROOT

RESULTS_FILE = PROJECT_ROOT / "results" / "measurements.json"
MEMORY_FILE = PROJECT_ROOT / "results" / "notebook_memory.json"
MEMORY_ROW = ("kernel_peak_mb", "client_peak_mb", "cpu", "cores", "date")  # what a notebook's row must hold
KINDS = ("bench", "shared", "train", "reported")
RECIPE_NAMES = {"seed": "baseline"}  # old recipe names, as the README shows them now
_BLOCK = re.compile(r"(<!-- results:(?P<name>[a-z0-9-]+) -->\n)(?P<body>.*?)(<!-- /results:(?P=name) -->)", re.S)


def machine() -> dict:
    """This machine as an entry records it: :func:`~snn_helpers.system.machine.cpu_info`, ``torch`` (version)
    and ``threads`` (torch's).

    >>> sorted(machine())
    ['cores', 'flags', 'machine', 'model', 'threads', 'torch', 'vendor']
    """
    return {**cpu_info(), "torch": torch.__version__, "threads": torch.get_num_threads()}


def commit() -> str:
    """The git commit of the project (with ``+changes`` when the work tree differs), or ``"unknown"``.

    >>> from unittest import mock
    >>> with mock.patch.object(subprocess, "run", side_effect=FileNotFoundError("git")):  # no git installed
    ...     commit()
    'unknown'
    """
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True,
                              text=True, timeout=30)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=PROJECT_ROOT,
                               capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if head.returncode:
        return "unknown"
    return head.stdout.strip() + ("+changes" if dirty.stdout.strip() else "")


def load(path=RESULTS_FILE) -> list[dict]:
    """The entries of the results file at ``path`` (none where it does not exist yet); a ValueError
    naming the file when it is not a JSON list of entries with a known ``kind``.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     load(Path(folder) / "none.json")
    []
    """
    path = Path(path)
    if not path.exists():
        return []
    try:
        entries = json.loads(path.read_text())["entries"]
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{path} is not a results file (a JSON object with a list 'entries'): {error}") from None
    for number, entry in enumerate(entries):
        if not isinstance(entry, dict) or entry.get("kind") not in KINDS or "figures" not in entry:
            raise ValueError(f"{path}: entry {number} must be a dict with 'figures' and a 'kind' "
                             f"in {list(KINDS)}, got {str(entry)[:80]}")
    return entries


def load_memory(path=MEMORY_FILE) -> dict | None:
    """The notebook-memory file at ``path`` as a dict (``limit_gb``, ``notebooks``: a row per notebook
    file name), or None where it does not exist yet; a ValueError naming the file when it is not one.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     print(load_memory(Path(folder) / "none.json"))
    None
    """
    path = Path(path)
    if not path.exists():
        return None
    problem = f"{path} is not a notebook-memory file (a JSON object with a number 'limit_gb' and a dict " \
              f"'notebooks' of rows with {', '.join(MEMORY_ROW)})"
    try:
        memory = json.loads(path.read_text())
    except ValueError as error:
        raise ValueError(f"{problem}: {error}") from None
    if not isinstance(memory, dict) or not isinstance(memory.get("limit_gb"), (int, float)) \
            or not isinstance(memory.get("notebooks"), dict):
        raise ValueError(problem)
    for name, row in memory["notebooks"].items():
        if not isinstance(row, dict) or any(key not in row for key in MEMORY_ROW):
            raise ValueError(f"{problem}: row {name!r} is {str(row)[:80]}")
    return memory


def record(kind: str, command: str, figures: dict, path=RESULTS_FILE, **extra) -> dict:
    """Append an entry to the results file at ``path`` (created if needed), atomically; return it.

    kind: one of :data:`KINDS`; command: the command line that measured it; figures: a dict of
    JSON values; extra: more fields of the entry (``source`` for a reported one).

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     entry = record("train", "python -m snn_helpers train", {"accuracy": {"42": 97.5}},
    ...                    Path(folder) / "m.json")
    ...     print(len(load(Path(folder) / "m.json")), entry["figures"])
    1 {'accuracy': {'42': 97.5}}
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {list(KINDS)}, got {kind!r}")
    entries = load(path)
    entry = {"kind": kind, "machine": machine(), "commit": commit(),
             "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "command": command,
             "figures": figures, **extra}
    write_json(path, {"entries": [*entries, entry]})
    return entry


def train_figures(recipe: str, args: dict, runs: list[dict]) -> dict:
    """The figures of a ``train`` run: recipe name, the options that change the result
    (``args``: epochs, train_limit, test_limit, precision, backend, ...), and per seed the test
    accuracy in percent, the training seconds, the loss per epoch and the engine.

    runs: per seed, what :func:`~snn_helpers.core.recipes.run_recipe` returned.

    >>> from snn_helpers.engine.backend import Engine
    >>> run = {"seed": 42, "accuracy": 0.97781, "train_seconds": 30.0, "loss_history": [0.5],
    ...        "engine": Engine("compiled", "cpu", "asked for"), "test_images": 10000}
    >>> train_figures("baseline", {"epochs": 5}, [run])["accuracy"]
    {'42': 97.78}
    """
    return {"recipe": recipe, **args,
            "accuracy": {str(r["seed"]): round(100 * r["accuracy"], 2) for r in runs},
            "train_seconds": {str(r["seed"]): round(r["train_seconds"], 1) for r in runs},
            "loss_history": {str(r["seed"]): [round(x, 4) for x in r["loss_history"]] for r in runs},
            "test_images": runs[0]["test_images"], "engine": runs[0]["engine"].as_dict()}


# ---- the README's blocks ----
def _recipe(entry) -> str:
    name = entry["figures"].get("recipe", "")
    return RECIPE_NAMES.get(name, name)


def _full_run(entry) -> bool:
    """A ``train`` (or reported) entry of a full run: all of MNIST, 5 epochs, fp32, 10 steps."""
    f = entry["figures"]
    return (entry["kind"] in ("train", "reported") and "accuracy" in f and f.get("epochs", 5) == 5
            and f.get("train_limit") is None and f.get("test_limit") is None and f.get("num_steps", 10) == 10)


def _where(entry) -> str:
    m = entry["machine"]
    return m["model"] if entry["kind"] != "reported" else f"{m['model']}, as reported in {entry['source']}"


def _machine_line(m) -> str:
    """``"AMD EPYC (family 25, model 17), 2 cores with sse4_2, avx, ..."``: the CPU of an entry's machine."""
    return f"{m['model']}, {m['cores']} cores with {', '.join(m['flags']) or 'no vector extension recorded'}"


def _accuracy_table(entries) -> str:
    rows = {}
    for entry in entries:
        f = entry["figures"]
        if _full_run(entry) and f.get("precision", "fp32") == "fp32" and f.get("surrogate") is None \
                and (entry.get("table") == "accuracy" or (entry["kind"] == "train" and len(f["accuracy"]) >= 3)):
            rows[(_recipe(entry), _where(entry))] = {int(k): v for k, v in f["accuracy"].items()}
    lines = ["| recipe | machine | seed 42 | seed 43 | seed 44 | mean ± sd |", "|---|---|---|---|---|---|"]
    for (recipe, where), acc in rows.items():
        seeds = [acc.get(s) for s in (42, 43, 44)]
        cells = [f"{a:.2f}%" if a is not None else "" for a in seeds]
        known = [a for a in seeds if a is not None]
        spread = f"{statistics.mean(known):.2f}% ± {statistics.stdev(known):.2f}" if len(known) > 1 else ""
        lines.append(f"| `{recipe}` | {where} | " + " | ".join(cells) + f" | {spread} |")
    return "\n".join(lines)


def _spread_table(entries) -> str:
    rows = {}
    for entry in entries:
        f = entry["figures"]
        if _full_run(entry) and _recipe(entry) == "baseline" and "42" in f["accuracy"] \
                and f.get("precision", "fp32") == "fp32" and f.get("surrogate") is None:
            engine = f.get("engine", {}).get("name", f.get("backend", ""))
            flags = ", ".join(entry["machine"]["flags"]) or "not recorded"
            rows[(_where(entry), flags, engine, f"{f['accuracy']['42']:.2f}%")] = None
    header = ["| machine | vector extensions | engine | seed 42, test accuracy |", "|---|---|---|---|"]
    return "\n".join(header + ["| " + " | ".join(row) + " |" for row in rows])


def _last(entries, kind: str) -> dict | None:
    """The last entry of ``kind``, or None."""
    return next((entry for entry in reversed(entries) if entry["kind"] == kind), None)


def _bench_table(entries) -> str:
    entry = _last(entries, "bench")
    if entry is None:
        return "(no benchmark run recorded yet: `make bench` records one)"
    f, m = entry["figures"], entry["machine"]
    threads = f"{f['threads']} thread" + ("s" if f["threads"] != 1 else "")
    lines = [f"Measured on {_machine_line(m)}, {threads}, torch {m['torch']}; "
             f"commit {entry['commit'][:10]}, {entry['date'][:10]}: `{entry['command']}`, {f['rounds']} "
             f"interleaved rounds of {f['batches_per_round']} steady-state steps, after {f['warmup_batches']} "
             f"training steps, subnormals {'flushed' if f['flush_denormal'] else 'kept'}; load average "
             f"{f['load_average_start_end'][0]} at the start and {f['load_average_start_end'][1]} at the end. "
             f"`default` is what `SNN()` runs: {f['default_engine']['name']} ({f['default_engine']['reason']}).", "",
             "| variant | samples/s | vs seed loop (range over rounds) | vs snnTorch |", "|---|---|---|---|"]
    order = ("seed_loop", "snntorch", "default")  # then the rest, by name (the file's keys are sorted)
    for name, v in sorted(f["variants"].items(), key=lambda item: (item[0] not in order, order.index(item[0])
                                                                    if item[0] in order else 0, item[0])):
        low, high = v["vs_seed_loop_range"]
        lines.append(f"| {name} | {v['samples_per_s']:,} | {v['vs_seed_loop']:.2f} ({low:.2f}–{high:.2f}) "
                     f"| {v['vs_snntorch']:.2f} |")
    return "\n".join(lines)


def _bf16_table(entries) -> str:
    rows = {}
    for entry in entries:
        f, m = entry["figures"], entry["machine"]
        if entry["kind"] == "bench" and {"default", "fast_bf16"} <= set(f["variants"]):
            rows[(m["model"], tuple(m["flags"]), f["threads"])] = entry  # the last run on each machine
    if not rows:
        return "(no benchmark run recorded yet: `make bench` records one)"
    lines = ["| machine | bf16 extensions | threads | products, bf16 vs fp32 | training, bf16 vs default "
             "| measured |", "|---|---|---|---|---|---|"]
    for (model, flags, threads), entry in rows.items():
        f = entry["figures"]
        native = ", ".join(flag for flag in flags if "bf16" in flag) or "none (emulated)"
        products = f["gemm_gflops"]["bf16"] / f["gemm_gflops"]["fp32"]
        training = f["variants"]["fast_bf16"]["samples_per_s"] / f["variants"]["default"]["samples_per_s"]
        lines.append(f"| {model} | {native} | {threads} | {products:.2f}× | {training:.2f}× "
                     f"| {entry['date'][:10]}, commit {entry['commit'][:10]} |")
    return "\n".join(lines)


def _runs_table(entries) -> str:
    rows = {}
    for entry in entries:
        f = entry["figures"]
        if _full_run(entry) and _recipe(entry) == "baseline" and list(f["accuracy"]) == ["42"] and \
                f.get("surrogate") is None and entry.get("table") != "accuracy":  # one run: its wall time is the run's
            key = (f.get("engine", {}).get("name", f.get("backend", "")), f.get("precision", "fp32"), _where(entry))
            rows.setdefault(key, []).append(f)
    lines = ["| engine | precision | machine | wall time (runs) | seed 42, test accuracy |", "|---|---|---|---|---|"]
    for (engine, precision, where), runs in rows.items():
        walls = ", ".join(f"{r['wall_seconds']:.1f}" for r in runs if "wall_seconds" in r)
        accuracies = ", ".join(sorted({f"{r['accuracy']['42']:.2f}%" for r in runs}))
        lines.append(f"| {engine} | {precision} | {where} | {walls + ' s' if walls else 'not recorded'} | {accuracies} |")
    return "\n".join(lines)


def _shared_table(entries) -> str:
    entry = _last(entries, "shared")
    if entry is None:
        return "(no shared-server run recorded yet: `python benchmarks/shared_server.py --record` records one)"
    f, m = entry["figures"], entry["machine"]
    lines = [f"Measured on {_machine_line(m)}, torch {m['torch']}; commit "
             f"{entry['commit'][:10]}, {entry['date'][:10]}: `{entry['command']}`: {f['students']} students' "
             f"processes, each training the {f['recipe']} recipe for one epoch on {f['images']:,} images, started "
             f"together; medians over {f['rounds']} interleaved round{'s' if f['rounds'] != 1 else ''}, each share "
             f"against one student alone with nothing set in the same round; load average {f['load_average_start_end'][0]} "
             f"at the start and {f['load_average_start_end'][1]} at the end.", "",
             f"| the server's environment | one student alone | slowest of {f['students']} at once "
             f"| together, share of one student's throughput (range) |", "|---|---|---|---|"]
    for row in f["settings"]:
        env = ", ".join(f"`{k}={v}`" for k, v in row["environment"].items())
        low, high = row["share_range"]
        lines.append(f"| {row['name']}{f' ({env})' if env else ''} | {row['alone_seconds']:.1f} s | {row['slowest_together_seconds']:.1f} s "
                     f"| {row['share']:.0%} ({low:.0%}–{high:.0%}) |")
    return "\n".join(lines)


def _memory_table(memory) -> str:
    if not memory or not memory["notebooks"]:
        return "(no notebook measured yet: `python benchmarks/notebook_memory.py` measures them)"
    rows, limit = memory["notebooks"], memory["limit_gb"]
    short = {name: name.split("_")[0] for name in rows}  # "03_training.ipynb" -> "03"
    cpus = sorted({f"{row['cpu']}, {row['cores']} cores" for row in rows.values()})
    dates = sorted(row["date"][:10] for row in rows.values())
    span = dates[0] if dates[0] == dates[-1] else f"{dates[0]} to {dates[-1]}"
    lines = [f"Measured on {' and '.join(cpus)}, {span}:", "",
             f"| notebook | kernel peak | with the client | {limit:g} GB session |", "|---|---|---|---|"]
    for name, row in rows.items():
        both = row["kernel_peak_mb"] + row["client_peak_mb"]
        lines.append(f"| {short[name]} | {row['kernel_peak_mb']:,.0f} MB | {both:,.0f} MB "
                     f"| {'fits' if both <= 1000 * limit else 'does not fit'} |")
    names = list(rows)
    pairs = [(rows[a]["kernel_peak_mb"] + rows[b]["kernel_peak_mb"], a, b) for a, b in zip(names, names[1:])]
    if pairs:
        total, a, b = max(pairs)
        lines += ["", f"Two kernels at once, the largest pair of neighbours ({short[a]} and {short[b]}), hold "
                      f"{rows[a]['kernel_peak_mb']:,.0f} + {rows[b]['kernel_peak_mb']:,.0f} "
                      f"= {total:,.0f} MB: {'more than' if total > 1000 * limit else 'within'} the {limit:g} GB."]
    return "\n".join(lines)


# The blocks made from the results file's entries; "notebook-memory" is made from the notebook-memory file.
BLOCKS = {"bench": _bench_table, "bf16": _bf16_table, "shared-server": _shared_table, "train-runs": _runs_table,
          "accuracy": _accuracy_table, "seed-spread": _spread_table}
MEMORY_BLOCK = "notebook-memory"


def render(entries: list[dict], memory: dict | None = None) -> dict[str, str]:
    """The README's blocks, by name (:data:`BLOCKS` and :data:`MEMORY_BLOCK`), as markdown made from
    ``entries`` (:func:`load`) and ``memory`` (:func:`load_memory`).

    >>> render([])["bench"]
    '(no benchmark run recorded yet: `make bench` records one)'
    """
    return {**{name: make(entries) for name, make in BLOCKS.items()}, MEMORY_BLOCK: _memory_table(memory)}


def update_readme(text: str, entries: list[dict], memory: dict | None = None) -> str:
    """``text`` (a README) with every ``<!-- results:NAME -->`` block replaced by :func:`render`'s;
    a ValueError for a block name it does not make.

    >>> update_readme("<!-- results:bench -->\\nold\\n<!-- /results:bench -->", [])
    '<!-- results:bench -->\\n(no benchmark run recorded yet: `make bench` records one)\\n<!-- /results:bench -->'
    """
    blocks = render(entries, memory)

    def replace(match):
        if match["name"] not in blocks:
            raise ValueError(f"README block {match['name']!r} is not one of {sorted(blocks)}")
        return f"{match[1]}{blocks[match['name']]}\n{match[4]}"
    return _BLOCK.sub(replace, text)


def readme_blocks(text: str) -> dict[str, str]:
    """The bodies of the ``<!-- results:NAME -->`` blocks in ``text``, by name (without the last newline).

    >>> readme_blocks("a\\n<!-- results:bench -->\\nrow\\n<!-- /results:bench -->\\nb")
    {'bench': 'row'}
    """
    return {m["name"]: m["body"].removesuffix("\n") for m in _BLOCK.finditer(text)}
