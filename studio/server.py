"""Start the studio web UI on localhost, serving files only from the data directory."""

from __future__ import annotations

import os
import time
from pathlib import Path

from studio.settings import Services, Settings


def prepare_environment(settings: Settings) -> Path:
    """Point Gradio's upload/cache folder into the data dir and keep it from phoning home."""
    cache = (settings.data_dir / "cache").resolve()
    cache.mkdir(parents=True, exist_ok=True)
    os.environ["GRADIO_TEMP_DIR"] = str(cache)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return cache


def serve(settings: Settings, *, block: bool = True) -> tuple[Services, object]:
    """Open the services, build the app and launch it. Returns (services, app)."""
    t0 = time.perf_counter()
    prepare_environment(settings)
    services = Services.open(settings)
    from studio.app import build_app, theme

    app = build_app(services)
    app.launch(
        server_name=settings.host,
        server_port=settings.port,
        allowed_paths=[str(settings.data_dir.resolve())],
        inbrowser=False,
        share=False,
        show_error=True,
        quiet=True,
        prevent_thread_lock=True,
        footer_links=[],
        ssr_mode=False,
        theme=theme(),
    )
    url = f"http://{settings.host}:{settings.port}"
    print(
        f"Affect Studio ready at {url} in {time.perf_counter() - t0:.1f} s "
        f"(data: {settings.data_dir.resolve()}). Ctrl+C to stop.",
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
