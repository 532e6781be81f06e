"""Hardening, against a real studio process: what is served, what can be called, login, and the
README's scripting example (issue #10, items 1–3)."""

from __future__ import annotations

import json
import re
import sqlite3
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gradio_client import Client
from studio_server import ROOT, RunningStudio, cli, running_studio

from studio.api import ENDPOINTS
from studio.server import exposure_warning, is_loopback
from studio.settings import Settings, parse_auth


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStudio]:
    data = tmp_path_factory.mktemp("reliability") / "data"
    with running_studio(data) as running:
        yield running


def _status(url: str, body: dict[str, Any] | None = None) -> int:
    """The HTTP status of a GET (or, with ``body``, a JSON POST) to ``url``."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _get(url: str) -> int:
    return _status(url)


def _post(url: str, body: dict[str, Any]) -> int:
    return _status(url, body)


def _projects(data: Path) -> set[str]:
    return {p["name"] for p in json.loads(cli(data, "projects", "list", "--json").stdout)}


def test_database_is_not_served_and_later_writes_all_land(studio: RunningStudio) -> None:
    client = Client(studio.url, verbose=False)
    midi, _wav, gen = client.predict(
        emotion="happy", bars=2, project="From server", api_name="/music"
    )
    assert Path(midi).stat().st_size > 0 and gen["status"] == "done"
    data = studio.data.resolve()
    artifact = data / "artifacts" / f"p{gen['project_id']}" / f"g{gen['id']}" / "midi.mid"
    assert _get(f"{studio.url}gradio_api/file={artifact}") == 200
    internals = [
        data / "studio.db",
        data / "studio.db-wal",
        data / "studio.db-shm",
        data / ".studio-open.lock",
        *sorted((data / "runners").iterdir()),
        Path("/etc/passwd"),
        ROOT / "pyproject.toml",
    ]
    for path in internals:
        assert path.exists(), path
        assert _get(f"{studio.url}gradio_api/file={path}") in (403, 404), path

    # The repro: after the GETs, a CLI write in another process and then server writes land.
    cli(studio.data, "projects", "create", "From CLI")
    client.predict(emotion="sad", bars=2, project="From server 2", api_name="/music")
    cli(studio.data, "projects", "create", "From CLI 2")
    client.predict(emotion="neutral", bars=2, project="From server 3", api_name="/music")
    names = _projects(studio.data)
    assert {"From server", "From CLI", "From server 2", "From CLI 2", "From server 3"} <= names
    with sqlite3.connect(f"{(data / 'studio.db').as_uri()}?mode=ro", uri=True) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def test_api_has_only_the_named_task_endpoints(studio: RunningStudio) -> None:
    with urllib.request.urlopen(f"{studio.url}gradio_api/info", timeout=30) as response:
        info = json.load(response)
    assert sorted(info["named_endpoints"]) == sorted(f"/{name}" for name in ENDPOINTS)
    assert not info["unnamed_endpoints"]
    with urllib.request.urlopen(f"{studio.url}config", timeout=30) as response:
        config = json.load(response)
    hidden = [d["api_name"] for d in config["dependencies"] if d["api_name"] not in ENDPOINTS]
    assert len(hidden) > 20  # the UI's own handlers exist …
    cli(studio.data, "projects", "create", "Keep me")
    for name in hidden:  # … but none can be called by name (wrapper_3 once deleted a project)
        assert _post(f"{studio.url}gradio_api/call/{name}", {"data": []}) == 404, name
        assert _post(f"{studio.url}gradio_api/run/{name}", {"data": []}) == 404, name
    assert "Keep me" in _projects(studio.data)
    # the public ones can, with plain typed parameters
    params = {p["parameter_name"]: p for p in info["named_endpoints"]["/voice"]["parameters"]}
    assert params["text"]["python_type"]["type"] == "str"
    assert params["seed"]["python_type"]["type"] == "int"
    assert params["emotion"]["parameter_default"] == "neutral"


def test_readme_scripting_example_runs(studio: RunningStudio, capsys: Any) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    example = next(b for b in blocks if "gradio_client" in b)
    assert all(f'api_name="/{name}"' in example for name in ENDPOINTS)
    code = example.replace("http://127.0.0.1:7860/", studio.url)
    scope: dict[str, Any] = {}
    exec(compile(code, "README.md", "exec"), scope)
    for name in ("wav", "video", "midi", "mp4"):
        assert Path(scope[name]).stat().st_size > 100, name
    assert scope["reply"].strip() and scope["reply2"].strip()
    assert isinstance(scope["conversation"], int) and scope["conversation"] > 0
    printed = capsys.readouterr().out
    assert "compose" in printed and "done" in printed
    with pytest.raises(Exception, match="Text is empty"):
        Client(studio.url, verbose=False).predict(text="  ", api_name="/voice")


def test_login_and_the_warning_for_open_bindings(tmp_path: Path) -> None:
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.20")
    open_lan = Settings(host="0.0.0.0")
    warning = exposure_warning(open_lan)
    assert warning is not None and "WITHOUT a login" in warning and "--auth" in warning
    assert exposure_warning(Settings()) is None
    assert parse_auth("lab:pa:ss") == ("lab", "pa:ss")
    with pytest.raises(ValueError, match="USER:PASS"):
        parse_auth("nopassword")
    env = {"AFFECT_STUDIO_AUTH": "lab:s3cret:x"}
    with running_studio(tmp_path / "data", "--host", "0.0.0.0", env=env) as running:
        assert not any("WARNING" in line for line in running.output)
        assert _get(f"{running.url}gradio_api/info") == 401
        with pytest.raises(Exception):  # noqa: B017 - any refusal will do
            Client(running.url, verbose=False)
        client = Client(running.url, auth=("lab", "s3cret:x"), verbose=False)
        assert client.predict(api_name="/generations") == []
    with running_studio(tmp_path / "data2", "--host", "0.0.0.0") as running:
        assert any("WITHOUT a login" in line for line in running.output)
