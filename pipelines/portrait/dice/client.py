"""The studio's end of the DICE-Talk worker's pipe (main environment): starts
:mod:`pipelines.portrait.dice.worker` with the ``dice`` env's python (the protocol is
:mod:`pipelines.worker_pipe`'s, with progress events per window)."""

from __future__ import annotations

from pathlib import Path

from pipelines import envs
from pipelines.worker_pipe import WorkerPipe

ROOT = Path(__file__).resolve().parents[3]


class WorkerClient(WorkerPipe):
    """The DICE-Talk worker process and its pipe; one request at a time."""

    def __init__(self, python: Path, *, threads: int) -> None:
        env = {**envs.clean_env_vars(), "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        if threads:
            env["OMP_NUM_THREADS"] = str(threads)
        super().__init__(
            [str(python), "-m", "pipelines.portrait.dice.worker"],
            label="DICE-Talk",
            install_command=envs.spec("dice").install_command,
            env=env,
            cwd=ROOT,
        )
