"""The README's three pictures, taken with headless Chromium: the ``distill`` graph in kedro viz with
each stage collapsed into one box, the ``teacher`` stage expanded, and MLflow comparing the last two
``distill`` runs (two recipes: their parameters and metrics side by side, differences only).

Starts ``kedro viz run`` and ``mlflow ui`` on 127.0.0.1, waits until they answer, loads the pages in
Debian's ``chromium`` (``apt-get install chromium``) driven by Playwright (``pip install -e
".[screenshots]"``; it uses that browser, it downloads none), closes first-visit banners and side
panels, saves PNGs under docs/img/ and stops the servers. Run it from the project root after two
``distill`` runs with different recipes, e.g. the README's (from the smoke slice, minutes each):

    .venv/bin/kedro run --pipeline distill --env smoke
    .venv/bin/kedro run --pipeline distill --env smoke --params recipe=hinton
    make screenshots
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import mlflow

if TYPE_CHECKING:
    from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# kedro-viz keeps its settings in localStorage["KedroViz"]: no tour of new features, the light theme,
# the graph alone (no sidebar, no minimap)
VIZ_SETTINGS = {"showFeatureHints": False, "theme": "light", "visible": {"sidebar": False, "miniMap": False}}
# the graph is fitted to the page's height, then cropped to its nodes: a tall page keeps the collapsed
# chain's labels legible (64% zoom); an expanded stage fits 1600x1000 with room to spare
COLLAPSED_PAGE = {"width": 2400, "height": 1800}
STAGE_PAGE = {"width": 1600, "height": 1000}
EXPANDED_STAGE = "teacher"
MLFLOW_PAGE = {"width": 1600, "height": 1400}
MLFLOW_WIDTH = 1060  # the tables' right edge on that page: no blank half
FIRST_METRIC = "student_accuracy"
PAGE_TO_TOP = """() => {
    for (let e = document.querySelector('h2'); e; e = e.parentElement) e.scrollTop = 0;
}"""
# MLflow's metric table renders the rows in view only, its names and values in two grids; a wheel over
# the values scrolls them alone: this aligns the names with them and says how far down the row named
# ``name`` is (null: not rendered yet)
ALIGN_NAMES = """name => {
    const grids = [...document.querySelectorAll('.ReactVirtualized__Grid')];
    const [names, values] = grids.filter(grid => grid.scrollHeight > grid.clientHeight);
    names.scrollTop = values.scrollTop;
    const cells = [...names.querySelectorAll('.ReactVirtualized__Grid__innerScrollContainer > *')];
    const cell = cells.find(cell => cell.textContent === name);
    return cell ? parseFloat(cell.style.top) - values.scrollTop : null;
}"""
GRAPH_BOX = """() => {
    const boxes = [...document.querySelectorAll('.pipeline-node')].map(node => node.getBoundingClientRect());
    return {x0: Math.min(...boxes.map(b => b.left)), y0: Math.min(...boxes.map(b => b.top)),
            x1: Math.max(...boxes.map(b => b.right)), y1: Math.max(...boxes.map(b => b.bottom))};
}"""


def wait_for(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer within {seconds:.0f} s")
        time.sleep(1)


def serve(stack: ExitStack, command: list[str], url: str, seconds: float) -> None:
    log = open(ROOT / "data" / f"{Path(command[0]).name}-screenshot-server.log", "w")  # noqa: SIM115
    stack.callback(log.close)
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    stack.callback(lambda: (os.killpg(process.pid, 15), process.wait(timeout=30)))
    wait_for(url, seconds)


def click(page: Page, *names: str) -> None:
    """Click each named button that is shown (first-visit banners, panels, section toggles)."""
    for name in names:
        button = page.get_by_role("button", name=name, exact=True)
        if button.count():
            button.first.click()
            page.wait_for_timeout(500)


def shoot_viz(page: Page, url: str, target: Path, size: dict[str, int]) -> None:
    """The graph at ``url`` fitted to a page of ``size``, cropped to its nodes and a margin."""
    page.set_viewport_size(size)
    page.goto(url, wait_until="load")
    page.wait_for_timeout(5000)
    click(page, "Dismiss", "Reset zoom")
    page.mouse.move(size["width"] - 5, 5)  # no tooltip over the graph
    page.wait_for_timeout(1500)
    box = page.evaluate(GRAPH_BOX)
    margin = 24
    x, y = max(0, box["x0"] - margin), max(0, box["y0"] - margin)
    right, bottom = min(size["width"], box["x1"] + margin), min(size["height"], box["y1"] + margin)
    page.screenshot(path=str(target), clip={"x": x, "y": y, "width": right - x, "height": bottom - y})


def shoot_mlflow(page: Page, url: str, target: Path) -> None:
    """MLflow's run comparison: the parameters that differ (the recipe) and the metrics that differ,
    their table scrolled to ``FIRST_METRIC``."""
    page.set_viewport_size(MLFLOW_PAGE)
    page.goto(url, wait_until="load")
    page.wait_for_timeout(8000)  # the tables fill in after the page loads
    click(page, "Got it", "Close", "Toggle sidebar")  # banners, the assistant's panel, the navigation
    for section in ("Visualizations", "Artifacts", "Tags"):
        page.locator(f'[aria-label="collapse {section}"]').first.click()
    for table in ("Parameters", "Metrics"):
        page.get_by_role("switch", name=f"{table} - Show diff only").click()
    page.wait_for_timeout(1000)
    values = page.locator(".ReactVirtualized__Grid").last.bounding_box()
    page.mouse.move(values["x"] + values["width"] / 2, values["y"] + values["height"] / 2)
    for _ in range(100):  # scroll as a reader would until the row is at the top of the table
        below = page.evaluate(ALIGN_NAMES, FIRST_METRIC)
        if below == 0:
            break
        page.mouse.wheel(0, below or 90)
        page.wait_for_timeout(300)
    page.mouse.move(MLFLOW_PAGE["width"] - 5, 5)
    page.evaluate(PAGE_TO_TOP)  # the wheel may have scrolled the page too
    page.wait_for_timeout(1000)
    page.screenshot(
        path=str(target), clip={"x": 0, "y": 0, "width": MLFLOW_WIDTH, "height": MLFLOW_PAGE["height"]}
    )


def recipe_runs(tracking: str) -> tuple[str, list[str]]:
    """The experiment and its last two finished top-level ``distill`` runs, oldest first."""
    client = mlflow.MlflowClient(tracking_uri=tracking)
    experiment = client.get_experiment_by_name("text_distill")
    if experiment is None:
        sys.exit("Error: no text_distill experiment in mlflow.db: run `make distill` first")
    runs = client.search_runs(
        [experiment.experiment_id],
        "attributes.status = 'FINISHED' and attributes.run_name = 'distill'",
        order_by=["attributes.start_time DESC"],
    )
    last = [run.info.run_id for run in runs if "mlflow.parentRunId" not in run.data.tags][:2]
    if len(last) < 2:
        sys.exit("Error: fewer than two finished distill runs in mlflow.db: run two recipes first")
    return experiment.experiment_id, last[::-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    parser.add_argument("--viz-port", type=int, default=4141)
    parser.add_argument("--mlflow-port", type=int, default=5055)
    parser.add_argument(
        "--only", nargs="+", choices=("distill", "stage", "mlflow"), help="retake these pictures only"
    )
    args = parser.parse_args()
    only = set(args.only or ("distill", "stage", "mlflow"))
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        sys.exit("Error: no chromium on PATH: `apt-get install chromium`")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sys.exit('Error: no playwright: `.venv/bin/pip install -e ".[screenshots]"`')
    args.out.mkdir(parents=True, exist_ok=True)
    tracking = f"sqlite:///{ROOT / 'mlflow.db'}"
    experiment_id, run_ids = recipe_runs(tracking) if "mlflow" in only else ("", [])
    viz = f"http://127.0.0.1:{args.viz_port}"
    ui = f"http://127.0.0.1:{args.mlflow_port}"
    compare = urllib.parse.urlencode(
        {"runs": json.dumps(run_ids), "experiments": json.dumps([experiment_id])}
    )
    shots = {
        "kedro-viz-distill.png": f"{viz}/?pid=distill",
        f"kedro-viz-{EXPANDED_STAGE}.png": f"{viz}/?pid=distill&fid={EXPANDED_STAGE}&expandAllPipelines=true",
        "mlflow-compare-recipes.png": f"{ui}/#/compare-runs?{compare}",
    }
    with ExitStack() as stack:
        viz_server = [str(BIN / "kedro"), "viz", "run", "--host", "127.0.0.1", "--port", str(args.viz_port)]
        serve(stack, [*viz_server, "--no-browser"], viz, 300)
        ui_server = [str(BIN / "mlflow"), "ui", "--backend-store-uri", tracking, "--host", "127.0.0.1"]
        serve(stack, [*ui_server, "--port", str(args.mlflow_port)], ui, 180)
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=browser, args=["--no-sandbox"])
            page = chromium.new_page()
            page.add_init_script(f"localStorage.setItem('KedroViz', {json.dumps(json.dumps(VIZ_SETTINGS))})")
            names = dict(zip(("distill", "stage", "mlflow"), shots, strict=True))
            if "distill" in only:
                shoot_viz(page, shots[names["distill"]], args.out / names["distill"], COLLAPSED_PAGE)
            if "stage" in only:
                shoot_viz(page, shots[names["stage"]], args.out / names["stage"], STAGE_PAGE)
            if "mlflow" in only:
                shoot_mlflow(page, shots[names["mlflow"]], args.out / names["mlflow"])
            chromium.close()
    for key in sorted(only):
        print(f"saved {args.out / names[key]} ({(args.out / names[key]).stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
