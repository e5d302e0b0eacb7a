"""The course as a website: pre-rendered sliders, the home page, an offline build, and the pages in Chromium.

The slow part runs once per module: every notebook executed in quick mode with
``SNN_PRERENDER=1`` into a temporary folder, then ``python -m snn_helpers site``
with the network unreachable (``unshare -n`` where it works, else a
``sitecustomize`` that refuses every internet socket). Chromium then opens each
page from disk with every request to anything but a local file aborted.
Screenshots go to ``test-output/site/``.
"""
from __future__ import annotations

import base64
import io
import json
import os
import re
import subprocess
import sys
import time
from contextlib import redirect_stdout
from html.parser import HTMLParser
from pathlib import Path

import ipywidgets
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import pytest  # noqa: E402

from snn_helpers import site, widgets  # noqa: E402
from snn_helpers.paths import PROJECT_ROOT  # noqa: E402
from snn_helpers.runner import notebook_paths, run_notebooks  # noqa: E402
from snn_helpers.widgets import SLIDER_MIME, lif_demo, prerender, prerender_values, slider_panel  # noqa: E402

SHOTS = PROJECT_ROOT / "test-output" / "site"


# ---------------------------------------------------------------- pre-rendered sliders


def test_prerender_values_for_steps_and_for_beta():
    assert prerender_values(ipywidgets.IntSlider(value=10, min=1, max=100)) == [1, 2, 5, 10, 20, 50, 100]
    assert prerender_values(ipywidgets.IntSlider(value=7, min=1, max=50)) == [1, 2, 5, 7, 10, 20, 50]
    beta = ipywidgets.FloatSlider(value=0.95, min=0.0, max=1.0, step=0.01)
    assert prerender_values(beta) == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0]
    with pytest.raises(TypeError, match="IntSlider or FloatSlider"):
        prerender_values(ipywidgets.Dropdown(options=[1, 2]))


def lif_controls(beta=0.9):
    return {"beta": ipywidgets.FloatSlider(value=beta, min=0.0, max=1.0, step=0.01),
            "threshold": ipywidgets.FloatSlider(value=1.2, min=0.1, max=2.0, step=0.05),
            "input_kind": ipywidgets.Dropdown(options=["constant", "poisson"], value="poisson")}


def test_prerender_draws_the_demo_for_each_value_and_leaves_no_figure_open():
    plt.close("all")
    bundle = prerender(lif_demo, lif_controls(), current=0.4, num_steps=40, seed=3)
    payload = bundle[SLIDER_MIME]
    assert payload["name"] == "beta" and payload["value"] == 0.9 and payload["demo"] == "lif_demo"
    assert payload["arguments"] == {"threshold": 1.2, "input_kind": "poisson", "current": 0.4,
                                    "num_steps": 40, "seed": 3}
    assert [frame["value"] for frame in payload["frames"]] == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8,
                                                               0.9, 1.0]
    for frame in payload["frames"]:
        printed = io.StringIO()
        with redirect_stdout(printed):
            lif_demo(frame["value"], 1.2, "poisson", current=0.4, num_steps=40, seed=3)
        assert frame["text"] == printed.getvalue().strip()
        assert base64.b64decode(frame["image"]).startswith(b"\x89PNG")
    plt.close("all")
    assert len({frame["image"] for frame in payload["frames"]}) > 1  # the figure follows the value
    assert plt.get_fignums() == []
    assert "website only" in bundle["text/plain"]


def test_prerender_needs_a_numeric_slider_and_a_demo_that_draws_one_figure():
    with pytest.raises(ValueError, match="IntSlider or FloatSlider"):
        prerender(lif_demo, {"input_kind": ipywidgets.Dropdown(options=["constant"])}, beta=0.5, threshold=1.0)
    with pytest.raises(RuntimeError, match="one figure, it drew 0"):
        prerender(lambda steps: print(steps), {"steps": ipywidgets.IntSlider(value=1, min=1, max=2)})


@pytest.mark.parametrize("flag", ["0", "1"])
def test_slider_panel_displays_the_prerendered_bundle_only_when_asked(monkeypatch, flag):
    shown = []
    monkeypatch.setattr(widgets, "display", lambda bundle, raw: shown.append(bundle))
    monkeypatch.setenv("SNN_PRERENDER", flag)
    controls = lif_controls(0.5)
    panel = slider_panel(lif_demo, controls, current=0.3, num_steps=20, seed=0)
    plt.close("all")
    assert list(panel.children[0].children) == list(controls.values())  # the live sliders either way
    if flag == "0":
        assert shown == []
    else:
        assert [bundle[SLIDER_MIME]["name"] for bundle in shown] == ["beta"]


