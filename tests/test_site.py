"""The course as a website: pre-rendered sliders, the home page, an offline build, and the pages in Chromium.

The slow part runs once per module: ``python -m snn_helpers site`` over every notebook
executed in quick mode with ``SNN_PRERENDER=1`` (nbval's executions of the same run,
collected by tests/conftest.py; executed here only when nbval did not run them),
with the network unreachable (``unshare -n`` where it works, else a
``sitecustomize`` that refuses every internet socket). Chromium then opens each
page from disk with every request to anything but a local file aborted.
Screenshots go to ``test-output/site/``.

Accessibility (WCAG 2.1 AA): axe-core runs the WCAG 2.0 and 2.1 A and AA rules on
every page and any serious or critical violation fails; every image in the executed
notebooks, in nbconvert's HTML of them and on every page has a text alternative that
is not a file name; the sliders work from the keyboard; every GIF can be stopped and
starts as a still frame for a reader who asks for reduced motion.
"""
from __future__ import annotations

import base64
import html
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

from snn_helpers.analysis import plots
from snn_helpers.course import site, widgets  # noqa: E402
from snn_helpers.course.runner import notebook_paths  # noqa: E402
from snn_helpers.course.widgets import SLIDER_MIME, lif_demo, prerender, prerender_values, slider_panel  # noqa: E402
from snn_helpers.system.paths import PROJECT_ROOT  # noqa: E402

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


def test_slider_html_is_labelled_and_speaks_its_value_and_line(tmp_path):
    frames = [{"value": v, "image": base64.b64encode(b"png").decode(), "alt": f"Bars for {v} steps.",
               "text": f"spikes: {v}"} for v in (1, 2, 5)]
    page = site.slider_html({"name": "num_steps", "value": 2, "frames": frames}, tmp_path, "_sliders/01_x/1")
    ident = "snn-slider-sliders-01-x-1"
    assert f'<label id="{ident}-label" for="{ident}">num_steps</label>' in page
    assert f'<input id="{ident}" type="range" min="0" max="2" step="1" value="1"' in page
    assert 'aria-valuetext="2"' in page and 'aria-live="polite"' in page
    assert [alt for alt in re.findall(r'alt="([^"]+)"', page)] == [frame["alt"] for frame in frames]
    old = [{key: value for key, value in frame.items() if key != "alt"} for frame in frames]  # an older run's frames
    assert 'alt="The figure for num_steps = 5"' in site.slider_html(
        {"name": "num_steps", "value": 2, "frames": old}, tmp_path, "_sliders")


