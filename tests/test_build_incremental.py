"""Incremental, parallel builds: only changed articles are redone, and the result is the same
store, dump and report that a build from scratch gives."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import Future
from pathlib import Path

import pyoxigraph as ox
import pytest

import kg.batch as build_batch
from kg import load, pipeline, validate
from kg.batch.cache import CODE, Cache, Entry, Manifest
from kg.batch.progress import Progress, wanted
from kg.batch.worker import Job
from kg.errors import KgError
from kg.pipeline import _copy_range, _DumpReuse, _StreamedDump, build
from kg.synth import synthesize

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "reference"
ARTICLE = "https://w3id.org/dkg/id/article/"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("corpus")
    synthesize(24, seed=21, out_dir=out)
    return out / "articles"


def dump_lines(out: Path) -> list[str]:
    lines = (out / "dataset.nq").read_text(encoding="utf-8").splitlines()
    return sorted(re.sub(r"_:\w+", "_:", line) for line in lines)


def dump_in_order(out: Path) -> list[str]:
    """OUT/dataset.nq line by line as written (blank nodes as `_:`)."""
    lines = (out / "dataset.nq").read_text(encoding="utf-8").splitlines()
    return [re.sub(r"_:\w+", "_:", line) for line in lines]


def store_lines(out: Path) -> list[str]:
    """The store as sorted N-Quads; blank nodes (ontology and shapes lists only) as `_:`."""
    store = ox.Store.read_only(str(out / "store"))
    data = ox.serialize(store, format=ox.RdfFormat.N_QUADS) or b""
    return sorted(re.sub(r"_:\w+", "_:", line) for line in data.decode("utf-8").splitlines())


def graphs(out: Path) -> set[str]:
    store = ox.Store.read_only(str(out / "store"))
    return {g.value for g in store.named_graphs() if g.value.startswith(ARTICLE)}


def test_first_build_processes_every_article_across_workers(articles, tmp_path):
    result = build(articles, tmp_path / "out", REFERENCE, workers=2)
    assert (result.processed, result.reused, result.store_update) == (24, 0, "bulk load")
    assert len(result.articles) == 24 and not result.skipped
    assert result.quads == len(store_lines(tmp_path / "out")) == len(dump_lines(tmp_path / "out"))


def sorted_files(store: Path) -> list[str]:
    return sorted(f.name for f in store.iterdir() if f.suffix == ".sst")


def test_compact_merges_a_store_written_in_several_batches_and_keeps_its_quads(tmp_path):
    store = ox.Store(str(tmp_path / "store"))
    for batch in range(3):  # each flush leaves sorted files of its own, as bulk-load batches do
        store.extend(
            ox.Quad(ox.NamedNode(f"{ARTICLE}{batch}-{n}"), ox.NamedNode(f"{ARTICLE}p"),
                    ox.Literal(str(n)), ox.NamedNode(f"{ARTICLE}{batch}"))
            for n in range(200)
        )  # fmt: skip
        store.flush()
    del store
    before = sorted_files(tmp_path / "store")
    load.compact(tmp_path / "store")
    after = sorted_files(tmp_path / "store")
    assert len(after) < len(before)
    assert len(ox.Store.read_only(str(tmp_path / "store"))) == 600


def test_full_build_syncs_its_dump_and_compacts_unless_told_not_to_and_a_rebuild_does_neither(
    articles, tmp_path
):
    out = tmp_path / "out"
    full = build(articles, out, REFERENCE, workers=2)
    assert full.store_update == "bulk load" and "compact" in full.seconds
    assert "sync" in full.seconds
    changed = sorted(articles.glob("*.txt"))[3]
    changed.write_text(changed.read_text(encoding="utf-8") + "\nTalks go on.\n", encoding="utf-8")
    again = build(articles, out, REFERENCE, workers=2)
    assert again.store_update == "incremental" and "compact" not in again.seconds
    assert "sync" not in again.seconds
    assert "dump and load" in again.seconds
    loose = build(articles, tmp_path / "loose", REFERENCE, workers=2, compact=False)
    assert loose.store_update == "bulk load" and "compact" not in loose.seconds
    assert store_lines(tmp_path / "loose") == store_lines(out)


@pytest.mark.parametrize(("options", "says"), [
    ([], "store: bulk load, compacted;"),
    (["--no-compact"], "store: bulk load;"),
])  # fmt: skip
def test_kg_build_says_whether_it_compacted_the_store(options, says, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "kg.cli", "build", *options, "--out", str(tmp_path / "out")],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert says in done.stdout


def test_rebuild_with_nothing_changed_reuses_every_article_and_keeps_the_store(articles, tmp_path):
    out = tmp_path / "out"
    build(articles, out, REFERENCE, workers=2)
    live = (out / "current").resolve()
    again = build(articles, out, REFERENCE, workers=2)
    assert (again.processed, again.reused, again.store_update) == (0, 24, "unchanged")
    assert (out / "current").resolve() == live


def test_changed_article_alone_is_redone_and_the_store_equals_a_build_from_scratch(
    articles, tmp_path
):
    out = tmp_path / "out"
    build(articles, out, REFERENCE, workers=2)
    changed = sorted(articles.glob("*.txt"))[5]
    changed.write_text(
        changed.read_text(encoding="utf-8") + '\n"A brand new quote for the test," he said.\n',
        encoding="utf-8",
    )
    result = build(articles, out, REFERENCE, workers=2)
    assert (result.processed, result.reused, result.store_update) == (1, 23, "incremental")
    scratch = tmp_path / "scratch"
    fresh = build(articles, scratch, REFERENCE, workers=2)
    assert store_lines(out) == store_lines(scratch)
    assert dump_in_order(out) == dump_in_order(scratch)  # copied from the old dump, in order
    assert result.quads == fresh.quads == len(store_lines(out))
    assert result.report == fresh.report


def test_removed_article_loses_its_graph(articles, tmp_path):
    out = tmp_path / "out"
    build(articles, out, REFERENCE, workers=2)
    gone = sorted(articles.glob("*.txt"))[0]
    gone.unlink()
    result = build(articles, out, REFERENCE, workers=2)
    assert (result.removed, result.processed, result.store_update) == (1, 0, "incremental")
    assert ARTICLE + gone.stem not in graphs(out)
    assert len(graphs(out)) == 23
    assert f"<{ARTICLE}{gone.stem}>" not in (out / "dataset.nq").read_text(encoding="utf-8")


def test_changed_reference_data_redoes_every_article(articles, tmp_path):
    reference = tmp_path / "reference"
    shutil.copytree(REFERENCE, reference)
    out = tmp_path / "out"
    build(articles, out, reference, workers=2)
    with (reference / "places.yaml").open("a", encoding="utf-8") as handle:
        handle.write("\n# an edit that changes the bytes of the reference data\n")
    result = build(articles, out, reference, workers=2)
    assert (result.processed, result.reused, result.store_update) == (24, 0, "bulk load")


def test_merged_per_article_report_equals_one_validate_dataset_run(articles, tmp_path):
    out = tmp_path / "out"
    result = build(articles, out, REFERENCE, workers=2)
    skip = {ox.NamedNode(validate.SHAPES_GRAPH), ox.NamedNode(validate.ONTOLOGY_GRAPH)}
    quads = [q for q in ox.Store.read_only(str(out / "store")) if q.graph_name not in skip]
    assert result.report.results == validate.validate_quads(quads).results


def test_one_process_and_two_processes_build_the_same_store(articles, tmp_path):
    build(articles, tmp_path / "one", REFERENCE, workers=1)
    build(articles, tmp_path / "two", REFERENCE, workers=2)
    assert store_lines(tmp_path / "one") == store_lines(tmp_path / "two")


def test_progress_line_shows_articles_done_rate_and_time_left():
    stream = io.StringIO()
    bar = Progress(40, stream=stream, enabled=True)
    for _ in range(40):
        bar.advance(1)
    bar.close()
    shown = stream.getvalue()
    assert "\r  40/40 articles" in shown and "/s" in shown and "left" in shown


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_shown_on_a_terminal_but_not_in_ci_or_a_pipe(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    assert wanted(_Terminal()) and not wanted(io.StringIO())
    monkeypatch.setenv("CI", "true")
    assert not wanted(_Terminal())


def test_kg_build_in_ci_prints_only_the_summary(articles, tmp_path):
    env = {**os.environ, "CI": "true"}
    proc = subprocess.run(
        [sys.executable, "-m", "kg.cli", "build", "--articles", str(articles)]
        + ["--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert "Built 24 article(s)" in proc.stdout
    assert "24 processed, 0 reused from the cache, 0 removed" in proc.stdout


# Modules a build worker imports that do not shape an article's output (plumbing).
PLUMBING = {"__init__.py", "errors.py", "load.py", "batch/__init__.py", "batch/cache.py"}


def test_every_module_that_shapes_an_article_output_is_in_the_dependency_hash() -> None:
    listing = subprocess.run(
        [sys.executable, "-c", "import sys, kg.batch.worker\n"
         "print('\\n'.join(m.__file__ for m in list(sys.modules.values())"
         " if getattr(m, '__file__', None)))"],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    package = ROOT / "kg"
    imported = {
        Path(line).relative_to(package).as_posix()
        for line in listing.stdout.splitlines()
        if Path(line).is_relative_to(package)
    }
    hashed = {p.relative_to(package).as_posix() for pattern in CODE for p in package.glob(pattern)}
    assert imported - PLUMBING - hashed == set()


def test_a_dump_written_from_an_incremental_dump_is_still_a_fresh_builds_dump(articles, tmp_path):
    out = tmp_path / "out"
    build(articles, out, REFERENCE, workers=2)
    sorted(articles.glob("*.txt"))[3].unlink()
    build(articles, out, REFERENCE, workers=2)  # its dump copies spans of the first one
    edited = sorted(articles.glob("*.txt"))[10]
    edited.write_text(edited.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    result = build(articles, out, REFERENCE, workers=2)  # spans of spans
    assert (result.processed, result.store_update) == (1, "incremental")
    build(articles, tmp_path / "scratch", REFERENCE, workers=2)
    assert dump_in_order(out) == dump_in_order(tmp_path / "scratch")


def test_an_article_added_after_the_last_one_gives_a_fresh_builds_dump_and_store(
    articles, tmp_path
):
    out = tmp_path / "out"
    build(articles, out, REFERENCE, workers=2)
    last = sorted(articles.glob("*.txt"))[-1]
    shutil.copy(last, articles / f"{last.stem}-zz.txt")  # every earlier entry stays in place
    result = build(articles, out, REFERENCE, workers=2)
    assert (result.processed, result.store_update) == (1, "incremental")
    build(articles, tmp_path / "scratch", REFERENCE, workers=2)
    assert dump_in_order(out) == dump_in_order(tmp_path / "scratch")
    assert store_lines(out) == store_lines(tmp_path / "scratch")


def test_a_rebuild_that_finds_a_touched_article_unchanged_leaves_no_generation_behind(
    articles, tmp_path
):
    out = tmp_path / "out"
    build(articles, out, REFERENCE, workers=2)
    before = sorted((out / ".generations").iterdir())
    touched = sorted(articles.glob("*.txt"))[7]
    os.utime(touched, ns=(touched.stat().st_atime_ns, touched.stat().st_mtime_ns + 10**9))
    result = build(articles, out, REFERENCE, workers=2)
    assert (result.processed + result.reused, result.store_update) == (24, "unchanged")
    assert sorted((out / ".generations").iterdir()) == before


def test_the_early_copy_of_a_dump_says_how_much_of_its_start_is_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline._EarlyCopy, "CHUNK", 1000)
    old = tmp_path / "old.nq"
    old.write_bytes(bytes(range(256)) * 40)  # 10,240 bytes
    gen = tmp_path / "gen"
    gen.mkdir()
    with pipeline._EarlyCopy(old, gen, 7_500) as early:
        early.pool.shutdown(wait=True)  # let it finish: 8 chunks, the last one 500 bytes
        assert early.stop() == 7_500
    assert (gen / "dataset.nq").read_bytes() == old.read_bytes()[:7_500]
    with pipeline._EarlyCopy(old, gen, 7_500) as early:
        early.pool.shutdown(wait=True)
        unfinished = Future()
        unfinished.cancel()
        early.copies[3] = (1000, unfinished)  # as if the fourth chunk were still being copied
        assert early.stop() == 3_000
    with pipeline._EarlyCopy(tmp_path / "gone.nq", gen, 7_500) as early:
        assert early.stop() == 0  # nothing copied: the dump is written whole afterwards


def test_a_full_builds_dump_is_written_in_id_order_whatever_order_the_articles_finish(
    tmp_path,
):
    cache = Cache(tmp_path / "out")
    cache.put("static", b"<s:static> <p:p> <o:o> .\n", {"quads": 1, "results": []})
    manifest = Manifest(static_key="static")
    ids = ["a", "b", "bad", "c", "d"]
    for aid in ids:
        if aid != "bad":  # an article that failed has no entry, and no place in the dump
            cache.put(f"key-{aid}", f"<s:{aid}> <p:p> <o:o> <g:{aid}> .\n".encode(), {})
            manifest.articles[aid] = Entry(f"{aid}.txt", 1, 1, f"key-{aid}", 1)
    gen = tmp_path / "gen"
    gen.mkdir()
    jobs = [Job(f"{aid}.txt", aid) for aid in reversed(ids)]
    with _StreamedDump(gen, cache, manifest, jobs) as dump:
        for aid in ["c", "bad", "a", "d", "b"]:
            dump.done(aid)
    written = (gen / "dataset.nq").read_bytes()
    assert written.decode().splitlines() == [
        "<s:static> <p:p> <o:o> .",
        "<s:a> <p:p> <o:o> <g:a> .",
        "<s:b> <p:p> <o:o> <g:b> .",
        "<s:c> <p:p> <o:o> <g:c> .",
        "<s:d> <p:p> <o:o> <g:d> .",
    ]
    for aid, entry in manifest.articles.items():  # each span holds its article's graph
        start, length = entry.span
        assert written[start : start + length] == f"<s:{aid}> <p:p> <o:o> <g:{aid}> .\n".encode()


@pytest.mark.parametrize("kernel_copy", [True, False], ids=["copy_file_range", "read-write"])
def test_spans_of_the_previous_dump_are_copied_to_their_places_with_or_without_the_kernels_copy(
    tmp_path, monkeypatch, kernel_copy
):
    if not kernel_copy:  # another system, or a filesystem pair the kernel refuses
        monkeypatch.setattr(os, "copy_file_range", _refuse, raising=False)
    old = tmp_path / "old.nq"
    old.write_bytes(b"".join(f"<s:{i}> <p:p> <o:o> .\n".encode() for i in range(1000)))
    with old.open("rb") as source, (tmp_path / "new.nq").open("wb") as out:
        out.write(b"# head\n")
        assert _copy_range(source.fileno(), out.fileno(), 22, 44, 7) == 44
        os.pwrite(out.fileno(), b"# tail\n", 51)
    expected = b"# head\n" + old.read_bytes()[22:66] + b"# tail\n"
    assert (tmp_path / "new.nq").read_bytes() == expected


@pytest.mark.parametrize("kernel_copy", [True, False], ids=["copy_file_range", "read-write"])
def test_runs_of_the_previous_dump_are_copied_in_chunks_side_by_side_each_to_its_place(
    tmp_path, monkeypatch, kernel_copy
):
    if not kernel_copy:
        monkeypatch.setattr(os, "copy_file_range", _refuse, raising=False)
    monkeypatch.setattr(pipeline, "COPY_CHUNK", 100)  # runs of 440-880 bytes: several chunks
    lines = [f"<s:{i}> <p:p> <o:o> .\n".encode() for i in range(100, 200)]  # 22 bytes each
    old = tmp_path / "old.nq"
    old.write_bytes(b"".join(lines))
    spans = [[22 * i, 22] for i in range(100)]
    new = tmp_path / "new.nq"
    with _DumpReuse(old, Manifest()) as reuse, new.open("wb") as out:
        out.write(b"# new entry\n")  # 12 bytes, then lines 60-99, a changed one, lines 0-39
        for i in range(60, 100):
            reuse.copy(spans[i], 12 + 22 * (i - 60))
        os.pwrite(out.fileno(), b"# changed\n", 892)  # 10 bytes, written before the runs
        for i in range(40):
            reuse.copy(spans[i], 902 + 22 * i)
        assert reuse.runs == [[1320, 2200, 12], [0, 880, 902]]
        reuse.copy_runs(out.fileno())
    expected = b"# new entry\n" + b"".join(lines[60:]) + b"# changed\n" + b"".join(lines[:40])
    assert new.read_bytes() == expected


def _refuse(*_args: object) -> int:
    raise OSError(18, "Invalid cross-device link")


def test_a_previous_dump_shorter_than_its_manifest_says_stops_the_build_naming_it(tmp_path):
    old = tmp_path / "dataset.nq"
    old.write_bytes(b"<s:a> <p:p> <o:o> .\n")
    manifest = Manifest()
    with _DumpReuse(old, manifest) as reuse, (tmp_path / "new.nq").open("wb") as out:
        reuse.size = 10_000  # the file shrank after its size was read
        reuse.copy([0, 500], 0)
        with pytest.raises(KgError, match=f"{old}: the previous dump ends early"):
            reuse.copy_runs(out.fileno())


def test_article_files_are_asked_of_the_disk_in_order_no_further_ahead_of_the_workers_than_set(
    tmp_path, monkeypatch
):
    asked: list[str] = []
    monkeypatch.setattr(build_batch, "_ask_for", asked.append)
    paths = [str(tmp_path / f"a{i:03}.txt") for i in range(200)]
    with build_batch._ReadAhead(paths, ahead=10) as read_ahead:
        _wait_for(lambda: len(asked) == 10)
        time.sleep(0.2)
        assert asked == paths[:10]  # and no further, while the workers have read none
        for _ in range(64):
            read_ahead.advance()
        _wait_for(lambda: len(asked) == 74)
        time.sleep(0.2)
        assert asked == paths[:74]
    assert not read_ahead.thread.is_alive()


def test_an_article_file_gone_before_it_is_asked_for_is_left_to_the_worker_to_report(
    tmp_path, monkeypatch
):
    present = tmp_path / "a.txt"
    present.write_text("text", encoding="utf-8")
    advised = []
    real = os.posix_fadvise
    monkeypatch.setattr(os, "posix_fadvise", lambda *a: advised.append(a[3]) or real(*a))
    with build_batch._ReadAhead([str(tmp_path / "gone.txt"), str(present)], ahead=5) as read_ahead:
        _wait_for(lambda: not read_ahead.thread.is_alive())
    assert advised == [os.POSIX_FADV_WILLNEED]  # the file after the missing one


def _wait_for(condition, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)
