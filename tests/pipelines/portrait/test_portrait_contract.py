"""The shared pipeline contract, run directly on the portrait backends (before and after they
are registered): types, progress, seeds, cancel, JSON round trip, bad requests."""

from __future__ import annotations

import dataclasses
import json

import pytest

from pipelines.base import Cancelled, CancelToken, LoadSettings, PipelineError, Result
from pipelines.media import Artifact
from pipelines.portrait.landmark_warp import WarpBackend
from pipelines.portrait.request import PortraitRequest
from pipelines.portrait.tiny import TinyPortraitBackend


@pytest.fixture(scope="module", params=[WarpBackend, TinyPortraitBackend], ids=["warp", "tiny"])
def backend(request: pytest.FixtureRequest):
    return request.param.load(LoadSettings())


def test_result_types_and_artifacts(backend, tmp_path) -> None:
    assert backend.request_type is PortraitRequest
    seen: list[float] = []
    result = backend.run(PortraitRequest.example(seed=1), progress=lambda f, _s: seen.append(f))
    assert isinstance(result, Result) and set(result.artifacts) == {"video", "stills"}
    for name, art in result.artifacts.items():
        assert isinstance(art, Artifact)
        out = tmp_path / f"{name}{art.suffix}"
        art.write(out)
        assert out.stat().st_size > 0
    assert result.media_seconds > 0
    json.dumps(result.metadata)
    assert seen and seen == sorted(seen) and all(0 <= f <= 1 for f in seen)


def test_same_seed_same_files_other_seed_differs(backend) -> None:
    def prints(seed: int) -> dict[str, str]:
        res = backend.run(PortraitRequest.example(seed=seed))
        return {k: a.fingerprint() for k, a in res.artifacts.items()}

    assert prints(7) == prints(7)
    assert prints(7) != prints(8)


def test_cancel_stops_at_the_next_check(backend) -> None:
    token = CancelToken()
    calls: list[float] = []

    def progress(fraction: float, _stage: str) -> None:
        calls.append(fraction)
        token.cancel()

    with pytest.raises(Cancelled):
        backend.run(PortraitRequest.example(), progress=progress, cancel=token)
    assert len(calls) == 1


def test_request_round_trip_and_bad_requests() -> None:
    req = PortraitRequest.example(seed=5)
    assert PortraitRequest.from_dict(json.loads(req.to_json())) == req
    with pytest.raises(dataclasses.FrozenInstanceError):
        req.seed = 3  # type: ignore[misc]
    base = req.to_dict()
    for changes in PortraitRequest.bad_examples():
        with pytest.raises(PipelineError) as info:
            PortraitRequest.from_dict({**base, **changes})
        assert len(str(info.value)) > 10


def test_example_is_quick(backend) -> None:
    import time

    t0 = time.perf_counter()
    backend.run(PortraitRequest.example())
    assert time.perf_counter() - t0 < 2.0