# ---------------------------------------------------------------- the home page and the build's pieces


PAGES = [{"doc": "01_a", "title": "Encoding", "time": "35 minutes (10 reading)", "number": "01", "sliders": 1},
         {"doc": "02_b", "title": "Neurons", "time": "40 min", "number": "02", "sliders": 1}]
README = "# A course\n\nIt teaches spikes.\n\n## Figures\n\n| |\n|---|\n| ![grid](img/grid.png) The grid |\n\n## Next\n"


def test_home_page_lists_the_notebooks_in_order_with_their_times_and_the_figures():
    home = site.home_page(PAGES, README, has_guide=True)
    assert home.startswith("# A course\n\nIt teaches spikes.")
    assert home.index("{doc}`Encoding <01_a>` | 35 minutes (10 reading)") < home.index("{doc}`Neurons <02_b>`")
    assert "In all, about 75 minutes." in home
    assert "{doc}`teacher's guide <teaching>`" in home and "\nteaching\n```" in home
    assert "![grid](img/grid.png) The grid" in home and "## Next" not in home
    assert site.figure_paths(home) == ["img/grid.png"]


def test_home_page_without_a_guide_or_a_readable_time():
    pages = [PAGES[0], {**PAGES[1], "time": None}]
    home = site.home_page(pages, README, has_guide=False)
    assert "| not given |" in home
    assert "In all" not in home and "teaching" not in home


def test_local_links_point_repository_links_at_the_site():
    text = ("see [01](../notebooks/01_spike_encoding.ipynb), [02](notebooks/02_x.ipynb), ![f](../img/a.png), "
            "[the README](../README.md), [checks](../snn_helpers/exercises/), [web](https://x.org/a), [up](#top)")
    assert site.local_links(text) == (
        "see [01](01_spike_encoding.ipynb), [02](02_x.ipynb), ![f](img/a.png), [the README](index.md), "
        "checks (`snn_helpers/exercises/` in the repository), [web](https://x.org/a), [up](#top)")


def test_estimated_time_and_title_are_read_from_the_opening_cells():
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# 01 · Spike encoding: from pixels\n\nIntro."),
        nbformat.v4.new_markdown_cell("**Learning objectives.**\n- explain\n\n**Estimated time.** 35 minutes"),
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_markdown_cell("**Estimated time.** not this one")])
    assert site.notebook_title(notebook) == "Spike encoding: from pixels"
    assert site.estimated_time(notebook) == "35 minutes"
    notebook.cells[1].source = "**Estimated time:** 20 minutes"
    assert site.estimated_time(notebook) == "20 minutes"
    del notebook.cells[1]
    assert site.estimated_time(notebook) is None


def test_a_missing_executed_notebook_is_named(tmp_path):
    with pytest.raises(site.SiteError, match="no executed copy of 01_.*make run"):
        site.ordered_notebooks(tmp_path)


def test_a_mathjax_tarball_with_the_wrong_hash_is_refused_and_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(site, "vendor_dir", lambda: tmp_path)
    monkeypatch.setattr(site, "mathjax_static_dir", lambda: tmp_path / "mathjax-x")

    def fake_download(workdir):
        (workdir / "mathjax.tgz").write_bytes(b"not MathJax")
        return workdir / "mathjax.tgz"

    monkeypatch.setattr(site, "_download_tarball", fake_download)
    with pytest.raises(site.SiteError, match="sha256"):
        site.ensure_mathjax(verbose=False)
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- the built site


