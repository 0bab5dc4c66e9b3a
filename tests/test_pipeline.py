"""The whole flow through the `kg` command, on the seed articles and on broken input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.cli import main
from kg.evaluate import evaluate

ROOT = Path(__file__).resolve().parents[1]
ARTICLES = ROOT / "data" / "articles"
GOLD = ROOT / "tests" / "gold" / "seeds"


@pytest.fixture(scope="module")
def seed_build(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("build")
    assert main(["build", "--articles", str(ARTICLES), "--out", str(out)]) == 0
    return out


def query(out: Path, sparql: str) -> list[tuple[str, ...]]:
    store = ox.Store.read_only(str(out / "store"))
    prefixes = "PREFIX dkg: <https://w3id.org/dkg/ontology#>\nPREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
    result = store.query(prefixes + sparql, use_default_graph_as_union=True)
    return sorted(
        tuple(s[v].value if s[v] is not None else "" for v in result.variables) for s in result
    )


def test_build_writes_store_and_nquads_dump(seed_build):
    assert (seed_build / "store").is_dir()
    dump = (seed_build / "dataset.nq").read_text(encoding="utf-8")
    assert "<https://w3id.org/dkg/id/article/000_c67f5beca45faf07>" in dump


def test_duda_pahor_meeting_is_in_the_article_graph_with_date_and_place(seed_build):
    rows = query(
        seed_build,
        """
        SELECT ?date ?place WHERE {
          GRAPH <https://w3id.org/dkg/id/article/000_c67f5beca45faf07> {
            ?m a dkg:Meeting ; dkg:participant <https://w3id.org/dkg/id/official/andrzej-duda>,
                 <https://w3id.org/dkg/id/official/borut-pahor> ;
               dkg:startDate ?date ; dkg:location ?l }
          ?l rdfs:label ?place FILTER(lang(?place) = "en") }""",
    )
    assert rows == [("2016-04-22", "Warsaw")]


def test_same_official_in_two_articles_has_one_iri(seed_build):
    rows = query(
        seed_build,
        """
        SELECT DISTINCT ?g WHERE {
          GRAPH ?g { ?a dkg:mentions <https://w3id.org/dkg/id/official/mariusz-blaszczak> } }""",
    )
    assert [r[0] for r in rows] == [
        "https://w3id.org/dkg/id/article/001_0829f27ba36dad32",
        "https://w3id.org/dkg/id/article/002_ce7048089e2d8945",
    ]


def test_seed_extraction_meets_the_quality_bar(seed_build):
    ev = evaluate(ox.Store.read_only(str(seed_build / "store")), GOLD)
    s = ev.overall
    for t in ("officials", "states", "alliances"):
        assert s[t].f1 >= 0.9, (t, s[t].misses, s[t].false_hits)
    assert s["meetings"].recall >= 0.8, s["meetings"].misses
    assert s["direct quotes"].recall >= 0.85, s["direct quotes"].misses
    assert s["reported speech"].recall >= 0.5, s["reported speech"].misses
    assert s["statements"].precision >= 0.85, s["statements"].false_hits


def test_eval_prints_precision_recall_f1_per_type(seed_build, capsys):
    assert main(["eval", "--out", str(seed_build), "--gold", str(GOLD)]) == 0
    out = capsys.readouterr().out
    assert "precision" in out and "Language: pl" in out
    assert any(line.split()[:1] == ["officials"] for line in out.splitlines())


def test_seed_graph_conforms_to_the_shapes(seed_build, capsys):
    assert main(["validate", "--out", str(seed_build)]) == 0
    assert "0 violations" in capsys.readouterr().out


def test_extract_prints_the_record_as_json(capsys):
    assert main(["extract", str(ARTICLES / "002_ce7048089e2d8945.txt")]) == 0
    record = json.loads(capsys.readouterr().out)
    keys = {e["key"] for e in record["entities"] if e["type"] == "Official"}
    assert {"mark-esper", "andriy-zagorodnyuk", "ben-wallace"} <= keys
    assert all("start" in s["evidence"] for s in record["statements"])


def test_bad_article_is_skipped_and_named_while_the_others_build(tmp_path, capsys):
    articles = tmp_path / "articles"
    shutil.copytree(ARTICLES, articles)
    (articles / "broken.txt").write_bytes("Błaszczak".encode("cp1250"))
    out = tmp_path / "out"
    assert main(["build", "--articles", str(articles), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "broken.txt" in captured.err and "not UTF-8" in captured.err
    assert "Built 4 article(s)" in captured.out
    assert main(["build", "--articles", str(articles), "--out", str(out), "--strict"]) == 2


def test_missing_articles_folder_exits_2_naming_it(tmp_path, capsys):
    assert main(["build", "--articles", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 2
    assert "nope: no such folder of articles" in capsys.readouterr().err


def test_validate_without_a_store_exits_2(tmp_path, capsys):
    assert main(["validate", "--out", str(tmp_path)]) == 2
    assert "run `kg build` first" in capsys.readouterr().err


def test_broken_graph_makes_validate_exit_1_with_the_report_rows(tmp_path, capsys):
    from kg.load import write_store

    trig = (
        ROOT / "tests" / "fixtures" / "broken" / "meeting-without-participant.trig"
    ).read_bytes()
    write_store(tmp_path, ox.parse(trig, format=ox.RdfFormat.TRIG))
    assert main(["validate", "--out", str(tmp_path), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    rows = {
        (r["focus_node"], r["path"], r["constraint"])
        for r in report["results"]
        if r["severity"] == "Violation"
    }
    assert (
        "https://w3id.org/dkg/id/meeting/broken",
        "https://w3id.org/dkg/ontology#participant",
        "MinCountConstraintComponent",
    ) in rows


def test_kg_command_is_installed_and_reports_usage_errors_with_exit_2():
    result = subprocess.run(
        [sys.executable, "-m", "kg.cli", "query", "--format", "xml"], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "invalid choice" in result.stderr
