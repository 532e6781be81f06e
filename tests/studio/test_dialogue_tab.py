"""Dialogue tab logic and the ``chat`` command, without a browser (tiny backend, real store)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator

import gradio as gr
import pytest

from pipelines import registry
from pipelines.base import PipelineError
from studio.commands import chat
from studio.dialogue import Dialogue, turn_panel
from studio.settings import Services
from studio.ui import TabContext

DIALOGUE_TASK = registry.TaskSpec(
    "dialogue", "Dialogue", "pipelines.dialogue.request:DialogueRequest"
)
DIALOGUE_BACKENDS = (
    registry.BackendSpec(
        "dialogue", "smollm", "pipelines.dialogue.smollm:SmolLMBackend", "SmolLM2", default=True
    ),
    registry.BackendSpec(
        "dialogue", "openai", "pipelines.dialogue.openai_compat:OpenAIBackend", "server"
    ),
    registry.BackendSpec(
        "dialogue", "tiny", "pipelines.dialogue.tiny:TinyDialogueBackend", "tests", test_only=True
    ),
)


@pytest.fixture(autouse=True)
def dialogue_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """The registry lines the dialogue task adds (a no-op once they are registered)."""
    if not any(t.name == "dialogue" for t in registry.TASKS):
        monkeypatch.setattr(registry, "TASKS", (*registry.TASKS, DIALOGUE_TASK))
        monkeypatch.setattr(registry, "BACKENDS", (*registry.BACKENDS, *DIALOGUE_BACKENDS))


@pytest.fixture()
def dialogue(services: Services) -> Iterator[Dialogue]:
    yield Dialogue(services)


def test_five_turn_conversation_persists_streams_and_resumes(
    dialogue: Dialogue, services: Services
) -> None:
    """A real conversation on the bundled model, streamed through the generation service."""
    conv = dialogue.start(None, {"name": "Ada", "agreeableness": 0.9}, "smollm")
    messages = [
        "I failed my exam today.",
        "I studied so hard for it.",
        "My parents will be disappointed.",
        "I'm scared to tell them.",
        "Thanks for listening.",
    ]
    partials = thinking = 0
    for i, text in enumerate(messages):
        updates = list(dialogue.send(conv.id, text, seed=i, max_new_tokens=48, poll=0.02))
        last = updates[-1]
        assert last.turn is not None and last.turn.idx == i and last.turn.reply.strip()
        grown = [u.partial for u in updates if u.turn is None and u.partial]
        assert all(last.turn.reply.startswith(p) for p in grown)  # the chosen reply streams
        partials += len(grown)
        thinking += sum(bool(u.thinking) for u in updates)
    assert partials >= 5 and thinking >= 5  # "thinking" while 4 candidates were written
    turns = services.store.list_turns(conv.id)
    assert [t.user_text for t in turns] == messages
    assert turns[1].planned_emotion and turns[1].detected["label"]
    assert turns[0].generation_id is not None
    req = dialogue.build_request(conv.id, "One more thing.")
    assert len(req.history) == 5 and req.persona_name == "Ada" and req.agreeableness == 0.9
    assert str(req.previous_emotion) == turns[-1].planned_emotion
    chat_view = dialogue.chat_messages(conv.id)
    assert len(chat_view) == 10 and chat_view[1]["role"] == "assistant"
    exported = json.loads(dialogue.export_json(conv.id))
    assert len(exported["turns"]) == 5
    panel = turn_panel(turns[3])
    assert "Detected:" in panel and "Rubric:" in panel and "Beyond-No" in panel
    assert "**Strict rubric:** ✅ passes" in panel  # what the person saw passed the judge
    assert dialogue.conversation_choices(conv.project_id)[0][1] == conv.id


def test_crisis_turn_is_recorded_with_help(dialogue: Dialogue, services: Services) -> None:
    conv = dialogue.start(None, {}, "tiny")
    last = list(dialogue.send(conv.id, "I want to kill myself.", poll=0.01))[-1]
    assert last.turn is not None and "988" in last.turn.reply


def test_build_tab_constructs(services: Services) -> None:
    from studio import dialogue_tab

    with gr.Blocks() as demo:
        project = gr.Dropdown(choices=[], value=None)
        dialogue_tab.build_tab(TabContext(services, project))
    assert demo is not None


def _args(**kw: object) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    chat.add_parser(sub, argparse.ArgumentParser(add_help=False))
    argv = ["chat", "--message", str(kw.pop("message", "I miss my grandmother."))]
    for key, value in kw.items():
        argv += [f"--{key.replace('_', '-')}"] + ([] if value is True else [str(value)])
    return parser.parse_args(argv)


def test_chat_command(services: Services, capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    persona = tmp_path / "persona.json"
    persona.write_text(json.dumps({"name": "Robin", "neuroticism": 0.9}))
    assert chat.run(_args(backend="tiny", json=True, persona=persona), services) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["reply"] and data["idx"] == 0 and data["detected"]["label"] == "sad"
    cid = data["conversation_id"]
    assert services.store.get_conversation(cid).persona["name"] == "Robin"
    assert chat.run(_args(message="Thanks.", conversation=cid), services) == 0
    out = capsys.readouterr()
    assert out.out.strip() and "turn 2" in out.err
    assert len(services.store.list_turns(cid)) == 2


def test_a_reply_becomes_a_voice_clip_and_a_video(dialogue: Dialogue, services: Services) -> None:
    import time

    conv = dialogue.start(None, {}, "tiny")
    with pytest.raises(PipelineError, match="no reply"):
        dialogue.speak(conv.id)
    last = list(dialogue.send(conv.id, "I got the job I wanted!", poll=0.01))[-1]
    assert last.turn is not None
    ids = {task: dialogue.speak(conv.id, task) for task in ("voice", "compose")}
    deadline = time.monotonic() + 240
    infos = {}
    while time.monotonic() < deadline:
        infos = {t: services.store.get_generation(g) for t, g in ids.items()}
        if all(i.status in ("done", "failed", "cancelled") for i in infos.values()):
            break
        time.sleep(0.1)
    for task, info in infos.items():
        assert info.status == "done", (task, info.error)
        assert info.request["text"] == last.turn.reply[:2000]
        assert info.emotion == (last.turn.planned_emotion or "neutral").split("@")[0].split(":")[0]
    assert "video" in infos["compose"].artifacts


def test_opening_the_tab_prepares_the_bundled_model_once(services: Services) -> None:
    """``warm`` (what opening the Dialogue tab calls) loads the backend on the generation
    worker and computes the prompt head's model state that the first turn then reuses."""
    future = services.generations.warm("dialogue", "smollm")
    assert future is not None
    future.result(timeout=120)
    assert services.generations.warm("dialogue", "smollm") is None  # once per backend
    backend, load_s = services.generations._backend("dialogue", "smollm")
    assert load_s == 0.0 and backend.model.cached_prefixes == 1  # type: ignore[attr-defined]
    result = backend.run(registry.request_type("dialogue").from_dict({"message": "Hello."}))
    assert result.reply and backend.model.cached_prefixes == 1  # type: ignore[attr-defined]
