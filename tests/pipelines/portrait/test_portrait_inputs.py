"""Bad and unusual inputs: every failure is a PipelineError a person can act on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile
from PIL import Image

from pipelines.base import PipelineError
from pipelines.portrait.request import DEFAULT_IMAGE, PortraitRequest


def _run(backend, **kw):
    kw.setdefault("size", 160)
    kw.setdefault("emotion_check", False)
    kw.setdefault("silence", 0.4)
    return backend.run(PortraitRequest(**kw))


def test_no_face_suggests_a_frontal_photo(warp_backend, tmp_path: Path) -> None:
    grad = np.tile(np.linspace(0, 255, 400, dtype=np.uint8), (300, 1))
    path = tmp_path / "gradient.png"
    Image.fromarray(grad).save(path)
    with pytest.raises(PipelineError, match=r"No face found in gradient\.png.*frontal"):
        _run(warp_backend, image=path)


def test_several_faces_use_the_largest_and_say_so(warp_backend, astronaut, tmp_path: Path) -> None:
    small = np.asarray(Image.fromarray(astronaut).resize((340, 340)))
    canvas = np.full((512, 900, 3), 230, np.uint8)
    canvas[:, :512] = astronaut
    canvas[100:440, 540:880] = small
    path = tmp_path / "two.jpg"
    Image.fromarray(canvas).save(path)
    res = _run(warp_backend, image=path)
    assert any("animating the largest" in n for n in res.metadata["notes"])


def test_tiny_face_is_refused(warp_backend, astronaut, tmp_path: Path) -> None:
    canvas = np.full((600, 600, 3), 200, np.uint8)
    canvas[250:402, 250:402] = np.asarray(Image.fromarray(astronaut).resize((152, 152)))
    path = tmp_path / "far.png"
    Image.fromarray(canvas).save(path)
    with pytest.raises(PipelineError, match=r"(too small|No face).*(60 px|80 px)"):
        _run(warp_backend, image=path)


def test_huge_photo_is_downscaled_not_fatal(warp_backend, tmp_path: Path) -> None:
    path = tmp_path / "huge.jpg"
    Image.open(DEFAULT_IMAGE).resize((8000, 8000), Image.Resampling.BILINEAR).save(path, quality=70)
    res = _run(warp_backend, image=path)
    assert any("downscaled" in n for n in res.metadata["notes"])
    assert res.video.width == 160


@pytest.mark.parametrize("mode", ["L", "CMYK", "P", "RGBA", "I;16"])
def test_image_modes(warp_backend, tmp_path: Path, mode: str) -> None:
    im = Image.open(DEFAULT_IMAGE)
    if mode == "RGBA":
        im = im.convert("RGBA")
        im.putalpha(Image.new("L", im.size, 255))
    elif mode == "I;16":
        im = im.convert("I").point(lambda v: v * 200).convert("I;16")
    else:
        im = im.convert(mode)
    path = tmp_path / ("photo.jpg" if mode == "CMYK" else "photo.png")
    im.save(path)
    res = _run(warp_backend, image=path, crop=False)
    assert res.video.width == res.video.height == 160


def test_corrupt_and_non_image_files(warp_backend, tmp_path: Path) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(DEFAULT_IMAGE.read_bytes()[:3000])
    with pytest.raises(PipelineError, match=r"damaged|not a photo"):
        _run(warp_backend, image=broken)
    text = tmp_path / "notes.png"
    text.write_text("hello")
    with pytest.raises(PipelineError, match="not a photo"):
        _run(warp_backend, image=text)
    with pytest.raises(PipelineError, match="does not exist"):
        _run(warp_backend, image=tmp_path / "missing.png")


def test_bad_audio(warp_backend, tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt garbage" * 10)
    with pytest.raises(PipelineError, match=r"not audio|damaged"):
        _run(warp_backend, audio=corrupt)
    odd = tmp_path / "speech.xyz"
    odd.write_bytes(np.random.default_rng(0).bytes(5000))
    with pytest.raises(PipelineError, match="WAV"):
        _run(warp_backend, audio=odd)
    long = tmp_path / "long.wav"
    soundfile.write(str(long), np.zeros(601 * 8000, np.int16), 8000, "PCM_16")
    with pytest.raises(PipelineError, match="at most 10 minutes"):
        _run(warp_backend, audio=long)


def test_silent_audio_gives_a_breathing_portrait(warp_backend, tmp_path: Path) -> None:
    quiet = tmp_path / "quiet.wav"
    soundfile.write(str(quiet), np.zeros(16000, np.float32), 16000, "PCM_16")
    res = _run(warp_backend, audio=quiet, head_motion=1.0)
    assert any("silent" in n for n in res.metadata["notes"])
    assert res.video.duration == pytest.approx(1.0, abs=0.04)
    assert res.metadata["head_motion_range"]["dy"] > 0


def test_other_audio_formats_are_decoded(warp_backend, speech_wav, tmp_path: Path) -> None:
    import subprocess

    import imageio_ffmpeg

    m4a = tmp_path / "speech.m4a"
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(speech_wav), str(m4a)]
    subprocess.run(cmd, check=True)
    res = _run(warp_backend, audio=m4a, emotion="happy")
    assert res.video.duration == pytest.approx(4.0, abs=0.1)