def test_a_figure_with_a_text_alternative_becomes_an_img_with_it(tmp_path):
    fig = plots.loss_curve([2.0, 1.0])
    data, metadata = fig._repr_mimebundle_()
    plt.close(fig)
    output = nbformat.v4.new_output("display_data", data=data, metadata=metadata)
    shown = site.figure_output(output, tmp_path / "figs", "_figures/03")
    (written,) = (tmp_path / "figs").iterdir()
    assert written.read_bytes() == base64.b64decode(data["image/png"])
    alt = plots.figure_description(fig)
    assert shown.data == {"text/html": f'<img src="_figures/03/{written.name}" alt="{alt}" class="snn-figure">'}
    del output.metadata["image/png"]  # a figure without a description is left to myst-nb
    assert site.figure_output(output, tmp_path, "x") is None


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
            "[the README](../README.md), [checks](../snn_helpers/course/exercises/), [web](https://x.org/a), [up](#top)")
    assert site.local_links(text) == (
        "see [01](01_spike_encoding.ipynb), [02](02_x.ipynb), ![f](img/a.png), [the README](index.md), "
        "checks (`snn_helpers/course/exercises/` in the repository), [web](https://x.org/a), [up](#top)")


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

    def fake_npm_pack(spec, workdir):
        (workdir / "mathjax.tgz").write_bytes(b"not MathJax")
        return workdir / "mathjax.tgz"

    monkeypatch.setattr(site, "npm_pack", fake_npm_pack)
    with pytest.raises(site.SiteError, match="mathjax 3.2.2 tarball does not match its sha256"):
        site.ensure_mathjax(verbose=False)
    with pytest.raises(site.SiteError, match="axe-core 4.14.1 tarball does not match its sha256"):
        site.ensure_axe(verbose=False)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_npm_fetch_says_what_to_run(tmp_path, monkeypatch):
    monkeypatch.setattr(site, "vendor_dir", lambda: tmp_path)
    monkeypatch.setattr(site.shutil, "which", lambda name: None)  # no npm
    with pytest.raises(site.SiteError, match=r"could not fetch axe-core 4.14.1 \(OSError: npm is not on PATH\).*make vendor"):
        site.ensure_axe(verbose=False)
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
def built(executed_notebooks, tmp_path_factory):
    """The site built offline from every notebook executed in quick mode with pre-rendering (nbval's run
    of this session where there was one: tests/conftest.py)."""
    tmp = tmp_path_factory.mktemp("site")
    try:
        site.ensure_mathjax()  # the set-up's fetch (make test does it first); the build itself is offline
    except site.SiteError as err:
        pytest.skip(f"no MathJax copy and none could be fetched: {err}")
    prefix, env = network_blocker(tmp)
    start = time.perf_counter()
    result = subprocess.run([*prefix, sys.executable, "-m", "snn_helpers", "site", "--executed",
                             str(executed_notebooks), "--out", str(tmp / "site")],
                            capture_output=True, text=True, cwd=PROJECT_ROOT, env=env)
    seconds = time.perf_counter() - start
    assert result.returncode == 0, result.stdout + result.stderr
    print(f"site built offline in {seconds:.1f} s: {result.stdout.strip()}")
    return executed_notebooks, tmp / "site", result


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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

    def __init__(self, browser, path: Path, reduced_motion: str = "no-preference"):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, reduced_motion=reduced_motion)
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


@pytest.mark.slow
def test_home_page_in_chromium(built, browser):
    _, out, _ = built
    page = check_page(browser, out / "index.html", SHOTS / "home.png")
    try:
        links = page.page.locator("main a.reference.internal").evaluate_all("links => links.map(a => a.href)")
        for path in notebook_paths():
            assert any(link.endswith(f"/{path.stem}.html") for link in links), f"no link to {path.stem}"
        srcs = page.page.evaluate(IMAGES_JS)
        assert any(".gif?play=" in image["src"] for image in srcs), "the README's GIFs are missing"
    finally:
        page.context.close()


@pytest.mark.slow
@pytest.mark.parametrize("stem", [path.stem for path in notebook_paths()])
def test_notebook_page_in_chromium(built, browser, stem):
    """Each page: no failed request, math typeset, every image sized, its GIFs there, and each
    pre-rendered slider showing, for every value, the figure and line the notebook computed."""
    executed, out, _ = built
    page = check_page(browser, out / f"{stem}.html", SHOTS / f"{stem}.png")
    try:
        gifs = page.page.locator("main .snn-animation img[src*='.gif?play=']").count()
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


@pytest.mark.slow
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


# ---------------------------------------------------------------- accessibility (WCAG 2.1 AA)


AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]  # the WCAG 2.0 and 2.1 rules of levels A and AA
AXE_RUN_JS = "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})"
# What a text alternative must not be: a file name or path, or nbconvert's placeholder for a missing one.
NOT_A_DESCRIPTION = re.compile(r"(^|/)[\w.-]+\.(png|gif|jpe?g|svg|webp)$|^_images/|^No description has been",
                               re.I)


def is_a_sentence(alt: str) -> bool:
    """A figure's text alternative says in a sentence (or more) what it shows: not a file name, not a
    label such as ``num_steps = 1``, but eight words or more ending with a full stop."""
    return not NOT_A_DESCRIPTION.search(alt) and len(alt.split()) >= 8 and alt.rstrip().endswith(".")


@pytest.fixture(scope="module")
def axe_script():
    try:
        return site.ensure_axe()  # fetched by make test (make vendor), like MathJax
    except site.SiteError as err:
        pytest.skip(f"no axe-core copy and none could be fetched: {err}")


def site_pages(out: Path) -> list[Path]:
    """Every HTML page Sphinx wrote, the search page and the index included."""
    return sorted(out.glob("*.html"))


