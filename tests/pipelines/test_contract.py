"""The pipeline contract, run over every registered backend (new backends join automatically)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from pipelines import registry
from pipelines.base import Cancelled, CancelToken, LoadSettings, PipelineError, Request, Result
from pipelines.media import Artifact

# Backends that need a user's server or checkpoint run these checks in their own tests, against
# a real local server (dialogue/openai) or a tiny checkpoint built in its environment (parler).
SPECS = [s for s in registry.backends(include_test=True) if not s.needs_setup]


@pytest.fixture(scope="module", params=SPECS, ids=lambda s: f"{s.task}-{s.name}")
def loaded(request: pytest.FixtureRequest):
    spec = request.param
    cls = registry.backend_class(spec.task, spec.name)
    return spec, cls.load(LoadSettings())


def test_every_task_has_a_default_and_a_tiny_backend() -> None:
    for t in registry.tasks(include_test=True):
        names = [b.name for b in registry.backends(t.name, include_test=True)]
        assert "tiny" in names, f"task {t.name} has no tiny backend"
        assert registry.backend_spec(t.name).default


def test_result_types_and_artifacts(loaded, tmp_path) -> None:
    spec, backend = loaded
    req_type = registry.request_type(spec.task)
    assert backend.request_type is req_type
    seen: list[float] = []
    result = backend.run(req_type.example(seed=1), progress=lambda f, _s: seen.append(f))
    assert isinstance(result, Result)
    assert result.artifacts, "a result must carry at least one artifact"
    for name, art in result.artifacts.items():
        assert isinstance(art, Artifact), name
        out = tmp_path / f"{name}{art.suffix}"
        art.write(out)
        assert out.stat().st_size > 0
    assert result.media_seconds > 0
    json.dumps(result.metadata)
    assert seen and all(0.0 <= f <= 1.0 for f in seen)
    assert seen == sorted(seen), "progress must not go backwards"


def test_same_seed_same_output_and_other_seed_differs(loaded) -> None:
    spec, backend = loaded
    req_type = registry.request_type(spec.task)

    def prints(seed: int) -> dict[str, str]:
        res = backend.run(req_type.example(seed=seed))
        return {k: a.fingerprint() for k, a in res.artifacts.items()}

    assert prints(7) == prints(7)
    assert prints(7) != prints(8)


def test_cancel_stops_work(loaded) -> None:
    spec, backend = loaded
    req = registry.request_type(spec.task).example()
    token = CancelToken()
    calls: list[float] = []

    def progress(fraction: float, _stage: str) -> None:
        calls.append(fraction)
        token.cancel()  # cancel as soon as the job reports anything

    with pytest.raises(Cancelled):
        backend.run(req, progress=progress, cancel=token)
    assert len(calls) == 1, "the job must stop at its next check after a cancel"


def test_request_round_trips_through_json(loaded) -> None:
    spec, _ = loaded
    req_type = registry.request_type(spec.task)
    req = req_type.example(seed=5)
    again = req_type.from_dict(json.loads(req.to_json()))
    assert again == req
    assert dataclasses.is_dataclass(req) and isinstance(req, Request)
    with pytest.raises(dataclasses.FrozenInstanceError):
        req.seed = 3  # type: ignore[misc]


def test_bad_requests_raise_pipeline_error(loaded) -> None:
    spec, _ = loaded
    req_type = registry.request_type(spec.task)
    bad = req_type.bad_examples()
    assert bad, "every request type must list bad examples"
    base = req_type.example().to_dict()
    for changes in bad:
        with pytest.raises(PipelineError) as info:
            req_type.from_dict({**base, **changes})
        assert len(str(info.value)) > 10, f"message too terse for {changes}"


def test_registry_errors_are_actionable() -> None:
    with pytest.raises(PipelineError, match="Valid tasks"):
        registry.task("nope")
    with pytest.raises(PipelineError, match="Valid backends"):
        registry.backend_spec("tiny", "nope")
