"""The command line, run as a user would (a real process on a real data dir)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def cli(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "launch.py"), *args, "--data-dir", str(data)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_help_lists_subcommands() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "launch.py"), "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0
    for word in ("serve", "projects", "generations", "backends", "test"):
        assert word in out.stdout


def test_projects_and_generations_json(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert cli(data, "projects", "create", "Radio play").returncode == 0
    bad = cli(data, "projects", "create", "../../etc/passwd")
    assert bad.returncode == 2 and "error:" in bad.stderr and "slash" in bad.stderr
    projects = json.loads(cli(data, "projects", "list", "--json").stdout)
    assert [p["name"] for p in projects] == ["Radio play"]

    from studio.settings import Services, Settings

    with Services.open(Settings(data_dir=data)) as services:
        pid = projects[0]["id"]
        done = services.generations.run(pid, "tiny", {"text": "hi there", "emotion": "fearful"})
    gens = json.loads(cli(data, "generations", "list", "--project", "Radio play", "--json").stdout)
    assert [(g["id"], g["emotion"], g["status"]) for g in gens] == [(done.id, "fearful", "done")]
    assert gens[0]["request"]["text"] == "hi there"
    rerun = cli(data, "generations", "rerun", str(done.id), "--json")
    assert rerun.returncode == 0, rerun.stderr
    assert json.loads(rerun.stdout)["parent_id"] == done.id
    missing = cli(data, "generations", "list", "--project", "Nope", "--json")
    assert missing.returncode == 2 and "No project named 'Nope'" in missing.stderr


def test_corrupt_database_is_reported_not_overwritten(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    garbage = b"this is not a database" * 100
    (data / "studio.db").write_bytes(garbage)
    out = cli(data, "projects", "list")
    assert out.returncode == 2 and "corrupt" in out.stderr and "Traceback" not in out.stderr
    assert (data / "studio.db").read_bytes() == garbage


def test_unwritable_data_dir_is_explained() -> None:
    # /sys is a read-only file system even for root: the store must say so, not crash.
    out = cli(Path("/sys/affect-studio-test"), "projects", "list")
    assert out.returncode == 2 and "not writable" in out.stderr and "--data-dir" in out.stderr
    assert "Traceback" not in out.stderr
