"""What the DICE-Talk tests share: the parity fixture's place, and running a check script in
the isolated ``dice`` environment (built once, cached by its spec's hash), which prints one
``REPORT {json}`` line."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pipelines import envs

ROOT = Path(__file__).resolve().parents[3]
FIXTURE = Path(
    os.environ.get(
        "DICE_TINY_FIXTURE", ROOT.parent / "shared" / "fixtures" / "dice_tiny" / "ref.pt"
    )
)


def need_fixture() -> None:
    if not FIXTURE.exists():
        pytest.skip(f"DICE-Talk parity fixture not found at {FIXTURE} (set DICE_TINY_FIXTURE)")


def run_in_dice_env(
    script: str, *args: str, threads: int | None = 1, timeout: int = 300
) -> tuple[dict[str, Any], str]:
    """Run ``script`` with ``args`` in the dice env; its report and its whole stdout."""
    try:
        python = envs.ensure_env(envs.spec("dice"))
    except envs.EnvBuildError as exc:
        if exc.network:
            pytest.skip(f"dice env not built: the package index is unreachable ({exc})")
        raise
    env = {**envs.clean_env_vars(), "PYTHONPATH": str(ROOT)}
    if threads is not None:
        env["OMP_NUM_THREADS"] = str(threads)
    proc = subprocess.run(
        [str(python), "-c", script, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("REPORT "))
    return dict(json.loads(line[len("REPORT ") :])), proc.stdout
