"""The README's MLflow picture, taken with headless Chromium: MLflow comparing the last two
``distill`` runs (two recipes: their parameters and metrics side by side, differences only). The
pipeline graphs are drawn from the code instead, by scripts/pipeline_pictures.py (no browser).

Starts ``mlflow ui`` on 127.0.0.1, waits until it answers, loads the page in Debian's ``chromium``
(``apt-get install chromium``) driven by Playwright (``pip install -e ".[screenshots]"``; it uses
that browser, it downloads none), closes first-visit banners and side panels, saves a PNG under
docs/img/ and stops the server. Run it from the project root after two ``distill`` runs with
different recipes, e.g. the README's (from the smoke slice, minutes each):

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
    parser.add_argument("--mlflow-port", type=int, default=5055)
    args = parser.parse_args()
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        sys.exit("Error: no chromium on PATH: `apt-get install chromium`")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sys.exit('Error: no playwright: `.venv/bin/pip install -e ".[screenshots]"`')
    args.out.mkdir(parents=True, exist_ok=True)
    tracking = f"sqlite:///{ROOT / 'mlflow.db'}"
    experiment_id, run_ids = recipe_runs(tracking)
    ui = f"http://127.0.0.1:{args.mlflow_port}"
    compare = urllib.parse.urlencode(
        {"runs": json.dumps(run_ids), "experiments": json.dumps([experiment_id])}
    )
    target = args.out / "mlflow-compare-recipes.png"
    with ExitStack() as stack:
        ui_server = [str(BIN / "mlflow"), "ui", "--backend-store-uri", tracking, "--host", "127.0.0.1"]
        serve(stack, [*ui_server, "--port", str(args.mlflow_port)], ui, 180)
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=browser, args=["--no-sandbox"])
            shoot_mlflow(chromium.new_page(), f"{ui}/#/compare-runs?{compare}", target)
            chromium.close()
    print(f"saved {target} ({target.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
