"""``launch.py study create|import|report``: studies over stimulus sets."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from pipelines.base import PipelineError
from pipelines.study.design import DESIGNS
from studio.settings import Services


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("study", help="studies over stimulus sets: participants, answers, report")
    ssub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = ssub.add_parser("create", parents=[common], help="a study with participant codes")
    create.add_argument("--stimuli", type=int, required=True, metavar="SET", help="set id")
    create.add_argument("--design", required=True, choices=list(DESIGNS))
    create.add_argument("--participants", type=int, required=True, metavar="N")
    create.add_argument("--per-participant", type=int, default=None, metavar="K")
    create.add_argument("--seed", type=int, default=0)
    create.add_argument("--name", default="")
    create.add_argument(
        "--attention-rate", type=float, default=0.0, metavar="R",
        help="insert attention checks, about R x each list (0-0.5); who fails is excluded",
    )  # fmt: skip
    create.add_argument(
        "--gold", default="", metavar="N,N",
        help="set item numbers with a known answer, shown to everyone as quality checks "
        "(emotion-id: the intended emotion; transcribe: the text); who misses > 25 %% is excluded",
    )  # fmt: skip
    create.add_argument(
        "--compare", default=None, metavar="FACTOR",
        help="ab/mushra: the factor whose values are the conditions (default: the one that varies)",
    )  # fmt: skip
    create.add_argument(
        "--reference",
        default=None,
        metavar="VALUE",
        help="mushra: the reference condition (also hidden among the samples)",
    )
    create.add_argument("--anchor", default=None, metavar="VALUE",
                        help="mushra: the low-anchor condition")  # fmt: skip
    create.add_argument(
        "--ask", default="", metavar="R,R",
        help="extra 1-5 ratings per trial: emotion-id intensity,confidence; mos strength",
    )  # fmt: skip
    create.add_argument("--json", action="store_true")
    imp = ssub.add_parser(
        "import", parents=[common], help="answers from participant,item,response CSV"
    )
    imp.add_argument("study", type=int)
    imp.add_argument("file", type=Path)
    export = ssub.add_parser("export", parents=[common], help="ZIP: answers, report, manifest")
    export.add_argument("study", type=int)
    export.add_argument("-o", "--output", type=Path, required=True)
    report = ssub.add_parser("report", parents=[common], help="the study's statistics")
    report.add_argument("study", type=int)
    report.add_argument("--json", action="store_true")


def run(args: argparse.Namespace, services: Services) -> int:
    from studio.study import Studies

    studies = Studies(services)
    if args.action == "create":
        study = studies.create(
            args.stimuli, args.design, args.participants,
            per_participant=args.per_participant, seed=args.seed, name=args.name,
            attention_rate=args.attention_rate, gold=_numbers(args.gold), compare=args.compare,
            reference=args.reference, anchor=args.anchor, ask=args.ask.split(","),
        )  # fmt: skip
        base = f"http://{_host(services.settings.host)}:{services.settings.port}"
        data = {
            "study": {"id": study.id, "name": study.name, "design": study.design,
                      "set_id": study.set_id, "seed": study.seed, "config": study.config},
            "participants": [{"code": c, "url": f"{base}/study/{c}"}
                             for c in study.participant_codes],
        }  # fmt: skip
        if args.json:
            print(json.dumps(data, indent=2))
        else:
            print(f"Study #{study.id} {study.name}: {len(study.participant_codes)} participants")
            for person in data["participants"]:
                print(f"  {person['code']}  {person['url']}")
        return 0
    if args.action == "export":
        n = studies.export_zip(args.study, args.output)
        print(f"Exported {n} answer(s) to {args.output}.")
        return 0
    if args.action == "import":
        zipped = args.file.suffix.lower() == ".zip"
        saved = (studies.import_zip if zipped else studies.import_csv)(args.study, args.file)
        print(f"Saved {saved} answer(s) from {args.file}.")
        return 0
    out = studies.report(args.study)
    if args.json:
        print(json.dumps(out, indent=2, ensure_ascii=False))
    else:
        print(f"{out['study']['name']}: {out['answers']} answers from {out['participants']} "
              "participants")  # fmt: skip
        for key in ("accuracy", "fleiss_kappa", "krippendorff_alpha"):
            if out.get(key) is not None:
                print(f"  {key}: {out[key]:.3f}")
        for name, cell in out.get("conditions", {}).items():
            print(f"  {name}: {json.dumps(cell)}")
    return 0


def _numbers(text: str) -> list[int]:
    try:
        return [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        raise PipelineError(f"--gold takes item numbers like 3,7 (got {text!r}).") from None


def _host(host: str) -> str:
    """The host part of a participant link (a wildcard bind is reached via this machine)."""
    if host in ("0.0.0.0", "::", ""):
        import socket

        return socket.gethostname()
    return f"[{host}]" if ":" in host else host
