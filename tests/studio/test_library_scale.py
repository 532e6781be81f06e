"""The Library at scale, studio side: the CLI's pages and filters, a bulk export of 1,000
generations that streams (memory flat) and lists every item, bulk re-run with another seed
and bulk delete on a filter."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from studio_server import cli

from pipelines.base import PipelineError
from projects_db import NewGeneration, Store
from studio import library_bulk
from studio.settings import Services, Settings


def _finished_library(data: Path, n: int) -> list[int]:
    """``n`` done generations in project "Big", each with a 16 kB audio file."""
    with Store.open(data) as store:
        pid = store.create_project("Big").id
        store.create_generations(pid, [
            NewGeneration(task="voice", backend="piper", backend_version="1", seed=i,
                          emotion=("happy", "sad")[i % 2], request={"text": f"take {i}"})
            for i in range(n)
        ])  # fmt: skip
        ids = [g.id for g in store.iter_generations(library_bulk.make_filter(pid))]
        for gid in ids:  # plain writes: the artifact store's fsync per file is not under test
            folder = store.artifacts.generation_dir(pid, gid)
            folder.mkdir(parents=True)
            (folder / "audio.wav").write_bytes(bytes([gid % 251]) * 16_000)
            rel = (folder / "audio.wav").relative_to(store.artifacts.data_dir).as_posix()
            store.mark_finished(gid, "done", artifacts={"audio": rel}, media_seconds=1.0)
    return ids


def _peak_export(services: Services, f: object, target: Path) -> tuple[int, int]:
    tracemalloc.start()
    try:
        n = library_bulk.export_zip(services, f, target)  # type: ignore[arg-type]
        return n, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_cli_pages_and_a_streamed_bulk_export(tmp_path: Path) -> None:
    data = tmp_path / "data"
    ids = _finished_library(data, 1000)  # newest first
    page2 = json.loads(cli(data, "generations", "list", "--project", "Big", "--limit", "10",
                           "--offset", "10", "--json").stdout)  # fmt: skip
    assert [g["id"] for g in page2] == ids[10:20]
    text = cli(data, "generations", "list", "--project", "Big", "--text", "take 7",
               "--emotion", "sad").stdout  # fmt: skip
    assert "1-50 of 56" in text  # take 7, 70-79, 700-799 that are odd: 1 + 5 + 50
    with Services.open(Settings(data_dir=data)) as services:
        project = next(p.id for p in services.store.list_projects() if p.name == "Big")
        everything = library_bulk.make_filter(project)
        some = library_bulk.make_filter(project, ids=f"{ids[-1]}-{ids[-200]}")
        # once unmeasured: Python interns every path part it meets (a process-wide table that
        # grows once), which is not the export's memory
        library_bulk.export_zip(services, everything, tmp_path / "warm.zip")
        n_all, peak_all = _peak_export(services, everything, tmp_path / "all.zip")
        n_some, peak_some = _peak_export(services, some, tmp_path / "some.zip")
        print(f"export peak memory: 1,000 items {peak_all:,} B, 200 items {peak_some:,} B")
    assert (n_all, n_some) == (1000, 200)
    # memory flat: five times the items, not five times the memory
    assert peak_all < 1.5 * peak_some + 500_000, (peak_all, peak_some)
    with zipfile.ZipFile(tmp_path / "all.zip") as zf:
        rows = list(csv.DictReader(io.StringIO(zf.read("manifest.csv").decode())))
        assert sorted(int(r["id"]) for r in rows) == sorted(ids)
        row = rows[0]
        assert json.loads(row["request"]) == {"text": f"take {row['seed']}"}
        assert zf.read(row["files"]) == bytes([int(row["id"]) % 251]) * 16_000
        assert len([n for n in zf.namelist() if n.endswith(".wav")]) == 1000
        assert zf.getinfo("manifest.csv").date_time[0] >= 2025  # dated now, not 1980
    out = cli(data, "generations", "export", "--project", "Big", "--emotion", "happy",
              "-o", str(tmp_path / "happy.zip")).stdout  # fmt: skip
    assert "Exported 500 generation(s)" in out


def test_bulk_rerun_with_another_seed_and_bulk_delete(tmp_path: Path) -> None:
    with Services.open(Settings(data_dir=tmp_path / "data")) as services:
        pid = services.store.create_project("p").id
        made = [services.generations.run(pid, "music", {"emotion": e, "bars": 2, "seed": 5},
                                         backend="tiny") for e in ("happy", "sad")]  # fmt: skip
        assert all(g.status == "done" for g in made)
        happy = library_bulk.make_filter(pid, emotion="happy")
        (child_id,) = library_bulk.rerun_matching(services, happy, seed_offset=3)
        child = services.generations.job(child_id).wait()  # type: ignore[union-attr]
        assert child.status == "done" and child.seed == 8 and child.parent_id == made[0].id
        folder = services.store.artifact_path(made[0], next(iter(made[0].artifacts))).parent
        assert library_bulk.delete_matching(services, happy) == 2  # the original and its child
        assert not folder.exists()
        left = services.store.list_generations(pid)
        assert [g.id for g in left] == [made[1].id]
    with pytest.raises(PipelineError, match="like 12, 15-20"):
        library_bulk.parse_ids("12, x")
    with pytest.raises(PipelineError, match="date like"):
        library_bulk.make_filter(1, since="yesterday")
