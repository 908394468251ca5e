"""Screenshots of `kedro viz run` and `mlflow ui` for the README, taken with headless Chromium.

Starts both servers on 127.0.0.1, waits until they answer, loads the pages in Debian's `chromium`
(`apt-get install chromium`) driven by Playwright (`pip install -e ".[screenshots]"`; it uses that
browser, it downloads none), closes first-visit banners, saves PNGs under docs/img/ and stops the
servers. Run it from the project root after `make distill` (`make screenshots`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import mlflow

if TYPE_CHECKING:
    from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


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


def dismiss(page: Page, *names: str) -> None:
    """Close first-visit banners and tours that would cover the picture (whichever are shown)."""
    for name in names:
        button = page.get_by_role("button", name=name)
        if button.count():
            button.first.click()
            page.wait_for_timeout(500)


def shoot_viz(page: Page, url: str, target: Path) -> None:
    # kedro-viz keeps its settings in localStorage["KedroViz"]: no first-visit tour of new features
    page.add_init_script("localStorage.setItem('KedroViz', JSON.stringify({showFeatureHints: false}))")
    page.goto(url, wait_until="load")
    page.wait_for_timeout(4000)
    dismiss(page, "Dismiss")
    page.wait_for_timeout(1000)
    page.screenshot(path=str(target))


def shoot_mlflow(page: Page, url: str, target: Path) -> None:
    page.goto(url, wait_until="load")
    page.wait_for_timeout(8000)  # the run table fills in after the page loads
    dismiss(page, "Got it", "Close")
    page.wait_for_timeout(1500)
    page.screenshot(path=str(target))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    parser.add_argument("--viz-port", type=int, default=4141)
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
    experiment = mlflow.MlflowClient(tracking_uri=tracking).get_experiment_by_name("text_distill")
    if experiment is None:
        sys.exit("Error: no text_distill experiment in mlflow.db: run `make distill` first")
    viz = f"http://127.0.0.1:{args.viz_port}"
    ui = f"http://127.0.0.1:{args.mlflow_port}"
    with ExitStack() as stack:
        serve(
            stack,
            [
                str(BIN / "kedro"),
                "viz",
                "run",
                "--host",
                "127.0.0.1",
                "--port",
                str(args.viz_port),
                "--no-browser",
            ],
            viz,
            300,
        )
        serve(
            stack,
            [
                str(BIN / "mlflow"),
                "ui",
                "--backend-store-uri",
                tracking,
                "--host",
                "127.0.0.1",
                "--port",
                str(args.mlflow_port),
            ],
            ui,
            180,
        )
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=browser, args=["--no-sandbox"])
            page = chromium.new_page(viewport={"width": 1600, "height": 1000})
            shoot_viz(page, f"{viz}/?pipeline_id=distill", args.out / "kedro-viz-distill.png")
            runs = f"{ui}/#/experiments/{experiment.experiment_id}/runs"
            shoot_mlflow(page, runs, args.out / "mlflow-runs.png")
            chromium.close()
    for name in ("kedro-viz-distill.png", "mlflow-runs.png"):
        print(f"saved docs/img/{name} ({(args.out / name).stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