@pytest.mark.slow
def test_no_page_has_a_serious_or_critical_axe_violation(built, browser, axe_script):
    """axe-core's WCAG 2.0/2.1 A and AA rules on every page (after its scripts ran, math typeset)."""
    _, out, _ = built
    failures, found = [], {}
    for path in site_pages(out):
        page = OfflinePage(browser, path)
        try:
            page.page.evaluate(MATH_TYPESET_JS)
            page.page.add_script_tag(path=str(axe_script))
            result = page.page.evaluate(AXE_RUN_JS, AXE_TAGS)
        finally:
            page.context.close()
        for violation in result["violations"]:
            key = f"{violation['id']} ({violation['impact']})"
            found[key] = found.get(key, 0) + 1
            if violation["impact"] in ("serious", "critical"):
                failures.append(f"{path.name}: {key}, {len(violation['nodes'])} element(s): {violation['help']}; "
                                + "; ".join(node["html"][:160] for node in violation["nodes"][:3]))
    print(f"axe-core {site.AXE_VERSION} over {len(site_pages(out))} pages, pages with each violation: {found or 'none'}")
    assert not failures, "serious or critical axe-core violations:\n" + "\n".join(failures)


def image_outputs(notebook) -> list[tuple[str, dict]]:
    """``(cell id, output)`` for every output of ``notebook`` that holds an image."""
    return [(cell.get("id"), output) for cell in notebook.cells if cell.cell_type == "code"
            for output in cell.outputs if any(mime.startswith("image/") for mime in output.get("data", {}))]


@pytest.mark.slow
def test_every_image_in_the_executed_notebooks_has_a_text_alternative(built):
    """In the outputs (the ``<img>`` JupyterLab, nbconvert and the site show, and the image's metadata),
    in nbconvert's HTML of each notebook, and in every pre-rendered slider frame."""
    from bs4 import BeautifulSoup
    from nbconvert import HTMLExporter

    executed, _, _ = built
    missing, images = [], 0
    for path in notebook_paths():
        notebook = nbformat.read(executed / path.name, as_version=4)
        for cell, output in image_outputs(notebook):
            images += 1
            mime = next(mime for mime in output["data"] if mime.startswith("image/"))
            alt = output.get("metadata", {}).get(mime, {}).get("alt", "")
            shown = re.findall(r'<img [^>]*alt="([^"]*)"', output["data"].get("text/html", ""))
            if not is_a_sentence(alt) or len(shown) != 1 or not is_a_sentence(html.unescape(shown[0])):
                missing.append(f"{path.stem} cell {cell}: {mime} output, alt {alt!r}, <img> alts {shown}")
        for payload in slider_payloads(executed, path.stem):
            for frame in payload["frames"]:
                images += 1
                if not is_a_sentence(frame.get("alt", "")):
                    missing.append(f"{path.stem}: slider {payload['name']} = {frame['value']}: alt {frame.get('alt')!r}")
        page, _ = HTMLExporter().from_notebook_node(notebook)
        for tag in BeautifulSoup(page, "html.parser").find_all("img"):  # not the widgets' state (JSON)
            if not is_a_sentence(tag.get("alt", "")):
                missing.append(f"{path.stem}: nbconvert's HTML has an <img> with alt {tag.get('alt')!r}")
    assert images >= 20 and not missing, f"{len(missing)} of {images} images lack a text alternative:\n" + "\n".join(missing)


PAGE_IMAGES_JS = """() => [...document.querySelectorAll('img')].map(i => ({src: i.getAttribute('src'),
    alt: i.getAttribute('alt'), hidden: i.closest('[hidden]') !== null}))"""


