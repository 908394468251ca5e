"""Screenshots of `kedro viz run` and `mlflow ui` for the README, taken with headless Chromium.

Starts both servers on 127.0.0.1, waits until they answer, loads pages in Debian's `chromium`
(`apt-get install chromium`), saves PNGs under docs/img/ and stops the servers. Run it from the
project root after `make distill` (it shows what the MLflow store and the data folder hold):

    .venv/bin/python scripts/screenshots.py
"""

import argparse
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

import mlflow

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


def screenshot(browser: str, url: str, target: Path, size: str, settle_ms: int) -> None:
    subprocess.run(
        [
            browser,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--window-size={size}",
            f"--virtual-time-budget={settle_ms}",
            f"--screenshot={target}",
            url,
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    if not target.exists() or target.stat().st_size < 10_000:
        raise RuntimeError(f"{target} is missing or blank")
    print(f"saved {target.relative_to(ROOT)} ({target.stat().st_size:,} bytes) from {url}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    parser.add_argument("--viz-port", type=int, default=4141)
    parser.add_argument("--mlflow-port", type=int, default=5055)
    args = parser.parse_args()
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        sys.exit("Error: no chromium on PATH: `apt-get install chromium`")
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
        screenshot(
            browser, f"{viz}/?pipeline_id=distill", args.out / "kedro-viz-distill.png", "1800,1100", 30000
        )
        screenshot(
            browser,
            f"{ui}/#/experiments/{experiment.experiment_id}",
            args.out / "mlflow-runs.png",
            "1800,1000",
            30000,
        )


if __name__ == "__main__":
    main()
