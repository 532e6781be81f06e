"""``launch.py stimuli make|list|show|resume|export``: stimulus sets (grids of generations)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from studio.settings import Services
from studio.ui import SCRATCH_PROJECT, existing_project, project_named


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("stimuli", help="stimulus sets: grids of generations for studies")
    ssub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    make = ssub.add_parser("make", parents=[common], help="make a set from a JSON spec and run it")
    make.add_argument("--spec", type=Path, required=True, help="the grid (.json or .yaml)")
    make.add_argument("--project", default=None, help=f"project to record in ({SCRATCH_PROJECT})")
    make.add_argument("--yes", action="store_true", help="allow grids over 5,000 items")
    make.add_argument("--dry-run", action="store_true", help="validate and count, make nothing")
    for action in (make, ssub.add_parser("resume", parents=[common], help="make what is missing")):
        if action is not make:
            action.add_argument("id", type=int)
        action.add_argument("--workers", type=int, default=None, help="worker processes")
        action.add_argument(
            "--ray",
            default=os.environ.get("AFFECT_STUDIO_RAY") or None,
            metavar="ADDR",
            help="run on Ray: auto, local or ray://HOST:10001 (AFFECT_STUDIO_RAY)",
        )
        action.add_argument("--json", action="store_true")
    ls = ssub.add_parser("list", parents=[common], help="the sets, newest first")
    ls.add_argument("--project", default=None)
    ls.add_argument("--json", action="store_true")
    show = ssub.add_parser("show", parents=[common], help="one set and its items")
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true")
    export = ssub.add_parser("export", parents=[common], help="ZIP of the media + manifest.csv")
    export.add_argument("id", type=int)
    export.add_argument("-o", "--output", type=Path, required=True, help="the .zip to write")


def run(args: argparse.Namespace, services: Services) -> int:
    from studio.stimuli import Stimuli

    stimuli = Stimuli(services)
    if args.action == "list":
        project = existing_project(services, args.project) if args.project else None
        rows = stimuli.store.list_stimulus_sets(project)
        if args.json:
            print(json.dumps([{"id": r.id, "name": r.name, "task": r.task,
                               "items": r.item_count} for r in rows], indent=2))  # fmt: skip
        for r in rows if not args.json else []:
            print(f"{r.id:>5}  {r.task:<9} {r.item_count:>6} items  {r.name}")
        if not rows and not args.json:
            where = f" in project {args.project!r}" if args.project else ""
            print(f"No stimulus sets{where} yet — make one with: stimuli make --spec FILE.json")
        return 0
    if args.action == "show":
        _print(stimuli.summary(args.id), args.json)
        return 0
    if args.action == "export":
        n = stimuli.export_zip(args.id, args.output)
        print(f"Exported {n} item(s) with manifest.csv to {args.output}")
        return 0
    if args.action == "make":
        spec = read_spec(args.spec)
        if args.dry_run:
            parsed, count = stimuli.plan(spec, confirm_large=args.yes)
            print(f"{parsed.name}: {count} {parsed.task} item(s), all valid.")
            return 0
        made, report = stimuli.create_and_run(
            spec, lambda: project_named(services, args.project), confirm_large=args.yes,
            workers=args.workers, ray=args.ray, progress=None if args.json else _progress,
        )  # fmt: skip
        set_id = made.id
    else:
        set_id = args.id
        report = stimuli.run(
            set_id, workers=args.workers, ray=args.ray, progress=None if args.json else _progress
        )
    _print(stimuli.summary(set_id), args.json)
    for item_id, error in report.failed.items():
        print(f"error: item {item_id} failed twice: {error}", file=sys.stderr)
    return 1 if report.failed else 0


def read_spec(path: Path) -> Any:
    """A spec file: JSON, or YAML when it is named .yaml/.yml."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"Cannot read the spec {path}: {exc}") from None
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ValueError(f"The spec {path} is not valid YAML: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"The spec {path} is not valid JSON: {exc}") from None


def _progress(done: int, total: int, eta: float | None) -> None:
    left = f", about {eta:.0f} s left" if eta is not None else ""
    print(f"  {done}/{total} items{left}", file=sys.stderr, flush=True)


def _print(summary: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
        return
    s = summary["set"]
    print(f"Set #{s['id']} {s['name']} ({s['task']}, {s['size']} items)")
    for i in summary["items"]:
        factors = ", ".join(f"{k}={v}" for k, v in i["factors"].items())
        gen = f"#{i['generation']}" if i["generation"] else "-"
        print(f"  {i['position'] + 1:>4}  {i['status']:<9} {gen:<7} {factors}")
