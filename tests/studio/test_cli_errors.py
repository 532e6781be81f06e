"""The command line run through its entry point (``studio.cli.main``) on a real data dir: bad input
files get one ``error:`` line naming the user's file and exit status 2, with nothing queued when
the file is plainly unreadable; MP3 output; deletes that say what goes; chat's plain panel;
compose's subtitle files; the stimulus manifest's plain values."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile
from PIL import Image

from studio import commands
from studio.cli import main
from studio.settings import Services, Settings

ROOT = Path(__file__).resolve().parents[2]
SPEECH = ROOT / "assets" / "portraits" / "sample_speech.wav"


def run_cli(capsys: pytest.CaptureFixture[str], data: Path, *argv: str) -> tuple[int, str, str]:
    rc = main([*argv, "--data-dir", str(data)])
    out = capsys.readouterr()
    return rc, out.out, out.err


def _generations(data: Path) -> list[tuple[str, str]]:
    with Services.open(Settings(data_dir=data)) as services:
        return [
            (g.task, g.status)
            for p in services.store.list_projects()
            for g in services.store.list_generations(p.id)
        ]


def test_unreadable_inputs_exit_2_name_the_file_and_queue_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    notes = tmp_path / "notes.txt"
    notes.write_text("hello\n")
    cases = [
        (["portrait", "--image", str(notes), "--audio", str(SPEECH)], "is not an image"),
        (["portrait", "--audio", str(notes)], "is not audio"),
        (["music", "--emotion", "happy", "--reference-midi", str(notes)], "not a MIDI file"),
        (["compose", "--text", "Hi there.", "--image", str(notes)], "is not an image"),
    ]
    for argv, words in cases:
        out = tmp_path / ("x.mid" if argv[0] == "music" else "x.mp4")
        rc, _, err = run_cli(capsys, data, *argv, "-o", str(out))
        lines = err.strip().splitlines()
        assert rc == 2 and len(lines) == 1 and re.match(r"error: (\w+ \w+ )?notes.txt ", err), err
        assert words in err and "()" not in err, err
        assert str(data) not in err and "assets" not in err  # not the internal stored copy
        assert not out.exists()
    assert _generations(data) == []  # nothing was queued, so the Library has no failed rows


def test_photo_without_a_face_exits_2_with_the_runs_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    photo = tmp_path / "sky.png"
    ramp = np.linspace(0, 255, 256, dtype=np.uint8)
    Image.fromarray(np.dstack([np.tile(ramp, (256, 1))] * 3)).save(photo)
    rc, _, err = run_cli(
        capsys, data, "portrait", "--image", str(photo), "--audio", str(SPEECH),
        "--no-check", "-o", str(tmp_path / "x.mp4"),
    )  # fmt: skip
    assert rc == 2 and err.startswith("error: No face found in sky.png.") and "#1" in err, err
    assert len(err.strip().splitlines()) == 1
    assert _generations(data) == [("portrait", "failed")]  # found only by the run


def test_voice_writes_mp3_refuses_other_types_and_shows_progress(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    text = "Good morning. The train leaves at nine. Please be on time."
    rc, _, err = run_cli(capsys, data, "voice", "--text", text, "-o", str(tmp_path / "x.aiff"))
    assert rc == 2 and ".wav, .mp3, .flac, .ogg" in err and _generations(data) == []

    monkeypatch.setattr(commands, "PROGRESS_EVERY_S", 0.0)
    mp3, wav = tmp_path / "speech.mp3", tmp_path / "speech.wav"
    rc, stdout, err = run_cli(capsys, data, "voice", "--text", text, "--json", "-o", str(mp3))
    assert rc == 0, err
    assert re.search(r"… [a-z].* \(\d+%, \d+ s\)", err), err  # the stage, while it ran
    assert json.loads(stdout)["status"] == "done"  # stdout stays pure JSON
    head = mp3.read_bytes()[:3]
    assert head == b"ID3" or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"), head
    with Services.open(Settings(data_dir=data)) as services:
        made = services.store.artifact_path(services.store.get_generation(1), "audio")
        reference, sr = soundfile.read(str(made))
    import imageio_ffmpeg

    decoded = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(mp3), "-ac", "1", "-ar",
         str(sr), "-f", "f32le", "-"], capture_output=True, check=True,
    ).stdout  # fmt: skip
    got = np.frombuffer(decoded, dtype="<f4")
    assert abs(len(got) / sr - len(reference) / sr) < 0.1  # the same speech, as MP3
    assert float(np.sqrt(np.mean(got**2))) == pytest.approx(
        float(np.sqrt(np.mean(reference**2))), rel=0.1
    )
    assert not wav.exists() and (tmp_path / "speech.timings.json").is_file()


def test_project_delete_lists_what_goes_and_needs_yes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from projects_db.stimuli import NewItem
    from studio.study import Studies

    data = tmp_path / "data"
    with Services.open(Settings(data_dir=data)) as services:
        pid = services.store.create_project("Study 1").id
        services.generations.run(pid, "tiny", {"text": "hi there"})
        items = [NewItem(i, {"emotion": e}, {"text": "x", "emotion": e}, 0)
                 for i, e in enumerate(["happy", "sad"])]  # fmt: skip
        made = services.store.create_stimulus_set(
            pid, name="grid", task="voice", backend="piper", spec={"factors": {}}, items=items
        )
        study = Studies(services).create(made.id, "emotion-id", 2, seed=5)
        rows = services.store.study_rows(study.id, study.participant_codes[0])
        assert services.store.answer_trial(rows[0].trial_id, "happy", 900)
    rc, _, err = run_cli(capsys, data, "projects", "delete", "Study 1")
    assert rc == 2 and "--yes" in err, err
    for words in ("1 generation ", f"1 stimulus set (#{made.id})", "with 1 answer"):
        assert words in err, err
    assert "Study 1" in run_cli(capsys, data, "projects", "list")[1]  # nothing deleted
    rc, out, _ = run_cli(capsys, data, "projects", "delete", "Study 1", "--yes")
    assert rc == 0 and f"study #{study.id}" in out and "1 answer" in out
    assert run_cli(capsys, data, "stimuli", "list")[1].startswith("No stimulus sets yet")
    assert run_cli(capsys, data, "study", "report", str(study.id))[0] == 2


def test_backends_list_takes_the_common_flags(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, err = run_cli(capsys, tmp_path, "backends", "list", "--model-dir", str(tmp_path))
    assert rc == 0 and "piper" in out, err
    rows = json.loads(run_cli(capsys, tmp_path, "backends", "--json")[1])
    assert {"voice", "music"} <= {r["task"] for r in rows}


def test_stimulus_export_manifest_has_plain_factor_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    spec = tmp_path / "grid.json"
    spec.write_text(json.dumps({
        "name": "accents", "task": "voice", "base": {"text": "Hello."}, "seed": 2,
        "factors": {"accent": ["us", "rp"], "rate": [0.9]},
    }))  # fmt: skip
    rc, _, err = run_cli(capsys, data, "stimuli", "make", "--spec", str(spec), "--workers", "1")
    assert rc == 0, err
    zpath = tmp_path / "set.zip"
    assert run_cli(capsys, data, "stimuli", "export", "1", "-o", str(zpath))[0] == 0
    with zipfile.ZipFile(zpath) as zf:
        rows = list(csv.DictReader(io.StringIO(zf.read("manifest.csv").decode("utf-8"))))
        assert [(r["accent"], r["rate"]) for r in rows] == [("us", "0.9"), ("rp", "0.9")]
        assert all(r["file"] in zf.namelist() for r in rows)


def test_chat_prints_only_the_cause_words_in_plain_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import dataclasses

    from studio.commands.chat import MAX_CAUSE_CHARS, cause_words

    data = tmp_path / "data"
    message = "I lost my job today and I feel awful. My *boss* said [nothing]_ at all."
    rc, reply, err = run_cli(capsys, data, "chat", "--backend", "tiny", "--text", message)
    assert rc == 0 and reply.strip(), err
    line = next(x for x in err.splitlines() if x.startswith("Cause words: "))
    words = line.removeprefix("Cause words: ").split(", ")
    assert "lost" in words and len(words) < 6 and message not in err
    assert all(w in message for w in words)
    assert "\\" not in err and "**" not in err and "→ *" not in err  # no Markdown left
    long = (message + " ") * 280  # 20,000 characters
    rc, _, err = run_cli(capsys, data, "chat", "--backend", "tiny", "--text", long[:20000])
    line = next(x for x in err.splitlines() if x.startswith("Cause words: "))
    assert rc == 0 and len(line) <= len("Cause words: ") + MAX_CAUSE_CHARS
    with Services.open(Settings(data_dir=data)) as services:
        conv = services.store.list_conversations()[0]
        turn = services.store.list_turns(conv.id)[-1]
    many = dataclasses.replace(
        turn, user_text=" ".join(f"word{i}" for i in range(300)),
        cause_words=[(f"word{i}", 1.0) for i in range(300)],
    )  # fmt: skip
    cut = cause_words(many)
    assert len(cut) <= MAX_CAUSE_CHARS and cut.startswith("word0, word1, ") and cut.endswith("…")


def test_compose_writes_srt_and_vtt(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data, srt, vtt = tmp_path / "data", tmp_path / "c.srt", tmp_path / "c.vtt"
    rc, out, err = run_cli(
        capsys, data, "compose", "--text", "We did it. We really did it.", "--no-music",
        "--size", "128", "-o", str(tmp_path / "c.mp4"), "--srt", str(srt), "--vtt", str(vtt),
    )  # fmt: skip
    assert rc == 0 and "c.srt" in out and "c.vtt" in out, err
    cues = re.findall(r"(\d\d:\d\d:\d\d)[,.](\d{3}) --> ", srt.read_text(encoding="utf-8"))
    assert len(cues) == 2 and "We really did it" in srt.read_text(encoding="utf-8")
    text = vtt.read_text(encoding="utf-8")
    assert text.startswith("WEBVTT") and [c[0] for c in cues] == re.findall(
        r"(\d\d:\d\d:\d\d)\.\d{3} --> ", text
    )
