"""Dialogue tab: chat with streaming replies, the per-turn analysis panel, persona, backend."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gradio as gr

from pipelines.dialogue.request import TRAITS
from studio.dialogue import DEFAULT_PERSONA, Dialogue, persona_from, turn_panel
from studio.ui import HEAVY, USER_ERRORS, TabContext, problem


def build_tab(ctx: TabContext) -> None:
    dialogue = Dialogue(ctx.services)
    project = ctx.project

    with gr.Tab("Dialogue", id="dialogue") as tab:
        status = gr.Markdown(elem_id="dialogue-status")
        with gr.Row():
            with gr.Column(scale=3):
                with gr.Row(equal_height=True):
                    conversation = gr.Dropdown(
                        dialogue.conversation_choices(None), value=None, label="Conversation",
                        elem_id="dialogue-conversation", scale=3,
                    )  # fmt: skip
                    new = gr.Button("New conversation", elem_id="dialogue-new")
                chat = gr.Chatbot(label="Chat", height=420, elem_id="dialogue-chat")
                with gr.Row(equal_height=True):
                    message = gr.Textbox(
                        label="Your message", placeholder="How are you feeling today?",
                        scale=4, elem_id="dialogue-message",
                    )  # fmt: skip
                    send = gr.Button("Send", variant="primary", elem_id="dialogue-send")
                panel = gr.Markdown(elem_id="dialogue-panel")
                with gr.Row():
                    speak = gr.Button("Speak this reply", elem_id="dialogue-speak")
                    film = gr.Button("Make a video of this reply", elem_id="dialogue-video")
                    export = gr.Button("Export JSON", elem_id="dialogue-export")
                export_file = gr.File(label="Exported conversation", interactive=False)
            with gr.Column(scale=2):
                name = gr.Textbox(DEFAULT_PERSONA["name"], label="Persona name")
                style = gr.Textbox(DEFAULT_PERSONA["style"], label="Persona style")
                traits = [
                    gr.Slider(0, 1, value=DEFAULT_PERSONA[t], step=0.05, label=t.capitalize())
                    for t in TRAITS
                ]
                emotion_prompt = gr.Checkbox(False, label="EmotionPrompt stimuli")
                backends = dialogue.backend_choices()
                backend = gr.Dropdown(
                    backends, value=backends[0] if backends else None, label="Backend"
                )
                with gr.Accordion("OpenAI-compatible server", open=False):
                    url = gr.Textbox(label="Base URL", placeholder="http://127.0.0.1:8080/v1")
                    model = gr.Textbox(label="Model")
                    key = gr.Textbox(label="API key (not stored)", type="password")
        persona_inputs = [name, style, *traits, emotion_prompt]

        def persona(*values: Any) -> dict[str, Any]:
            keys = ["name", "style", *TRAITS, "emotion_prompt"]
            return persona_from(dict(zip(keys, values, strict=True)))

        def refresh(pid: int | None, cid: int | None) -> Any:
            return gr.update(choices=dialogue.conversation_choices(pid), value=cid)

        def on_new(pid: int | None, b: str, *values: Any) -> list[Any]:
            try:
                conv = dialogue.start(pid, persona(*values), b)
            except USER_ERRORS as exc:
                return [problem(exc), gr.skip(), gr.skip()]
            return [f"Started conversation #{conv.id}.", refresh(pid, conv.id), []]

        new.click(on_new, [project, backend, *persona_inputs], [status, conversation, chat])

        def on_open(b: str | None) -> None:
            """Load the chosen model in the background, so the first reply comes fast."""
            if b:
                ctx.services.generations.warm("dialogue", b)

        tab.select(on_open, [backend], None, queue=False)
        backend.change(on_open, [backend], None, queue=False)

        def on_pick(cid: int | None) -> list[Any]:
            try:
                turns = ctx.services.store.list_turns(int(cid)) if cid else []
                return [dialogue.chat_messages(cid), turn_panel(turns[-1]) if turns else ""]
            except USER_ERRORS as exc:
                return [[], problem(exc)]

        conversation.input(on_pick, [conversation], [chat, panel])
        project.change(lambda pid: refresh(pid, None), [project], [conversation], queue=False)

        def on_send(
            pid: int | None,
            cid: int | None,
            text: str,
            b: str,
            u: str,
            m: str,
            k: str,
            *values: Any,
        ) -> Iterator[list[Any]]:
            try:
                if not cid:
                    cid = dialogue.start(pid, persona(*values), b).id
                else:
                    ctx.services.store.update_conversation(
                        int(cid), persona=persona(*values), backend=b
                    )
                history = [*dialogue.chat_messages(cid), {"role": "user", "content": text}]
                yield ["✍️ replying…", gr.skip(), history, "", gr.skip()]
                for update in dialogue.send(
                    int(cid), text, server={"url": u, "model": m, "key": k}
                ):
                    shown = update.partial or (
                        f"💭 thinking… ({update.thinking})" if update.thinking else "…"
                    )
                    chat_now = [*history, {"role": "assistant", "content": shown}]
                    if update.turn is None:
                        yield [gr.skip(), gr.skip(), chat_now, gr.skip(), gr.skip()]
                    else:
                        notes = (
                            update.generation.metadata.get("notes", []) if update.generation else []
                        )
                        yield [
                            " ".join(notes) or "✅ Replied.",
                            refresh(pid, cid),
                            chat_now,
                            "",
                            turn_panel(update.turn),
                        ]
            except USER_ERRORS as exc:
                yield [problem(exc), gr.skip(), gr.skip(), gr.skip(), gr.skip()]

        send_inputs = [project, conversation, message, backend, url, model, key, *persona_inputs]
        send_outputs = [status, conversation, chat, message, panel]
        for trigger in (send.click, message.submit):
            trigger(on_send, send_inputs, send_outputs, concurrency_id=HEAVY)

        def send_reply(cid: int | None, task: str) -> str:
            try:
                gid = dialogue.speak(int(cid), task) if cid else None
            except USER_ERRORS as exc:
                return problem(exc)
            if not gid:
                return "Pick a conversation first."
            where = "Voice" if task == "voice" else "Compose (talking portrait with music)"
            return f"Sent to {where} as generation #{gid} (see the Library)."

        speak.click(lambda c: send_reply(c, "voice"), [conversation], [status])
        film.click(lambda c: send_reply(c, "compose"), [conversation], [status])

        def on_export(cid: int | None) -> list[Any]:
            if not cid:
                return ["Pick a conversation first.", None]
            path = ctx.services.settings.data_dir / "exports" / f"conversation-{int(cid)}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(dialogue.export_json(int(cid)), encoding="utf-8")
            return [f"Exported to {path.name}.", str(path)]

        export.click(on_export, [conversation], [status, export_file])
