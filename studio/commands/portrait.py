"""``launch.py portrait --image PATH (--audio PATH | --text TEXT) --emotion SPEC -o out.mp4``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from studio.settings import Services


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "portrait",
        parents=[common],
        help="make a talking portrait from a photo and speech",
        description="A talking portrait video (H.264 + AAC MP4) from one photo and speech.",
    )
    p.add_argument("--image", type=Path, default=None, help="photo (default: bundled portrait)")
    speech = p.add_mutually_exclusive_group()
    speech.add_argument("--audio", type=Path, default=None, help="speech recording to lip-sync")
    speech.add_argument("--text", default=None, help="text, spoken first by the Voice pipeline")
    p.add_argument("--emotion", default=None, help="e.g. happy, sad@0.5, happy:0.7+surprised:0.3")
    p.add_argument("--size", type=int, default=512, help="short side in pixels (512)")
    p.add_argument(
        "--framing", choices=("auto", "full", "face"), default="auto",
        help="full = whole photo, face = crop around the head, auto = full unless the photo is "
        "over twice the face crop (auto)",
    )  # fmt: skip
    p.add_argument("--head-motion", type=float, default=1.0, help="0 still … 2 lively (1)")
    p.add_argument("--blinks", type=float, default=17.0, help="blinks per minute (17)")
    p.add_argument("--no-check", action="store_true", help="skip the emotion check (faster)")
    p.add_argument("-o", "--output", type=Path, required=True, help="where to write the .mp4")
    p.add_argument("--stills", type=Path, default=None, help="also write the stills grid PNG")
    from studio.commands import add_common_task_args

    add_common_task_args(p)


def run(args: argparse.Namespace, services: Services) -> int:
    from pipelines import registry
    from pipelines.base import PipelineError, coerce_emotion
    from studio.commands import run_task
    from studio.portrait_tab import PortraitTab
    from studio.ui import project_or_scratch

    tab = PortraitTab(services)
    if args.image is not None:
        check_photo(args.image)
    if args.audio is not None:
        check_audio(args.audio)
    image = tab.store_upload(args.image) if args.image else None
    audio, phonemes, voice_emotion = None, (), None
    if args.audio is not None:
        audio = tab.store_upload(args.audio)
    elif args.text is not None:
        if not any(t.name == "voice" for t in registry.tasks()):
            raise PipelineError("--text needs the Voice pipeline, which is not installed yet; "
                                "use --audio with a speech recording.")  # fmt: skip
        found = services.store.find_project(args.project) if args.project else None
        pid = project_or_scratch(services, found.id if found else None)
        emotion = coerce_emotion(args.emotion) if args.emotion else None
        gid = tab.speak(pid, args.text, emotion, args.seed, None)
        audio, phonemes, voice_emotion = tab.voice_audio(gid)
    request = {
        "image": str(image) if image else None,
        "audio": str(audio) if audio else None,
        "emotion": args.emotion,
        "voice_emotion": str(voice_emotion) if voice_emotion else None,
        "phonemes": [list(p) for p in phonemes],
        "size": args.size,
        "framing": args.framing,
        "head_motion": args.head_motion,
        "blink_rate": args.blinks,
        "emotion_check": not args.no_check,
        "seed": args.seed,
    }
    return run_task(services, args, "portrait", request, {"video": args.output,
                                                          "stills": args.stills})  # fmt: skip


def check_photo(path: Path) -> None:
    """Refuse, before anything is queued, a photo that is missing or cannot be read as an image
    (the pipeline's own message, naming the user's file). A photo without a face is found only
    by the run."""
    from pipelines.base import PipelineError
    from pipelines.portrait.face import load_image

    if not path.is_file():
        raise PipelineError(f"Photo {path} does not exist.")
    _not_empty(path)
    load_image(path, [])


def _not_empty(path: Path) -> None:
    from pipelines.base import PipelineError

    if path.stat().st_size == 0:
        raise PipelineError(
            f"{path.name} is empty (0 bytes) — choose the file again, or save it again and retry."
        )


def check_audio(path: Path) -> None:
    """Refuse, before anything is queued, speech that is missing, unreadable, empty, too short
    or too long (the pipeline's own checks and messages)."""
    from pipelines.base import PipelineError
    from pipelines.portrait.audio import load_audio

    if not path.is_file():
        raise PipelineError(f"Audio file {path} does not exist.")
    _not_empty(path)
    load_audio(path)