def network_blocker(tmp_path: Path) -> tuple[list[str], dict]:
    """How to run a program with no network: ``unshare -n`` where it works, else a ``sitecustomize``
    on PYTHONPATH that makes every internet socket connection fail. Returns (command prefix, environment)."""
    try:
        if subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0:
            return ["unshare", "-n"], dict(os.environ)
    except FileNotFoundError:
        pass
    folder = tmp_path / "no-network"
    folder.mkdir()
    (folder / "sitecustomize.py").write_text(
        "import socket\n"
        "_connect = socket.socket.connect\n"
        "def connect(self, address):\n"
        "    if self.family in (socket.AF_INET, socket.AF_INET6):\n"
        "        raise OSError('network blocked by the site test')\n"
        "    return _connect(self, address)\n"
        "socket.socket.connect = connect\n")
    path = os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH")]))
    return [], {**os.environ, "PYTHONPATH": path}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Every notebook executed in quick mode with pre-rendering, then the site built offline."""
    tmp = tmp_path_factory.mktemp("site")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SNN_QUICK", "1")
        env.setenv("SNN_PRERENDER", "1")
        run_notebooks(out_dir=tmp / "executed", quick=True)
    try:
        site.ensure_mathjax()  # the set-up's fetch (make test does it first); the build itself is offline
    except site.SiteError as err:
        pytest.skip(f"no MathJax copy and none could be fetched: {err}")
    prefix, env = network_blocker(tmp)
    start = time.perf_counter()
    result = subprocess.run([*prefix, sys.executable, "-m", "snn_helpers", "site", "--executed",
                             str(tmp / "executed"), "--out", str(tmp / "site")],
                            capture_output=True, text=True, cwd=PROJECT_ROOT, env=env)
    seconds = time.perf_counter() - start
    assert result.returncode == 0, result.stdout + result.stderr
    print(f"site built offline in {seconds:.1f} s: {result.stdout.strip()}")
    return tmp / "executed", tmp / "site", result


def test_the_build_reports_where_to_open_the_site(built):
    _, out, result = built
    assert f"open {(out / 'index.html').as_uri()}" in result.stdout
    assert re.search(r"website: \d+ notebooks, \d+ pre-rendered sliders, [\d.]+ MB, built in", result.stdout)
    assert "WARNING" not in result.stdout + result.stderr


class Assets(HTMLParser):
    """The ``src``/``href`` of every script, link, img, source, iframe and embed tag of a page."""

    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "link", "img", "source", "iframe", "embed", "audio", "video"):
            self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def test_no_page_or_style_names_another_host(built):
    _, out, _ = built
    pages = sorted(out.rglob("*.html"))
    assert pages
    for page in pages:
        parser = Assets()
        parser.feed(page.read_text(encoding="utf-8"))
        remote = [url for url in parser.urls if re.match(r"^(https?:)?//", url)]
        assert not remote, f"{page.relative_to(out)} loads {remote}"
    for style in out.rglob("*.css"):
        remote = re.findall(r"(?:url\(\s*['\"]?|@import\s+['\"]?)((?:https?:)?//[^'\")\s]+)", style.read_text())
        assert not remote, f"{style.relative_to(out)} loads {remote}"


def test_every_page_offers_its_notebook_for_download(built):
    _, out, _ = built
    for path in notebook_paths():
        page = (out / f"{path.stem}.html").read_text(encoding="utf-8")
        link = re.search(rf'href="(_downloads/[0-9a-f]+/{re.escape(path.name)})"', page)
        assert link, f"{path.stem}.html has no download link to {path.name}"
        assert (out / link.group(1)).read_bytes() == path.read_bytes()  # the committed notebook
        assert "JupyterLab" in page


def slider_payloads(executed: Path, stem: str) -> list[dict]:
    """The pre-rendered sliders the executed notebook carries, in order."""
    notebook = nbformat.read(executed / f"{stem}.ipynb", as_version=4)
    return [output["data"][SLIDER_MIME] for cell in notebook.cells if cell.cell_type == "code"
            for output in cell.outputs if SLIDER_MIME in output.get("data", {})]


def gif_outputs(executed: Path, stem: str, kinds=("image/gif",)) -> int:
    """How many outputs of the executed notebook ``stem`` hold an image of one of ``kinds``."""
    notebook = nbformat.read(executed / f"{stem}.ipynb", as_version=4)
    return sum(any(kind in output.get("data", {}) for kind in kinds) for cell in notebook.cells
               if cell.cell_type == "code" for output in cell.outputs)


def test_every_slider_panel_was_prerendered(built):
    executed, _, _ = built
    names = {path.stem: [p["name"] for p in slider_payloads(executed, path.stem)] for path in notebook_paths()}
    for path in notebook_paths():
        notebook = nbformat.read(path, as_version=4)
        calls = sum(cell.source.count("slider_panel(") for cell in notebook.cells if cell.cell_type == "code")
        assert len(names[path.stem]) == calls, f"{path.stem}: {calls} slider panels, pre-rendered {names[path.stem]}"
    assert sum(map(len, names.values())) >= 4


@pytest.fixture(scope="module")
def browser():
    from jupyter_browser import CHROMIUM_ARGS, chromium_or_skip

    path = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class OfflinePage:
    """A page of the built site in Chromium; requests to anything but local files are aborted and
    recorded, like failed requests, console errors and uncaught exceptions."""

    def __init__(self, browser, path: Path):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.problems: list[str] = []
        self.context.route("**/*", self.only_local)
        self.page = self.context.new_page()
        self.page.on("requestfailed", lambda request: self.problems.append(
            f"failed request {request.url}: {request.failure}"))
        self.page.on("console", lambda message: message.type == "error" and self.problems.append(
            f"console error: {message.text}"))
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.goto(path.as_uri(), wait_until="load")

    def only_local(self, route):
        if route.request.url.startswith(("file://", "data:")):
            route.continue_()
        else:
            self.problems.append(f"request to another host: {route.request.url}")
            route.abort()


MATH_TYPESET_JS = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  const math = [...document.querySelectorAll('.math')];
  return {math: math.length, typeset: math.filter(m => m.querySelector('mjx-container svg')).length,
          text: document.querySelector('main').innerText};
}"""
IMAGES_JS = """() => [...document.images].map(i => ({src: i.currentSrc || i.src, complete: i.complete,
                                                  width: i.naturalWidth, height: i.naturalHeight}))"""


