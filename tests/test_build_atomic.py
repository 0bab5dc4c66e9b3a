"""Atomic builds: a build killed at any moment leaves the previous store whole and servable,
and a second build at the same time is refused, changing nothing. Real `kg build` processes."""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.load import lock_path
from kg.synth import synthesize

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "reference"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"


def kg(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "kg.cli", *map(str, args)]


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(kg(*args), capture_output=True, text=True, cwd=ROOT)


def sparql_count(out: Path) -> int:
    store = ox.Store.read_only(str(out / "store"))
    return int(next(iter(store.query(COUNT)))["n"].value)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def corpora(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A small corpus (the previous build) and a larger one (the build that gets killed)."""
    root = tmp_path_factory.mktemp("corpora")
    synthesize(6, seed=5, out_dir=root / "small")
    synthesize(150, seed=6, out_dir=root / "large")
    return root / "small" / "articles", root / "large" / "articles"


def test_build_killed_at_random_moments_leaves_the_previous_store_whole(corpora, tmp_path):
    small, large = corpora
    pristine = tmp_path / "pristine"
    assert run("build", "--articles", small, "--out", pristine).returncode == 0
    before_count, before_dump = sparql_count(pristine), digest(pristine / "dataset.nq")

    started = time.monotonic()
    assert run("build", "--articles", large, "--out", tmp_path / "scratch").returncode == 0
    full = time.monotonic() - started
    after_count = sparql_count(tmp_path / "scratch")

    # Kill moments spread over the whole build (early ones land before the switch, late ones
    # may land after it), each jittered by a seeded random amount; every attempt starts from
    # its own copy of the small build, so "the previous store" is always the same one.
    rng = random.Random(20240501)
    outcomes = []
    for attempt, fraction in enumerate((0.05, 0.25, 0.45, 0.65, 0.85)):
        out = tmp_path / f"attempt-{attempt}"
        shutil.copytree(pristine, out, symlinks=True)
        shutil.rmtree(out / ".cache", ignore_errors=True)  # the large corpus is all new work
        proc = subprocess.Popen(kg("build", "--articles", large, "--out", out), cwd=ROOT)
        time.sleep(max(0.05, full * (fraction + rng.uniform(-0.05, 0.05))))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        count = sparql_count(out)
        assert count in (before_count, after_count)
        if count == before_count:  # killed before the switch: nothing changed at all
            assert digest(out / "dataset.nq") == before_dump
        else:  # killed after the switch: the new generation is complete
            assert len((out / "dataset.nq").read_bytes().splitlines()) == after_count
        validated = run("validate", "--out", out)
        assert validated.returncode == 0, validated.stdout + validated.stderr
        outcomes.append(count == before_count)
        # The killed build's workers die with it (PR_SET_PDEATHSIG); on a loaded machine the
        # kernel may take a moment to reap them, so wait a bounded while.
        deadline = time.monotonic() + 10
        while _workers_of_killed_builds(out) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _workers_of_killed_builds(out), "workers outlived their build"
    assert any(outcomes), "every kill landed after the switch: the corpus builds too fast"

    finished = run("build", "--articles", large, "--out", out)
    assert finished.returncode == 0, finished.stderr
    assert sparql_count(out) == after_count
    generations = list((out / ".generations").iterdir())
    assert len(generations) <= 2, generations  # leftovers of killed builds are cleared


def test_second_build_at_once_is_refused_with_exit_2_naming_the_lock(corpora, tmp_path):
    small, large = corpora
    out = tmp_path / "out"
    assert run("build", "--articles", small, "--out", out).returncode == 0
    before_count, before_dump = sparql_count(out), digest(out / "dataset.nq")
    live = os.readlink(out / "current")

    first = subprocess.Popen(
        kg("build", "--articles", large, "--out", out), cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 30
    while lock_path(out).read_text().strip() != str(first.pid):
        assert time.monotonic() < deadline and first.poll() is None, "first build never locked"
        time.sleep(0.02)

    second = run("build", "--articles", small, "--out", out)
    assert second.returncode == 2
    assert f"it holds the lock {lock_path(out)}" in second.stderr
    assert "another `kg build` is writing to" in second.stderr
    assert second.stdout == ""
    assert os.readlink(out / "current") == live  # the refusal switched nothing
    assert (sparql_count(out), digest(out / "dataset.nq")) == (before_count, before_dump)

    output, _ = first.communicate(timeout=120)
    assert first.returncode == 0
    assert "Built 150 article(s)" in output


def test_missing_articles_folder_is_refused_and_the_store_is_unchanged(corpora, tmp_path):
    small, _ = corpora
    out = tmp_path / "out"
    assert run("build", "--articles", small, "--out", out).returncode == 0
    before = (sparql_count(out), digest(out / "dataset.nq"), os.readlink(out / "current"))
    refused = run("build", "--articles", tmp_path / "nope", "--out", out)
    assert refused.returncode == 2
    assert "nope: no such folder of articles" in refused.stderr
    assert (sparql_count(out), digest(out / "dataset.nq"), os.readlink(out / "current")) == before


def test_store_of_an_older_layout_is_replaced_by_the_new_one(corpora, tmp_path):
    small, _ = corpora
    out = tmp_path / "out"
    out.mkdir()
    old = ox.Store(str(out / "store"))
    old.add(ox.Quad(ox.NamedNode("urn:a"), ox.NamedNode("urn:b"), ox.Literal("c")))
    old.flush()
    del old
    assert run("build", "--articles", small, "--out", out).returncode == 0
    assert (out / "store").is_symlink() and sparql_count(out) > 1


def test_rebuilds_into_a_relative_out_keep_the_live_generation_and_the_one_before(
    corpora, tmp_path
):
    small, _ = corpora
    articles = tmp_path / "articles"
    shutil.copytree(small, articles)
    live = []
    for edit in range(3):
        if edit:  # one article changed: an incremental rebuild, a new generation
            with next(articles.glob("*.txt")).open("a", encoding="utf-8") as handle:
                handle.write(f"\nThe talks will continue next month ({edit}).\n")
        built = subprocess.run(
            kg("build", "--articles", articles, "--reference", REFERENCE, "--out", "out"),
            capture_output=True,
            text=True,
            cwd=tmp_path,
        )
        assert built.returncode == 0, built.stderr
        assert "Built 6 article(s)" in built.stdout  # flushed before the process ends at once
        live.append(os.readlink(tmp_path / "out" / "current"))
    generations = sorted(p.name for p in (tmp_path / "out" / ".generations").iterdir())
    assert generations == sorted(Path(link).name for link in live[1:])
    assert sparql_count(tmp_path / "out") > 1


def _workers_of_killed_builds(out: Path) -> list[int]:
    """Processes still running a `kg build` into OUT (none should be left)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"build" in cmdline and str(out).encode() in cmdline:
                found.append(int(entry.name))
    return found
