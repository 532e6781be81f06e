"""Compose: text → emotional voice → talking portrait → emotion-matched music bed → one MP4.

The chain runs the tasks' own backends in process (the defaults, or others named in
``LoadSettings.options``: ``{"voice": "tiny", …}``), so every stage is the same code the other
tabs run. The music is composed for the clip's exact length in the same emotion, mixed under the
speech at ``music_db`` relative to the speech's level, and ducked by ``duck_db`` while the voice
speaks (a sidechain on the speech envelope, 60 ms attack, 400 ms release). ``pad`` seconds of
listening portrait and music come before and after the speech. The portrait's video stream is
copied into the final MP4 untouched; the mixed audio is encoded once (AAC, 48 kHz, bit-exact),
and the voice's word timings become subtitles (a soft track in the MP4, and SRT/VTT files).
"""

from __future__ import annotations

import contextlib
import itertools
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from pipelines.base import (
    CancelToken,
    LoadSettings,
    PipelineError,
    ProgressFn,
    Request,
    Result,
    check,
    coerce_emotion,
    expect_request,
    require,
    require_number,
)
from pipelines.emotion import EmotionSpec
from pipelines.media import AudioClip, FileArtifact, TimedUnit, VideoClip
from pipelines.scratch import work_dir
from pipelines.voice.timings import cues, shift, to_srt, to_vtt

TASKS = ("voice", "portrait", "music")
"""The tasks the chain runs, in order of their backends' constructor arguments."""

MAX_WORDS = 1000
"""Longest text: about 7 minutes of speech, inside the portrait's 10-minute limit."""

MIX_RATE = 48000
"""Sample rate of the mixed soundtrack (the MP4's AAC rate)."""


@dataclass(frozen=True)
class ComposeRequest(Request):
    """What the portrait says, how it feels, and the music under it."""

    task: ClassVar[str] = "compose"
    text: str = ""
    """What the portrait says (up to :data:`MAX_WORDS` words)."""
    emotion: EmotionSpec = EmotionSpec()
    """One emotion for the voice, the face and the music."""
    auto_emotion: bool = False
    """Read that emotion and its intensity from the text instead (``emotion`` stays neutral)."""
    accent: str = "us"
    voice: str = "joe"
    image: Path | None = None
    """The portrait photo; None = the bundled default portrait."""
    size: int = 384
    """Video size in pixels on the short side."""
    music: bool = True
    """Add an emotion-matched music bed."""
    music_db: float = -16.0
    """Music level relative to the speech's loudness (dB), before ducking."""
    duck_db: float = 8.0
    """How much further the music drops while the voice speaks (dB)."""
    pad: float = 1.0
    """Seconds of listening portrait (and music) before and after the speech."""

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "emotion", coerce_emotion(self.emotion))
        require(isinstance(self.auto_emotion, bool), "auto_emotion must be true or false.")
        if isinstance(self.image, str) and self.image.strip():
            object.__setattr__(self, "image", Path(self.image))
        require(isinstance(self.music, bool), f"music must be true or false, got {self.music!r}.")
        require_number("music_db", self.music_db, -40.0, 0.0)
        require_number("duck_db", self.duck_db, 0.0, 30.0)
        require_number("pad", self.pad, 0.0, 5.0)
        words = len(str(self.text).split())
        require(
            words <= MAX_WORDS,
            f"The text has {words} words; a composed video takes at most {MAX_WORDS} (about "
            "7 minutes of speech). Split it into several videos.",
        )
        self.voice_request()  # the sub-requests validate text, accent, voice, image and size
        self.portrait_request(None, ())

    def voice_request(self) -> Any:
        from pipelines.voice.request import VoiceRequest

        return VoiceRequest(
            text=self.text,
            emotion=self.emotion,
            auto_emotion=self.auto_emotion,
            accent=self.accent,
            voice=self.voice,
            seed=self.seed,
        )

    def spoken_emotion(self) -> EmotionSpec:
        """The emotion of all three stages: ``emotion``, or the one read from the text (the
        voice reads the same text with the same model, so they agree)."""
        if not self.auto_emotion:
            return self.emotion
        from pipelines.voice.auto import read_emotion

        return read_emotion(self.text)[0]

    def portrait_request(self, audio: Path | None, phonemes: tuple[Any, ...]) -> Any:
        from pipelines.portrait.request import PortraitRequest

        return PortraitRequest(
            image=self.image,
            audio=audio,
            voice_emotion=self.spoken_emotion() if audio is not None else self.emotion,
            phonemes=phonemes,
            size=self.size,
            idle=self.pad,
            emotion_check=False,
            seed=self.seed,
        )

    @classmethod
    def example(cls, seed: int = 0) -> Self:
        return cls(text="Hello there.", emotion=EmotionSpec.of("happy"), size=128, seed=seed)

    @classmethod
    def bad_examples(cls) -> list[dict[str, Any]]:
        return [
            {"text": ""},
            {"text": "   "},
            {"text": "Hi.", "emotion": "hapy"},
            {"text": "Hi.", "accent": "martian"},
            {"text": "Hi.", "size": 100},
            {"text": "Hi.", "music_db": 6},
            {"text": "Hi.", "duck_db": -3},
            {"text": "Hi.", "pad": 60},
            {"text": "Hi.", "music": "yes"},
            {"text": "Hi.", "nonsense_field": 1},
            {"text": "word " * (MAX_WORDS + 1)},
        ]