def check_page(browser, path: Path, shot: Path) -> OfflinePage:
    """Load ``path``; check requests, console, math and images; save a screenshot of its top."""
    page = OfflinePage(browser, path)
    math = page.page.evaluate(MATH_TYPESET_JS)
    page.page.wait_for_function("() => [...document.images].every(i => i.complete)", timeout=30_000)
    images = page.page.evaluate(IMAGES_JS)
    assert not page.problems, f"{path.name}: " + "\n".join(page.problems)
    assert math["typeset"] == math["math"], f"{path.name}: {math['typeset']} of {math['math']} formulas typeset"
    assert "$$" not in math["text"] and "\\(" not in math["text"], f"{path.name}: raw TeX left on the page"
    empty = [image["src"] for image in images if not (image["complete"] and image["width"] and image["height"])]
    assert not empty, f"{path.name}: images without a size: {empty}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.page.screenshot(path=shot)
    return page


def test_home_page_in_chromium(built, browser):
    _, out, _ = built
    page = check_page(browser, out / "index.html", SHOTS / "home.png")
    try:
        links = page.page.locator("main a.reference.internal").evaluate_all("links => links.map(a => a.href)")
        for path in notebook_paths():
            assert any(link.endswith(f"/{path.stem}.html") for link in links), f"no link to {path.stem}"
        srcs = page.page.evaluate(IMAGES_JS)
        assert any(image["src"].endswith(".gif") for image in srcs), "the README's GIFs are missing"
    finally:
        page.context.close()


@pytest.mark.parametrize("stem", [path.stem for path in notebook_paths()])
def test_notebook_page_in_chromium(built, browser, stem):
    """Each page: no failed request, math typeset, every image sized, its GIFs there, and each
    pre-rendered slider showing, for every value, the figure and line the notebook computed."""
    executed, out, _ = built
    page = check_page(browser, out / f"{stem}.html", SHOTS / f"{stem}.png")
    try:
        gifs = page.page.locator("main img[src$='.gif']").count()
        assert gifs == gif_outputs(executed, stem), f"{stem}: {gifs} GIFs on the page"
        figures = gif_outputs(executed, stem, ("image/png", "image/gif"))
        assert page.page.locator("main img").count() >= figures, f"{stem}: fewer images than its {figures} figures"
        payloads = slider_payloads(executed, stem)
        panels = page.page.locator(".snn-slider")
        assert panels.count() == len(payloads)
        for k, payload in enumerate(payloads):
            panel = panels.nth(k)
            panel.scroll_into_view_if_needed()
            panel.screenshot(path=SHOTS / f"{stem}-slider-{payload['name']}.png")
            slider = panel.locator("input[type=range]")
            for i in [*range(len(payload["frames"])), 0]:  # every value, then back to the first
                frame = payload["frames"][i]
                slider.fill(str(i))
                visible = panel.locator(".snn-slider-frame:not([hidden])")
                assert visible.count() == 1
                assert panel.locator(".snn-slider-value").inner_text() == f"{frame['value']:g}"
                assert visible.locator(".snn-slider-text").inner_text().strip() == frame["text"]
                src = visible.locator("img").get_attribute("src")
                assert (out / src).read_bytes() == base64.b64decode(frame["image"]), f"{stem}: image of {i}"
                assert visible.locator("img").evaluate("img => img.naturalWidth") > 0
        assert not page.problems, "\n".join(page.problems)
    finally:
        page.context.close()


def test_lif_slider_lines_are_the_plain_functions(built):
    """Notebook 02's pre-rendered lines are what ``lif_demo`` prints for the recorded arguments."""
    executed, _, _ = built
    stem = next(path.stem for path in notebook_paths() if path.stem.startswith("02_"))
    (payload,) = slider_payloads(executed, stem)
    for frame in payload["frames"]:
        printed = io.StringIO()
        with redirect_stdout(printed):
            lif_demo(**{**payload["arguments"], payload["name"]: frame["value"]})
        plt.close("all")
        assert frame["text"] == printed.getvalue().strip()
    assert json.dumps(payload["arguments"])  # plain JSON, no tensors
