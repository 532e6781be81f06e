"""What the DICE-Talk tests share: the parity fixture's place, and running a check script in
the isolated ``dice`` environment (built once, cached by its spec's hash), which prints one
``REPORT {json}`` line."""

from __future__ import annotations

import atexit
import functools
import json
import os
import select
import subprocess
import tempfile
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


WORKER = r"""
import contextlib, io, json, os, sys, traceback
import torch
reply = sys.stdout
for line in sys.stdin:
    job = json.loads(line)
    out, err, rc = io.StringIO(), io.StringIO(), 0
    sys.argv = ["-c", *job["args"]]
    torch.set_num_threads(job["threads"] or os.cpu_count() or 1)
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            exec(compile(job["script"], "<dice check>", "exec"), {"__name__": "__main__"})
        except SystemExit as exc:
            rc = exc.code if isinstance(exc.code, int) else 0
        except BaseException:
            rc = 1
            traceback.print_exc()
    reply.write(json.dumps({"rc": rc, "stdout": out.getvalue(), "stderr": err.getvalue()}) + "\n")
    reply.flush()
"""


class DiceWorker:
    """One python in the dice env for the whole test session: each check script runs in it
    with fresh globals, so torch, diffusers and transformers are imported once, not per check
    (about 6 s each). Scripts seed and set their own state, as in a fresh process."""

    def __init__(self, python: Path) -> None:
        env = {**envs.clean_env_vars(), "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
        self.log = tempfile.TemporaryFile()  # noqa: SIM115  (open as long as the worker)
        self.proc = subprocess.Popen(
            [str(python), "-c", WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self.log, env=env, cwd=ROOT, text=True,
        )  # fmt: skip
        atexit.register(self.close)

    def run(self, script: str, args: tuple[str, ...], threads: int | None, timeout: int) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        job = {"script": script, "args": list(args), "threads": threads}
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            self.close()
            raise TimeoutError(f"a dice check ran past {timeout} s")
        line = self.proc.stdout.readline()
        if not line:
            self.log.seek(0)
            raise RuntimeError("the dice worker died: " + self.log.read()[-4000:].decode())
        return json.loads(line)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@functools.cache
def dice_worker() -> DiceWorker:
    try:
        python = envs.ensure_env(envs.spec("dice"))
    except envs.EnvBuildError as exc:
        if exc.network:
            pytest.skip(f"dice env not built: the package index is unreachable ({exc})")
        raise
    return DiceWorker(python)


def run_in_dice_env(
    script: str, *args: str, threads: int | None = 1, timeout: int = 300
) -> tuple[dict[str, Any], str]:
    """Run ``script`` with ``args`` in the dice env (in the session's worker); its report and
    its whole stdout."""
    worker = dice_worker()
    if worker.proc.poll() is not None:  # killed by an earlier timeout: a fresh one
        dice_worker.cache_clear()
        worker = dice_worker()
    done = worker.run(script, args, threads, timeout)
    assert done["rc"] == 0, done["stderr"][-4000:]
    line = next(ln for ln in done["stdout"].splitlines() if ln.startswith("REPORT "))
    return dict(json.loads(line[len("REPORT ") :])), str(done["stdout"])
