"""Command line: ``python launch.py [serve|projects|generations|backends] …``.

The same services back the UI and every subcommand, so everything a tab does is scriptable.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from pipelines import registry
from pipelines.base import PipelineError
from projects_db import GenerationFilter, StoreError
from studio import commands, library_bulk
from studio.settings import Services, Settings
from studio.ui import existing_project

EPILOG = """Environment: AFFECT_STUDIO_DATA_DIR, AFFECT_STUDIO_DB_URL, AFFECT_STUDIO_HOST,
AFFECT_STUDIO_PORT, AFFECT_STUDIO_AUTH, AFFECT_STUDIO_MODEL_DIR. Flags win over the
environment."""


def _common() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    sup = argparse.SUPPRESS
    p.add_argument("--data-dir", type=Path, default=sup, help="data directory (./studio_data)")
    p.add_argument("--db-url", default=sup, help="SQLAlchemy URL (default: SQLite in data dir)")
    p.add_argument(
        "--model-dir", type=Path, default=sup, help="local checkpoints (bigger backends)"
    )
    return p


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = argparse.ArgumentParser(
        prog="launch.py",
        description="Affect Studio — emotional media, offline.",
        parents=[common],
        epilog=EPILOG,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser("serve", parents=[common], help="start the web UI (the default)")
    serve.add_argument("--host", default=None, help="interface to bind (127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (7860)")
    serve.add_argument(
        "--auth", default=None, metavar="USER:PASS", help="require this login (UI and API)"
    )

    sub.add_parser("test", help="install the test dependencies and run the whole test suite")

    projects = sub.add_parser("projects", help="list / create / rename / delete projects")
    psub = projects.add_subparsers(dest="action", metavar="ACTION", required=True)
    pl = psub.add_parser("list", parents=[common], help="list projects")
    pl.add_argument("--json", action="store_true")
    pc = psub.add_parser("create", parents=[common], help="create a project")
    pc.add_argument("name")
    pr = psub.add_parser("rename", parents=[common], help="rename a project")
    pr.add_argument("name")
    pr.add_argument("new_name")
    pd = psub.add_parser("delete", parents=[common], help="delete a project")
    pd.add_argument("name")
    pd.add_argument(
        "--yes",
        action="store_true",
        help="confirm: also delete its generations, files, stimulus sets, studies, conversations",
    )

    gens = sub.add_parser("generations", help="list / show / re-run / delete generations")
    gsub = gens.add_subparsers(dest="action", metavar="ACTION", required=True)
    gl = gsub.add_parser("list", parents=[common], help="a project's generations, newest first")
    gl.add_argument("--project", required=True, help="project name")
    _filter_args(gl)
    gl.add_argument("--limit", type=int, default=50, help="page size (default 50)")
    gl.add_argument("--offset", type=int, default=0, help="skip this many (next page: +limit)")
    gl.add_argument("--all", action="store_true", help="every match, not one page")
    gl.add_argument("--json", action="store_true")
    ge = gsub.add_parser(
        "export", parents=[common], help="matching generations' files + manifest.csv as a ZIP"
    )
    ge.add_argument("--project", required=True, help="project name")
    _filter_args(ge)
    ge.add_argument("-o", "--output", type=Path, required=True)
    gs = gsub.add_parser("show", parents=[common], help="one generation in full")
    gs.add_argument("id", type=int)
    gr_ = gsub.add_parser("rerun", parents=[common], help="run a generation again (same seed)")
    gr_.add_argument("id", type=int)
    gr_.add_argument("--json", action="store_true")
    gd = gsub.add_parser("delete", parents=[common], help="delete a generation and its files")
    gd.add_argument("id", type=int)

    for module in commands.modules():
        module.add_parser(sub, common)

    gc = sub.add_parser(
        "gc", parents=[common], help="free input files and leftovers nothing refers to"
    )
    gc.add_argument("--dry-run", action="store_true", help="only report what would be freed")
    gc.add_argument(
        "--min-age",
        type=float,
        default=3600.0,
        metavar="SECONDS",
        help="keep anything younger than this (an upload about to be used); default 3600",
    )

    be = sub.add_parser(
        "backends", parents=[common], help="list the backends, or install one's environment"
    )
    be.add_argument("--json", action="store_true")
    bsub = be.add_subparsers(dest="action", metavar="ACTION")
    bl = bsub.add_parser("list", parents=[common], help="list the backends (the default)")
    bl.add_argument("--json", action="store_true")
    bi = bsub.add_parser(
        "install",
        parents=[common],
        help="build a backend's isolated environment, or install a fuller soundfont",
    )
    bi.add_argument("backend", choices=("parler", "dice", "music-train", "soundfont"))
    return parser


def to_jsonable(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, datetime):
        return obj.isoformat()
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, list | tuple):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    return obj


def _print_json(obj: Any) -> None:
    print(json.dumps(to_jsonable(obj), indent=2, ensure_ascii=False))


def _project_id(services: Services, name: str) -> int:
    return existing_project(services, name)


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "backends" and getattr(args, "action", None) == "install":
        if args.backend == "soundfont":
            from studio.commands.soundfont_install import install_soundfont

            return install_soundfont(print)
        from studio.commands.backends_install import install_backend

        return install_backend(args.backend, print)
    if args.command == "backends":
        rows = [dataclasses.asdict(b) for b in registry.backends()]
        if args.json:
            _print_json(rows)
        for b in rows if not args.json else []:
            print(
                f"{b['task']:<10} {b['name']:<12} {'(default) ' if b['default'] else ''}"
                f"{b['description']}"
            )
        return 0
    with Services.open(settings) as services:
        store = services.store
        for module in commands.modules():
            if args.command == module.__name__.rsplit(".", 1)[-1]:
                return int(module.run(args, services))
        if args.command == "gc":
            return collect_garbage(services, dry_run=args.dry_run, min_age=args.min_age)
        if args.command == "projects":
            if args.action == "list":
                projects = store.list_projects()
                if args.json:
                    _print_json(projects)
                for p in projects if not args.json else []:
                    print(f"{p.id:>5}  {p.name}  ({p.generation_count} generations)")
            elif args.action == "create":
                print(f"Created project {store.create_project(args.name).name!r}.")
            elif args.action == "rename":
                p = store.rename_project(_project_id(services, args.name), args.new_name)
                print(f"Renamed to {p.name!r}.")
            elif args.action == "delete":
                from studio.commands import projects as project_commands

                return project_commands.delete(services, args.name, yes=args.yes)
            return 0
        if args.action in ("list", "export"):
            f = _filter(services, args)
            if args.action == "export":
                n = library_bulk.export_zip(services, f, args.output)
                print(f"Exported {n} generation(s) to {args.output}.")
                return 0
            if args.all:
                gens = list(store.iter_generations(f))
            else:
                gens = store.page_generations(f, limit=args.limit, offset=args.offset).items
            if args.json:
                _print_json(gens)
            for g in gens if not args.json else []:
                print(
                    f"{g.id:>6}  {g.task:<9} {g.backend:<10} {g.emotion or '-':<13} "
                    f"{g.status:<9} {g.created_at:%Y-%m-%d %H:%M}"
                )
            if not args.all and len(gens) == max(1, args.limit):
                total = store.count_generations(f)
                note = (f"{args.offset + 1}-{args.offset + len(gens)} of {total}; next page: "
                        f"--offset {args.offset + len(gens)}, everything: --all")  # fmt: skip
                print(note, file=sys.stderr if args.json else sys.stdout)
        elif args.action == "show":
            _print_json(store.get_generation(args.id))
        elif args.action == "rerun":
            info = services.generations.rerun(args.id).wait()
            if args.json:
                _print_json(info)
            else:
                print(
                    f"Generation #{info.id}: {info.status}"
                    + (f" — {info.error}" if info.error else "")
                )
            return 0 if info.status == "done" else 1
        elif args.action == "delete":
            services.generations.delete_generation(args.id)
            print(f"Deleted generation #{args.id} and its files.")
    return 0


def collect_garbage(services: Services, *, dry_run: bool, min_age: float) -> int:
    """``launch.py gc``: report, and unless a dry run free, what nothing refers to."""
    report = services.store.collect_garbage(dry_run=dry_run, min_age_seconds=max(0.0, min_age))
    cache = services.settings.data_dir.resolve() / "cache"
    stale = [p for p in cache.rglob("*") if p.is_file() and _age(p) > max(min_age, 86400.0)]
    for path in stale:
        report.bytes += path.stat().st_size
        if not dry_run:
            path.unlink(missing_ok=True)
    verb = "Would free" if dry_run else "Freed"
    print(
        f"{verb} {report.bytes / 1e6:.1f} MB: {len(report.unused_assets)} input file(s) no "
        f"generation uses, {len(report.stray_files)} leftover file(s)/folder(s), "
        f"{len(stale)} UI cache file(s) older than a day."
    )
    for rel in [*report.unused_assets, *report.stray_files]:
        print(f"  {rel}")
    return 0


def _age(path: Path) -> float:
    return time.time() - path.stat().st_mtime


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env(
            data_dir=getattr(args, "data_dir", None),
            db_url=getattr(args, "db_url", None),
            model_dir=getattr(args, "model_dir", None),
            host=getattr(args, "host", None),
            port=getattr(args, "port", None),
            auth=getattr(args, "auth", None),
        )
        if args.command in (None, "serve"):
            from studio.server import serve

            serve(settings)
            return 0
        if args.command == "test":
            print("Run the tests with: python3 launch.py test", file=sys.stderr)
            return 2
        return _run(args, settings)
    except (StoreError, PipelineError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _filter_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--task", default=None)
    p.add_argument("--emotion", default=None)
    p.add_argument("--status", default=None, help="queued, running, done, failed, cancelled")
    p.add_argument("--backend", default=None)
    p.add_argument("--text", default=None, help="words anywhere in the request")
    p.add_argument("--since", default=None, metavar="DAY", help="created on or after (YYYY-MM-DD)")
    p.add_argument("--until", default=None, metavar="DAY", help="created on or before this day")
    p.add_argument("--set", type=int, default=None, metavar="ID", help="a stimulus set's")
    p.add_argument("--ids", default=None, help="a selection, e.g. 12,15-20")


def _filter(services: Services, args: argparse.Namespace) -> GenerationFilter:
    return library_bulk.make_filter(
        _project_id(services, args.project), task=args.task, emotion=args.emotion,
        status=args.status, backend=args.backend, text=args.text, since=args.since,
        until=args.until, stimulus_set=args.set, ids=args.ids,
    )  # fmt: skip