def duck_gain(
    speech: np.ndarray, sr: int, music_db: float, duck_db: float
) -> tuple[np.ndarray, np.ndarray]:
    """(per-sample linear gain for the music, per-sample "the voice speaks" mask).

    The music sits ``music_db`` below the speech's active loudness and ``duck_db`` lower again
    while the voice speaks (a sidechain: attack 60 ms, release 400 ms)."""
    hop = sr // 100
    n = len(speech) // hop + 1
    padded = np.zeros(n * hop, np.float64)
    padded[: len(speech)] = speech
    db = 10 * np.log10(np.mean(padded.reshape(n, hop) ** 2, axis=1) + 1e-12)
    active = db > db.max() - 30.0
    speech_db = 10 * np.log10(np.mean(10 ** (db[active] / 10))) if active.any() else -30.0
    attack, release = np.exp(-1 / 6.0), np.exp(-1 / 40.0)  # per 10 ms frame
    env = np.zeros(n)
    level = 0.0
    for i, on in enumerate(active.astype(float)):
        k = attack if on > level else release
        level = k * level + (1 - k) * on
        env[i] = level
    gain = 10 ** ((speech_db + music_db - duck_db * env) / 20)
    per_sample = np.repeat(gain, hop)[: len(speech)].astype(np.float32)
    return per_sample, np.repeat(active, hop)[: len(speech)]


def _db(x: np.ndarray) -> float:
    x = np.asarray(x, np.float64)
    return float(10 * np.log10(np.mean(x**2) + 1e-12)) if len(x) else -120.0


def mix(
    speech: AudioClip, music: AudioClip | None, offset: float, total: float, req: ComposeRequest
) -> tuple[np.ndarray, dict[str, float]]:
    """The soundtrack at :data:`MIX_RATE`: speech from ``offset`` s, the music under it, ducked.

    Also returns the mix's own measurements: the music's level against the speech while the
    voice speaks, and how far the music drops when it does."""
    from pipelines.voice.measure import resample

    n = round(total * MIX_RATE)
    mono = np.asarray(speech.samples, np.float32)
    mono = mono.mean(axis=1) if mono.ndim == 2 else mono
    s = resample(mono, speech.sample_rate, MIX_RATE)
    voice = np.zeros(n, np.float32)
    start = round(offset * MIX_RATE)
    k = max(0, min(len(s), n - start))
    voice[start : start + k] = s[:k]
    facts: dict[str, float] = {}
    out = voice
    if music is not None:
        m = np.asarray(music.samples, np.float32)
        m = resample(m.mean(axis=1) if m.ndim == 2 else m, music.sample_rate, MIX_RATE)
        bed = np.zeros(n, np.float32)
        bed[: min(n, len(m))] = m[:n]
        gain, speaking = duck_gain(voice, MIX_RATE, req.music_db, req.duck_db)
        bed = bed / max(1e-9, float(np.sqrt(np.mean(bed**2)))) * gain
        out = voice + bed
        if speaking.any() and (~speaking).any():
            facts["music_vs_speech_db"] = round(_db(bed[speaking]) - _db(voice[speaking]), 2)
            facts["ducking_db"] = round(_db(bed[~speaking]) - _db(bed[speaking]), 2)
    peak = float(np.max(np.abs(out))) if len(out) else 0.0
    if peak > 0.98:
        out = out * np.float32(0.98 / peak)
    return out.astype(np.float32), facts


