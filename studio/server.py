"""Start the studio web UI, serving only the files the UI needs.

What is served (``/gradio_api/file=…``): generated artifacts, stored input files, the bundled
assets and Gradio's own UI cache inside the data directory. Never the database, its WAL/SHM/
journal files, lock files, job temp folders or anything else: serving the SQLite file would
also let a download close a handle on it inside this process, which drops the process's
SQLite locks and can lose later writes.
"""

from __future__ import annotations

import ipaddress
import os
import sys
import time
from pathlib import Path

from studio.settings import Services, Settings

ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"
"""Bundled inputs (default portrait, sample text)."""

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def prepare_environment(settings: Settings) -> Path:
    """Point Gradio's upload/cache folder into the data dir and keep it from phoning home."""
    cache = (settings.data_dir / "cache").resolve()
    cache.mkdir(parents=True, exist_ok=True)
    os.environ["GRADIO_TEMP_DIR"] = str(cache)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return cache


def served_paths(services: Services) -> tuple[list[str], list[str]]:
    """(allowed, blocked) paths for Gradio: only artifacts, inputs and bundled assets are
    allowed (the UI cache is Gradio's own); the database files and the data directory's
    internals are blocked, which wins over anything allowed."""
    store = services.store
    data = store.data_dir
    allowed = [data / "artifacts", data / "assets", ASSETS_DIR]
    blocked = [data / "runners", data / "tmp", *data.glob(".*")]
    database = store.database_file()
    if database is not None:
        blocked += [database.parent / (database.name + s) for s in ("", "-wal", "-shm", "-journal")]
    blocked += [p for p in data.iterdir() if p.is_file()]  # studio.db and anything beside it
    return [str(p) for p in allowed], sorted({str(p) for p in blocked})


def is_loopback(host: str) -> bool:
    """True when ``host`` is reachable only from this computer."""
    if host.strip().lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def exposure_warning(settings: Settings) -> str | None:
    """A loud warning when the studio listens beyond this computer without a login."""
    if is_loopback(settings.host) or settings.auth is not None:
        return None
    bar = "!" * 78
    return (
        f"{bar}\nWARNING: Affect Studio is listening on {settings.host}:{settings.port} WITHOUT a "
        "login.\nAnyone who can reach this port can use the studio: read every project, "
        "conversation\nand file, run jobs and delete projects. Add --auth USER:PASS (or set "
        "AFFECT_STUDIO_AUTH),\nor bind 127.0.0.1.\n" + bar
    )


def launch_app(app: object, services: Services, settings: Settings) -> None:
    """Launch ``app`` with the studio's serving rules (no blocking)."""
    from starlette.middleware import Middleware

    from studio.api import PublicOnly
    from studio.app import theme

    allowed, blocked = served_paths(services)
    app.launch(  # type: ignore[attr-defined]
        server_name=settings.host,
        server_port=settings.port,
        auth=settings.auth,
        allowed_paths=allowed,
        blocked_paths=blocked,
        app_kwargs={"middleware": [Middleware(PublicOnly)]},
        inbrowser=False,
        share=False,
        show_error=True,
        quiet=True,
        prevent_thread_lock=True,
        footer_links=["api"],
        ssr_mode=False,
        theme=theme(),
    )
    from studio.participant import add_routes

    add_routes(app.app, services)  # type: ignore[attr-defined]


def serve(settings: Settings, *, block: bool = True) -> tuple[Services, object]:
    """Open the services, build the app and launch it. Returns (services, app)."""
    t0 = time.perf_counter()
    prepare_environment(settings)
    if warning := exposure_warning(settings):
        print(warning, file=sys.stderr, flush=True)
    services = Services.open(settings)
    from studio.app import build_app

    app = build_app(services)
    launch_app(app, services, settings)
    url = f"http://{settings.host}:{settings.port}"
    login = " Login required." if settings.auth else ""
    print(
        f"Affect Studio ready at {url} in {time.perf_counter() - t0:.1f} s "
        f"(data: {settings.data_dir.resolve()}).{login} Ctrl+C to stop.",
        flush=True,
    )
    if services.generations.recovered:
        print(f"Marked {len(services.generations.recovered)} interrupted generation(s) as failed.")
    if block:
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print("Stopping…")
        finally:
            app.close()  # type: ignore[attr-defined]
            services.close()
    return services, app
