"""Seconds from `python launch.py serve` to a UI that answers HTTP, on an empty data dir.

.venv/bin/python benchmarks/startup.py [--runs 3]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def one_run() -> float:
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "launch.py"),
                "serve",
                "--port",
                str(port),
                "--data-dir",
                data,
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as r:
                        if r.status == 200:
                            return time.perf_counter() - t0
                except OSError:
                    if proc.poll() is not None:
                        raise SystemExit("the studio exited during start-up") from None
                    time.sleep(0.05)
        finally:
            proc.terminate()
            proc.wait(10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=3)
    runs = [one_run() for _ in range(ap.parse_args().runs)]
    print(
        f"UI ready after launch: median {statistics.median(runs):.2f} s "
        f"(runs: {', '.join(f'{r:.2f}' for r in runs)})"
    )


if __name__ == "__main__":
    main()