def subtitle_cues(words: Sequence[TimedUnit], offset: float) -> list[TimedUnit]:
    """Subtitle cues for the video: the voice's words moved by ``offset`` seconds, a new cue
    after every pause longer than 0.25 s (sentence and clause ends)."""
    moved = shift(words, offset)
    ends = [w.end for w, nxt in itertools.pairwise(moved) if nxt.start - w.end > 0.25]
    return cues(moved, ends)


def mux(video: Path, audio: np.ndarray, out: Path, srt: str = "") -> None:
    """The video stream of ``video`` with ``audio`` as its AAC track and ``srt`` as a soft
    subtitle track (players' CC button), in deterministic bytes."""
    import imageio_ffmpeg
    import soundfile

    wav = out.with_suffix(".mix.wav")
    sub = out.with_suffix(".srt")
    soundfile.write(str(wav), np.clip(audio, -1, 1), MIX_RATE, "PCM_16")
    inputs = ["-i", str(video), "-i", str(wav)]
    maps = ["-map", "0:v:0", "-map", "1:a:0"]
    if srt:
        sub.write_text(srt, encoding="utf-8")
        inputs += ["-i", str(sub)]
        maps += ["-map", "2:s:0", "-c:s", "mov_text", "-metadata:s:s:0", "language=eng"]
    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", *inputs, *maps,
        "-c:v", "copy", "-c:a", "aac", "-b:a", "160k", "-ar", str(MIX_RATE), "-ac", "1",
        "-movflags", "+faststart", "-map_metadata", "-1",
        "-fflags", "+bitexact", "-flags:a", "+bitexact", str(out),
    ]  # fmt: skip
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    finally:
        wav.unlink(missing_ok=True)
        sub.unlink(missing_ok=True)
    if done.returncode != 0:
        raise PipelineError(f"Muxing the final video failed: {done.stderr.strip()[-300:]}")


