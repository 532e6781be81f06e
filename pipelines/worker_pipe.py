"""The studio's end of a backend worker's pipe: a process in an isolated environment (see
:mod:`pipelines.envs`) that reads one JSON request per line on stdin and answers on stdout.

Protocol (version 1): the worker first writes a hello ``{"protocol": 1, …}``; each request
``{"id", "op", …}`` gets zero or more events ``{"id", "event", …}`` and then one reply
``{"id", "ok", …}`` (``"type"`` and ``"error"`` when not ok). A ``progress`` event is answered
with ``{"id", "op": "continue"|"cancel"}``. ``{"op": "quit"}`` ends the worker. The worker's
stderr is kept for error messages. Parler-TTS and DICE-Talk speak it.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

from pipelines.base import Cancelled, PipelineError

PROTOCOL = 1


class WorkerPipe:
    """A worker process and its pipe; one request at a time (the lock)."""

    def __init__(
        self,
        command: list[str],
        *,
        label: str,
        install_command: str,
        env: Mapping[str, str],
        cwd: Path | None = None,
    ) -> None:
        self.label = label
        self._log: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115  (closed in close())
        self._lock = threading.Lock()
        self._next = 0
        try:
            self.proc = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._log,
                env=dict(env),
                cwd=cwd,
                text=True,
                encoding="utf-8",
            )
        except OSError as exc:
            self._log.close()
            raise PipelineError(
                f"Could not start the {label} worker with {command[0]} ({exc}). Run "
                f"`{install_command}` to build its environment."
            ) from exc
        try:
            hello = self._read()
        except (PipelineError, ValueError) as exc:
            self.close()
            raise PipelineError(f"The {label} worker did not start: {exc}") from exc
        if hello.get("protocol") != PROTOCOL:
            self.close()
            raise PipelineError(f"The {label} worker speaks another protocol: {hello}")

    def _stderr_tail(self) -> str:
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")[-1500:]

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(timeout=10)
            raise PipelineError(
                f"The {self.label} worker stopped (exit {self.proc.returncode}). Its last "
                f"output:\n{self._stderr_tail()}"
            )
        message: dict[str, Any] = json.loads(line)
        return message

    def _send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(message) + "\n")
            self.proc.stdin.flush()
        except OSError as exc:  # the worker died
            raise PipelineError(
                f"The {self.label} worker stopped: {exc}\n{self._stderr_tail()}"
            ) from exc

    def call(
        self, op: str, on_event: Callable[[dict[str, Any]], bool] | None = None, **args: Any
    ) -> dict[str, Any]:
        """One request; ``on_event`` gets its events (False or an exception from a progress
        event cancels the request; the exception is raised once the worker has answered)."""
        failure: BaseException | None = None
        with self._lock:
            if self.proc.poll() is not None:
                raise PipelineError(
                    f"The {self.label} worker is not running: load the backend again."
                )
            self._next += 1
            rid = self._next
            self._send({"id": rid, "op": op, **args})
            while True:
                message = self._read()
                if "event" not in message:
                    break
                go = failure is None
                if go and on_event is not None:
                    try:
                        go = on_event(message)
                    except BaseException as exc:  # kept until the worker has stopped
                        failure, go = exc, False
                if message["event"] == "progress":
                    self._send({"id": rid, "op": "continue" if go else "cancel"})
                elif not go and failure is None:
                    failure = Cancelled()
        if failure is not None:
            raise failure
        if not message.get("ok"):
            if message.get("type") == "Cancelled":
                raise Cancelled()
            raise PipelineError(
                f"{self.label} {op} failed: {message.get('type')}: {message.get('error')}"
            )
        return message

    def close(self) -> None:
        with self._lock:
            if self.proc.poll() is None:
                try:
                    assert self.proc.stdin is not None
                    self.proc.stdin.write(json.dumps({"id": -1, "op": "quit"}) + "\n")
                    self.proc.stdin.close()
                    self.proc.wait(timeout=20)
                except (OSError, subprocess.TimeoutExpired):
                    self.proc.kill()
                    self.proc.wait()
            if self.proc.stdout is not None:
                self.proc.stdout.close()
            self._log.close()
