"""``launch.py chat``: one turn with the empathetic dialogue partner, recorded in a conversation.

Example: ``python launch.py chat --message "I failed my exam" --json`` starts a conversation
(in the project given by --project, else "Scratch") and prints the reply with its analysis;
``--conversation ID`` goes on with an earlier one (the ID is printed each time).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pipelines.dialogue.rubric import CRITERIA
from projects_db.conversations import TurnInfo
from studio.commands import add_common_task_args
from studio.dialogue import Dialogue, persona_from
from studio.settings import Services
from studio.ui import project_named


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "chat",
        parents=[common],
        help="one turn with the empathetic dialogue partner (reply + emotion analysis)",
        description="Say something; get an empathetic reply with its emotion analysis.",
    )
    add_common_task_args(p)
    p.add_argument("--message", "--text", dest="message", required=True, help="what you say")
    p.add_argument("--conversation", type=int, default=None, help="go on with conversation ID")
    p.add_argument(
        "--persona", type=Path, default=None, help="JSON file: name, style, Big-Five traits 0-1"
    )
    p.add_argument("--server-url", default="", help="openai backend: base URL (…/v1)")
    p.add_argument("--server-model", default="", help="openai backend: model name")
    p.add_argument("--max-tokens", type=int, default=160, help="reply length budget (160)")
    p.add_argument(
        "--candidates",
        type=int,
        default=0,
        help="replies sampled and judged, the best kept (0: the backend's default, 4 / 1)",
    )


def _persona(path: Path | None) -> dict[str, Any]:
    if path is None:
        return persona_from(None)
    try:
        data = json.loads(Path(path).expanduser().read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"Cannot read the persona file {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"The persona file {path} must hold a JSON object.")
    return persona_from(data)


def run(args: argparse.Namespace, services: Services) -> int:
    dialogue = Dialogue(services)
    if args.conversation is None:
        project = project_named(services, args.project)
        conv = dialogue.start(project, _persona(args.persona), args.backend)
    else:
        conv = services.store.get_conversation(args.conversation)
        if args.persona is not None or args.backend:
            conv = services.store.update_conversation(
                conv.id,
                persona=_persona(args.persona) if args.persona is not None else None,
                backend=args.backend or None,
            )
    server = {"url": args.server_url, "model": args.server_model}
    final = None
    for update in dialogue.send(
        conv.id,
        args.message,
        seed=args.seed,
        server=server,
        max_new_tokens=args.max_tokens,
        candidates=args.candidates,
    ):
        final = update
    assert final is not None and final.turn is not None
    turn = final.turn
    if args.json:
        data = {
            "conversation_id": conv.id,
            **dialogue.store.export_conversation(conv.id)["turns"][-1],
        }
        data["generation"] = final.generation.metadata if final.generation else {}
        print(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    else:
        print(turn.reply)
        print(f"\n(conversation #{conv.id}, turn {turn.idx + 1})", file=sys.stderr)
        print(plain_panel(turn), file=sys.stderr)
    return 0


MAX_CAUSE_CHARS = 160
"""The "Cause words:" line is cut (with "…") past this many characters."""


def cause_words(turn: TurnInfo, limit: int = MAX_CAUSE_CHARS) -> str:
    """The message's cause words, as the Dialogue tab marks them (in the order they occur, each
    once), comma-separated, plain text, at most ``limit`` characters."""
    causes = {str(w).lower() for w, _ in turn.cause_words}
    seen: list[str] = []
    for word in turn.user_text.split():
        bare = word.strip(".,!?;:\"'()[]")
        if bare.lower() in causes and bare.lower() not in (s.lower() for s in seen):
            seen.append(bare)
    if not seen:  # the analysis named words the text does not hold as such
        seen = [str(w) for w, _ in turn.cause_words]
    text = ", ".join(seen) or "none"
    return text if len(text) <= limit else text[: limit - 1].rsplit(", ", 1)[0] + ", …"


def plain_panel(turn: TurnInfo) -> str:
    """The Dialogue tab's per-turn panel as plain lines for a terminal (no Markdown)."""
    d, rub, structure = turn.detected, turn.rubric, turn.structure
    if structure.get("format_ok"):
        state = "well-formed"
    else:
        state = "repaired: " + "; ".join(str(f) for f in structure.get("fallbacks") or [])
    scores = ", ".join(f"{k} {rub[k]:.2f}" for k in CRITERIA if k in rub)
    lines = [
        f"Detected: {d.get('label')} ({d.get('ed_label')}, confidence {d.get('confidence')})",
        f"Cause words: {cause_words(turn)}",
        f"Planned reply emotion: {turn.planned_emotion} → {structure.get('emotion', '')}",
        f"Structure: {state}",
        f"Rubric: total {rub.get('total', 0):.2f} — {scores}",
    ]
    best, strict = rub.get("best_of"), rub.get("strict") or {}
    if best and best.get("chosen") is None and not best.get("fallback"):
        lines.append("Strict rubric: not applied — the safety layer wrote the reply")
    elif best:
        how = (
            f"none of {best['n']} model replies passed: a reply built from the understanding"
            if best.get("fallback")
            else f"reply {best['chosen'] + 1} of {best['n']} kept"
        )
        verdict = (
            "passes" if strict.get("passed") else f"fails {', '.join(strict.get('failed', []))}"
        )
        lines.append(f"Strict rubric: {verdict} — {how}")
    lines.append(f"Beyond-No patterns: {', '.join(turn.patterns) or 'none'}")
    return "\n".join(lines)