class ComposeBackend:
    """Voice → portrait → music → mix → MP4, with the tasks' own backends."""

    name: ClassVar[str] = "chain"
    version: ClassVar[str] = "1"
    request_type: ClassVar[type[Request]] = ComposeRequest

    def __init__(self, voice: Any, portrait: Any, music: Any) -> None:
        self._voice, self._portrait, self._music = voice, portrait, music

    @classmethod
    def load(cls, settings: LoadSettings) -> Self:
        from pipelines import registry

        def sub(task: str) -> Any:
            name = settings.options.get(task) if settings.options else None
            return registry.backend_class(task, name).load(settings)

        return cls(*(sub(task) for task in TASKS))

    def run(
        self,
        request: ComposeRequest,
        *,
        progress: ProgressFn | None = None,
        cancel: CancelToken | None = None,
    ) -> Result:
        expect_request(request, ComposeRequest, "compose")
        timings: dict[str, float] = {}
        if request.image is not None:  # a bad photo is reported before any work is done
            from pipelines.portrait.face import load_image

            load_image(request.image, [])

        def stage(lo: float, hi: float, what: str) -> ProgressFn:
            def report(fraction: float, message: str = "") -> None:
                if progress is not None:
                    progress(lo + (hi - lo) * min(1.0, max(0.0, fraction)), f"{what}: {message}")

            return report

        check(cancel, progress, 0.0, "voice")
        t = time.perf_counter()
        speech = self._voice.run(
            request.voice_request(), progress=stage(0.0, 0.25, "voice"), cancel=cancel
        )
        timings["voice"] = time.perf_counter() - t
        clip: AudioClip = speech.artifacts["audio"]
        with tempfile.TemporaryDirectory(prefix="compose-", dir=work_dir()) as tmp:
            wav = Path(tmp) / "speech.wav"
            clip.write(wav)
            phonemes = tuple((u.label, u.start, u.end) for u in speech.alignment.phonemes)
            check(cancel, progress, 0.25, "portrait")
            t = time.perf_counter()
            face = self._portrait.run(
                request.portrait_request(wav, phonemes),
                progress=stage(0.25, 0.85, "portrait"),
                cancel=cancel,
            )
            timings["portrait"] = time.perf_counter() - t
        video: VideoClip = face.artifacts["video"]
        out = video.path.with_name(video.path.stem + "-composed.mp4")
        try:  # whatever happens, the portrait's own file goes; the final one only on success
            t = time.perf_counter()
            music_clip, music_meta = self._music_bed(request, video.duration, stage, cancel)
            if request.music:
                timings["music"] = time.perf_counter() - t
            check(cancel, progress, 0.93, "mixing")
            t = time.perf_counter()
            soundtrack, facts = mix(clip, music_clip, request.pad, video.duration, request)
            captions = subtitle_cues(speech.alignment.words, request.pad)
            check(cancel, progress, 0.96, "encoding")
            mux(video.path, soundtrack, out, to_srt(captions))
            timings["mix"] = time.perf_counter() - t
            check(cancel, progress, 1.0, "done")
        except BaseException:
            out.unlink(missing_ok=True)
            raise
        finally:
            with contextlib.suppress(OSError):
                video.path.unlink()
        final = VideoClip(out, video.fps, video.duration, video.width, video.height)
        metadata: dict[str, Any] = {
            "speech_seconds": round(clip.duration, 3),
            "speech_offset": request.pad,
            "voice_measures": speech.metadata.get("measures"),
            "voice_notes": speech.metadata.get("notes", []),
            "portrait_notes": face.metadata.get("notes", []),
            "music": music_meta,
            **facts,
        }
        artifacts: dict[str, Any] = {
            "video": final,
            "soundtrack": AudioClip(soundtrack, MIX_RATE),
            "speech": clip,
        }
        if captions:
            artifacts["subtitles"] = FileArtifact(to_srt(captions).encode("utf-8"), ".srt")
            artifacts["subtitles_vtt"] = FileArtifact(to_vtt(captions).encode("utf-8"), ".vtt")
        if "stills" in face.artifacts:
            artifacts["stills"] = face.artifacts["stills"]
        return Result(artifacts, metadata, video.duration, timings)

    def _music_bed(
        self,
        request: ComposeRequest,
        seconds: float,
        stage: Callable[[float, float, str], ProgressFn],
        cancel: CancelToken | None,
    ) -> tuple[AudioClip | None, dict[str, Any]]:
        """The music in the request's emotion for the clip's length, and what it was."""
        if not request.music:
            return None, {}
        check(cancel, None, 0.85, "music")
        music = self._music.run(
            self._music.request_type(
                emotion=request.spoken_emotion(), seconds=max(2.0, seconds), seed=request.seed
            ),
            progress=stage(0.85, 0.93, "music"),
            cancel=cancel,
        )
        meta = {k: music.metadata.get(k) for k in ("key", "targets", "attribute_accuracy")}
        return music.artifacts["audio"], meta


class TinyComposeBackend(ComposeBackend):
    """The same chain over the tasks' tiny backends, for fast tests of the contract and UI."""

    name: ClassVar[str] = "tiny"

    @classmethod
    def load(cls, settings: LoadSettings) -> Self:
        from pipelines import registry

        tiny = [registry.backend_class(t, "tiny").load(settings) for t in TASKS]
        return cls(*tiny)
