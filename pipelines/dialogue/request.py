"""The dialogue task's request and result: one user message → one empathetic reply, analysed.

A request carries the whole context a backend needs (earlier turns, the agent's previous
emotion, the persona), so ``run`` stays reentrant and a stored request re-runs exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from pipelines.base import Request, Result, coerce_emotion, require, require_number
from pipelines.emotion import EmotionSpec

MAX_MESSAGE_CHARS = 100_000
"""Longer messages are refused; anything past PROMPT_MESSAGE_CHARS is cut for the model."""
PROMPT_MESSAGE_CHARS = 1_500
"""How much of a message the model reads (head and tail kept); the result says when it cut."""
MAX_HISTORY_TURNS = 500
MAX_CANDIDATES = 8
TRAITS: tuple[str, ...] = (
    "openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism",
)  # fmt: skip
"""The Big-Five traits, each 0-1 on the request (0.5 = average)."""
STREAM_STAGE = "reply so far: "
"""Progress stages that start with this carry the raw model text generated so far."""


@dataclass(frozen=True)
class DialogueRequest(Request):
    """One turn of an empathetic conversation."""

    task: ClassVar[str] = "dialogue"
    message: str = "Hello."
    """What the user just said."""
    history: tuple[tuple[str, str], ...] = ()
    """Earlier (user message, agent reply) pairs, oldest first; the prompt keeps the newest."""
    previous_emotion: EmotionSpec | None = None
    """The agent's emotion in its previous reply (the transition starts there; None: neutral)."""
    persona_name: str = "Sam"
    persona_style: str = "warm, calm and concise"
    """How the persona talks, in a few words."""
    openness: float = 0.5
    conscientiousness: float = 0.5
    extraversion: float = 0.5
    agreeableness: float = 0.7
    neuroticism: float = 0.3
    emotion_prompt: bool = False
    """Append EmotionPrompt stimulus phrases to the instructions."""
    structured: bool = True
    """Ask for the Kardia four-part structure (understanding, reasoning, emotion, response)."""
    candidates: int = 0
    """Replies sampled and judged by the strict rubric, the best one kept (best-of-n);
    0 = the backend's default (4 for the bundled model, 1 for a chat server)."""
    max_new_tokens: int = 160
    temperature: float = 0.7
    """0 = greedy (then the seed changes nothing)."""
    top_p: float = 0.9
    server_url: str = ""
    """OpenAI-compatible backend only: base URL, e.g. http://127.0.0.1:8080/v1."""
    server_model: str = ""
    """OpenAI-compatible backend only: the model name the server knows."""
    api_key: str = field(default="", repr=False, compare=False)
    """OpenAI-compatible backend only; never stored (``to_dict`` leaves it out)."""
    timeout_s: float = 60.0
    """OpenAI-compatible backend only: give up on a silent server after this long."""

    def __post_init__(self) -> None:
        super().__post_init__()
        require(isinstance(self.message, str), "The message must be text.")
        require(bool(self.message.strip()), "The message is empty — type something to say.")
        require(
            len(self.message) <= MAX_MESSAGE_CHARS,
            f"The message is {len(self.message):,} characters; at most {MAX_MESSAGE_CHARS:,} "
            "are accepted (and the model reads the first and last part of long ones).",
        )
        require(isinstance(self.history, tuple), "history must be a list of [user, reply] pairs.")
        require(
            len(self.history) <= MAX_HISTORY_TURNS,
            f"history has {len(self.history)} turns; at most {MAX_HISTORY_TURNS}.",
        )
        for pair in self.history:
            require(
                isinstance(pair, tuple)
                and len(pair) == 2
                and all(isinstance(s, str) for s in pair),
                f"Each history entry must be a [user, reply] pair of texts, got {pair!r}.",
            )
        if self.previous_emotion is not None:
            object.__setattr__(self, "previous_emotion", coerce_emotion(self.previous_emotion))
        for name in ("persona_name", "persona_style", "server_url", "server_model", "api_key"):
            require(isinstance(getattr(self, name), str), f"{name} must be text.")
        require(
            0 < len(self.persona_name.strip()) <= 40,
            "The persona needs a name of 1-40 characters.",
        )
        require(len(self.persona_style) <= 300, "Keep the persona style under 300 characters.")
        for trait in TRAITS:
            require_number(trait, getattr(self, trait), 0.0, 1.0)
        require(isinstance(self.emotion_prompt, bool), "emotion_prompt must be true or false.")
        require(isinstance(self.structured, bool), "structured must be true or false.")
        require(
            isinstance(self.max_new_tokens, int) and 8 <= self.max_new_tokens <= 1024,
            f"max_new_tokens must be a whole number from 8 to 1024, got {self.max_new_tokens!r}.",
        )
        require(
            isinstance(self.candidates, int) and 0 <= self.candidates <= MAX_CANDIDATES,
            f"candidates must be a whole number from 0 (backend default) to {MAX_CANDIDATES}, "
            f"got {self.candidates!r}.",
        )
        require_number("temperature", self.temperature, 0.0, 2.0)
        require_number("top_p", self.top_p, 0.05, 1.0)
        require_number("timeout_s", self.timeout_s, 1.0, 600.0)
        if self.server_url:
            require(
                self.server_url.startswith(("http://", "https://")),
                f"The server URL must start with http:// or https://, got {self.server_url!r}.",
            )

    @property
    def traits(self) -> dict[str, float]:
        """The Big-Five traits by name."""
        return {t: float(getattr(self, t)) for t in TRAITS}

    @property
    def emotion_label(self) -> str | None:
        return None  # known only after the run: the planned reply emotion lives in metadata

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data.pop("api_key", None)  # secrets never reach the project store
        return data

    @classmethod
    def example(cls, seed: int = 0) -> Self:
        return cls(
            message="I failed my driving test again today and I feel awful.",
            max_new_tokens=24,
            temperature=0.9,
            seed=seed,
        )

    @classmethod
    def bad_examples(cls) -> list[dict[str, Any]]:
        return [
            {"message": ""},
            {"message": "   "},
            {"message": "x" * (MAX_MESSAGE_CHARS + 1)},
            {"agreeableness": 1.5},
            {"neuroticism": "high"},
            {"max_new_tokens": 0},
            {"candidates": 9},
            {"temperature": -1},
            {"previous_emotion": "hapy"},
            {"history": [["only one side"]]},
            {"persona_name": ""},
            {"server_url": "ftp://example"},
            {"seed": -1},
            {"nonsense": 1},
        ]


@dataclass
class DialogueResult(Result):
    """A reply plus everything the studio shows next to it (also in ``metadata``)."""

    reply: str = ""
    """The final reply text (after the safety layer)."""
    turn: dict[str, Any] = field(default_factory=dict)
    """The analysis: understanding, plan, structure, safety, rubric, generation figures."""
