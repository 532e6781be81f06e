"""Start the real studio (``launch.py serve``) in a subprocess for tests, and run CLI commands."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningStudio:
    url: str
    data: Path
    output: list[str]
    """Everything the server printed before it was ready."""


@contextmanager
def running_studio(
    data: Path, *args: str, env: Mapping[str, str] | None = None, timeout: float = 180.0
) -> Iterator[RunningStudio]:
    """A studio serving ``data`` on a free port until the block ends."""
    port = free_port()
    cmd = [sys.executable, str(ROOT / "launch.py"), "serve", "--port", str(port)]
    proc = subprocess.Popen(
        [*cmd, "--data-dir", str(data), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
    )
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    for line in proc.stdout:
        lines.append(line)
        if "ready at" in line:
            break
        if time.monotonic() > deadline:
            break
    else:
        proc.wait(5)
    if not lines or "ready at" not in lines[-1]:
        proc.kill()
        raise RuntimeError("studio did not start:\n" + "".join(lines))
    try:
        yield RunningStudio(f"http://127.0.0.1:{port}/", data, lines)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def cli(
    data: Path, *args: str, env: Mapping[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """``launch.py ARGS --data-dir DATA`` in a fresh process."""
    out = subprocess.run(
        [sys.executable, str(ROOT / "launch.py"), *args, "--data-dir", str(data)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )
    if check:
        assert out.returncode == 0, out.stderr
    return out


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
"""Debian's Chromium, offline: without the background-networking flags it keeps trying (and
failing) to reach Google's hosts."""


def require_chromium() -> None:
    """Skip (or, where the suite demands the browser, fail) without Debian's Chromium."""
    import pytest

    if CHROMIUM.exists():
        return
    if os.environ.get("AFFECT_STUDIO_REQUIRE_BROWSER"):
        pytest.fail("Chromium is missing: `apt-get install chromium` (launch.py test does it).")
    pytest.skip("Debian's chromium is not installed")


def keep_screenshot(shot: Path) -> None:
    """A screenshot must show something; copy it to $AFFECT_STUDIO_SCREENSHOTS to look at."""
    import shutil

    assert shot.stat().st_size > 10_000, shot
    if keep := os.environ.get("AFFECT_STUDIO_SCREENSHOTS"):
        shutil.copy(shot, Path(keep) / shot.name)