@pytest.mark.slow
def test_every_image_on_every_page_has_a_text_alternative(built, browser):
    """Every ``<img>`` of every page: the notebooks' figures and slider frames with their sentence, the
    README's figures on the home page with their short alt beside a caption; none a file name."""
    _, out, _ = built
    missing, images = [], 0
    for path in site_pages(out):
        page = OfflinePage(browser, path)
        try:
            for image in page.page.evaluate(PAGE_IMAGES_JS):
                images += 1
                alt = (image["alt"] or "").strip()
                if not alt or NOT_A_DESCRIPTION.search(alt) or (path.name != "index.html" and not is_a_sentence(alt)):
                    missing.append(f"{path.name}: {image['src']} has alt {image['alt']!r}")
        finally:
            page.context.close()
    assert images >= 30 and not missing, f"{len(missing)} of {images} images lack a text alternative:\n" + "\n".join(missing)


def pages_with_gifs(executed: Path) -> list[str]:
    """The pages that show GIFs: the home page (the README's) and the notebooks that made some."""
    return ["index"] + [path.stem for path in notebook_paths() if gif_outputs(executed, path.stem)]


@pytest.mark.slow
def test_every_animation_can_be_stopped_and_played_again(built, browser):
    executed, out, _ = built
    stems = pages_with_gifs(executed)
    assert len(stems) >= 3, stems
    for stem in stems:
        page = OfflinePage(browser, out / f"{stem}.html")
        try:
            animations = page.page.locator("main .snn-animation")
            assert animations.count() >= 1, f"{stem}: no animation"
            for k in range(animations.count()):
                image, button = animations.nth(k).locator("img"), animations.nth(k).locator("button")
                gif = image.get_attribute("src").split("?")[0]
                assert gif.endswith(".gif") and button.inner_text() == "Stop animation"
                button.focus()
                page.page.keyboard.press("Enter")  # from the keyboard
                assert image.get_attribute("src") == gif.removesuffix(".gif") + "-still.png"
                assert button.inner_text() == "Play animation"
                page.page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
                if k == 0:
                    animations.nth(k).screenshot(path=SHOTS / f"{stem}-animation-stopped.png")
                button.click()
                assert image.get_attribute("src").startswith(gif + "?play=") and button.inner_text() == "Stop animation"
                page.page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
            assert not page.problems, "\n".join(page.problems)
        finally:
            page.context.close()


@pytest.mark.slow
def test_reduced_motion_shows_still_frames_first(built, browser):
    executed, out, _ = built
    for stem in pages_with_gifs(executed):
        page = OfflinePage(browser, out / f"{stem}.html", reduced_motion="reduce")
        try:
            sources = page.page.locator("main .snn-animation img").evaluate_all("imgs => imgs.map(i => i.src)")
            assert sources and all(src.endswith("-still.png") for src in sources), f"{stem}: {sources}"
            page.page.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth)")
            assert page.page.locator("main .snn-animation button").first.inner_text() == "Play animation"
            if stem == "index":
                page.page.screenshot(path=SHOTS / "home-reduced-motion.png", full_page=True)
            assert not page.problems, "\n".join(page.problems)
        finally:
            page.context.close()


@pytest.mark.slow
def test_sliders_work_from_the_keyboard(built, browser):
    """Tab-focusable, the arrow keys step through the values; the value is spoken (aria-valuetext),
    the printed line is announced (live region), and each frame's image has its own description."""
    executed, out, _ = built
    checked = 0
    for path in notebook_paths():
        payloads = slider_payloads(executed, path.stem)
        if not payloads:
            continue
        page = OfflinePage(browser, out / f"{path.stem}.html")
        try:
            for k, payload in enumerate(payloads):
                panel = page.page.locator(".snn-slider").nth(k)
                slider = panel.locator("input[type=range]")
                assert slider.evaluate("input => input.labels[0].textContent") == payload["name"]
                slider.focus()
                page.page.keyboard.press("Home")
                for i, frame in enumerate(payload["frames"]):
                    if i:
                        page.page.keyboard.press("ArrowRight")
                    assert slider.get_attribute("aria-valuetext") == f"{frame['value']:g}"
                    visible = panel.locator(".snn-slider-frame:not([hidden])")
                    assert visible.locator("img").get_attribute("alt") == frame["alt"]
                    if i:
                        assert panel.locator("[aria-live=polite]").inner_text() == frame["text"]
                checked += 1
            page.page.keyboard.press("End")
            assert page.page.evaluate("document.activeElement.type") == "range"
        finally:
            page.context.close()
    assert checked == 4
