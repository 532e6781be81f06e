"""Property-based fuzz of every Request's parsing and of emotion strings: any input gives a valid
object or the error a person can act on (``PipelineError`` / ``EmotionError``), never another
exception; what parses can be stored (UTF-8 JSON) and read back equal."""

from __future__ import annotations

import contextlib
import dataclasses
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines import registry
from pipelines.base import PipelineError, Request, clean_text, coerce_emotion
from pipelines.emotion import EMOTIONS, EmotionError, EmotionSpec

TASKS = [t.name for t in registry.tasks(include_test=True)]
FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)

# Text that reaches the parsers in real use: labels and blend syntax, numbers, paths (including
# ones that escape or carry NUL), control characters, surrogates and other scripts.
WORDS = st.sampled_from([
    *EMOTIONS, "happy@0.5", "sad:0.7+angry:0.3", "vad:0.5,0.6,0.1", "vad:9,9,9", "auto", "",
    " ", "@", "+", ":", "happy@", "happy@nan", "happy@inf", "happy:-1", "vad:", "../../etc/passwd",
    "/etc/passwd", "a\x00b", "\x1b[31m", "\ud800", "नमस्ते", "😀", "us", "rp", "joe", "1e309",
])  # fmt: skip
TEXT = st.one_of(WORDS, st.text(max_size=40), st.lists(WORDS, max_size=4).map("".join))
SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
)
VALUE = st.recursive(
    SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def _fields(task: str) -> list[str]:
    return [f.name for f in dataclasses.fields(registry.request_type(task)) if f.init]


def _request_dicts(task: str) -> st.SearchStrategy[dict[str, object]]:
    names = _fields(task)
    example = registry.request_type(task).example().to_dict()
    # start from a valid request and break a few of its fields, sometimes adding a stray one
    changes = st.dictionaries(st.sampled_from(names), VALUE, max_size=3)
    stray = st.dictionaries(st.sampled_from(["bogus", "__class__", ""]), VALUE, max_size=1)
    return st.tuples(changes, stray).map(lambda cs: {**example, **cs[0], **cs[1]})


def _stored_and_read_back(req: Request) -> None:
    text = req.to_json()
    text.encode("utf-8")  # the store writes UTF-8: no lone surrogates may survive
    again = type(req).from_dict(json.loads(text))
    assert again == req


@pytest.mark.parametrize("task", TASKS)
def test_any_request_dict_gives_a_request_or_a_pipeline_error(task: str) -> None:
    req_type = registry.request_type(task)

    @FUZZ
    @given(data=_request_dicts(task))
    def check(data: dict[str, object]) -> None:
        try:
            req = req_type.from_dict(data)
        except PipelineError:
            return
        _stored_and_read_back(req)

    check()


@pytest.mark.parametrize("task", TASKS)
def test_any_json_value_as_a_request(task: str) -> None:
    req_type = registry.request_type(task)

    @FUZZ
    @given(data=VALUE)
    def check(data: object) -> None:
        try:
            req = req_type.from_dict(data)  # type: ignore[arg-type]
        except PipelineError:
            return
        _stored_and_read_back(req)

    check()


@FUZZ
@given(text=TEXT)
def test_any_emotion_string_parses_or_explains(text: str) -> None:
    try:
        spec = EmotionSpec.parse(text)
    except EmotionError as exc:
        assert str(exc)  # a message a person can read
        return
    assert spec.label in EMOTIONS
    assert EmotionSpec.parse(str(spec)) == spec
    assert coerce_emotion(str(spec)) == spec


@FUZZ
@given(value=VALUE)
def test_any_value_as_an_emotion(value: object) -> None:
    with contextlib.suppress(PipelineError):
        coerce_emotion(value)


@FUZZ
@given(text=st.text())
def test_clean_text_is_storable_and_stable(text: str) -> None:
    cleaned = clean_text(text)
    cleaned.encode("utf-8")
    assert clean_text(cleaned) == cleaned
    assert not any(ord(ch) < 32 and ch not in "\n\t" for ch in cleaned)


def test_control_characters_never_reach_a_stored_request() -> None:
    req = registry.request_type("voice").from_dict(
        {"text": "Hello\x00 there\x1b[2J,\r\nfriend\ud800.", "emotion": "happy"}
    )
    assert req.to_dict()["text"] == "Hello there[2J,\nfriend."  # type: ignore[attr-defined]
