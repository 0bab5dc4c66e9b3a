"""The `wikidata-*` saved queries: the graph joined to Wikidata with SERVICE through owl:sameAs.

Wikidata is stood in for by a second real Oxigraph server on 127.0.0.1 (`wikidata_server`,
tests/fixtures/wikidata/); the queries are pointed at it with `--wikidata`. No test here
reaches the internet: `run_over_http` refuses a SERVICE endpoint that is not on loopback.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pyoxigraph as ox
import pytest
from test_queries import SAVED, run_over_http, run_text_over_http

from kg.cli import main
from kg.errors import InputError, UsageError
from kg.query import (
    WIKIDATA_ENDPOINT,
    bind_params,
    parse_saved_query,
    prepare_query,
    query_with_values,
    service_blocks,
    with_service_values,
    with_wikidata_endpoint,
)
from kg.serve import free_port

ROOT = Path(__file__).resolve().parents[1]
QUERIES_DIR = ROOT / "queries"
WIKIDATA_FIXTURES = Path(__file__).parent / "fixtures" / "wikidata"
VERIFIED = ROOT.parent / "shared" / "reference" / "verified-entities.yaml"
FEDERATED = sorted(name for name, saved in SAVED.items() if service_blocks(saved.text))


def kg_query(out: Path, *args: str) -> list[str]:
    return ["query", *args, "--out", str(out), "--queries", str(QUERIES_DIR)]


def test_the_wikidata_joins_are_saved_queries_that_name_the_public_endpoint():
    assert FEDERATED == [
        "wikidata-alliance-membership",
        "wikidata-birth-dates",
        "wikidata-heads-of-state",
    ]
    for name in FEDERATED:
        assert {block.iri for block in service_blocks(SAVED[name].text)} == {WIKIDATA_ENDPOINT}
        assert SAVED[name].service_values, f"{name}: needs a service-values header line"


def test_the_wikidata_fixture_uses_only_verified_qids():
    if not VERIFIED.is_file():
        pytest.skip(f"{VERIFIED} is not beside the repository")
    verified = set(re.findall(r"\bQ[1-9][0-9]*\b", VERIFIED.read_text(encoding="utf-8")))
    for path in sorted(WIKIDATA_FIXTURES.glob("*.ttl")):
        used = {
            term.value.rsplit("/", 1)[-1]
            for quad in ox.parse(path=str(path))
            for term in (quad.subject, quad.object)
            if isinstance(term, ox.NamedNode)
            and re.fullmatch(r"http://www\.wikidata\.org/entity/Q[0-9]+", term.value)
        }
        assert used <= verified, f"{path.name}: not verified: {sorted(used - verified)}"


# ----------------------------------------------------------------------------------------------
# What the analyst gets
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("official", ["Q58085", "radoslaw-sikorski"])
def test_birth_date_of_one_official_comes_from_wikidata_with_age_at_first_meeting(
    sparql_server, wikidata_server, official
):
    _, rows = run_over_http(
        sparql_server.url,
        "wikidata-birth-dates",
        {"official": official},
        wikidata=wikidata_server.url,
    )
    assert rows == {
        (
            "dkgr:official/radoslaw-sikorski",
            "Radosław Sikorski",
            "wd:Q58085",
            "1963-02-23",
            "2024-01-20",
            "60",
        )
    }


def test_an_official_wikidata_has_no_birth_date_for_is_listed_with_the_date_empty(
    capsys, seed_out, wikidata_server
):
    args = kg_query(seed_out, "wikidata-birth-dates", "--param", "official=Q15068409")
    assert main([*args, "--wikidata", wikidata_server.url, "--format", "csv"]) == 0
    rows = list(csv.reader(capsys.readouterr().out.splitlines()))
    assert rows[1:] == [
        [
            "https://w3id.org/dkg/id/official/andrey-kartapolov",
            "Andrey Kartapolov",
            "http://www.wikidata.org/entity/Q15068409",
            "",
            "",
            "",
        ]
    ]


def test_alliance_membership_gives_the_start_and_end_time_qualifiers(
    capsys, seed_out, wikidata_server
):
    args = kg_query(seed_out, "wikidata-alliance-membership", "--param", "alliance=Q458")
    assert main([*args, "--wikidata", wikidata_server.url, "--format", "csv"]) == 0
    rows = {tuple(row[:4]) for row in csv.reader(capsys.readouterr().out.splitlines())}
    assert ("European Union", "United Kingdom", "1973-01-01", "2020-01-31") in rows
    assert ("European Union", "Poland", "2004-05-01", "") in rows


def test_a_deprecated_wikidata_statement_is_left_out(sparql_server, wikidata_server):
    # The fixture holds a deprecated "Russia member of NATO" statement.
    _, rows = run_over_http(
        sparql_server.url,
        "wikidata-alliance-membership",
        {"state": "RU"},
        wikidata=wikidata_server.url,
    )
    assert rows == set()


def test_head_of_state_is_joined_back_to_the_official_in_the_graph(sparql_server, wikidata_server):
    _, rows = run_over_http(
        sparql_server.url, "wikidata-heads-of-state", {"state": "Q36"}, wikidata=wikidata_server.url
    )
    assert {row[:4] for row in rows} == {
        ("Poland", "Andrzej Duda", "dkgr:official/andrzej-duda", "2")
    }


@pytest.mark.parametrize("name", FEDERATED)
def test_pushing_the_graph_qids_into_service_changes_no_row(sparql_server, wikidata_server, name):
    """The query as pasted into the query page (no VALUES in the SERVICE block) and as
    `kg query` sends it (the graph's QIDs pushed in) give the same rows."""
    saved = SAVED[name]
    pasted = with_wikidata_endpoint(
        query_with_values(saved, bind_params(saved, saved.example)), wikidata_server.url
    )
    assert "VALUES ?" not in "".join(pasted[b.open : b.close] for b in service_blocks(pasted))
    sent = prepare_query(sparql_server.url, saved, saved.example, wikidata=wikidata_server.url)
    assert all(f"VALUES ?{v} {{" in sent for v in saved.service_values)
    assert run_text_over_http(sparql_server.url, pasted) == run_text_over_http(
        sparql_server.url, sent
    )


# ----------------------------------------------------------------------------------------------
# `kg query --wikidata URL`, `--show-query`, and failures
# ----------------------------------------------------------------------------------------------


def test_kg_query_show_query_prints_text_that_gives_the_same_rows_pasted(
    capsys, built_out, sparql_server, wikidata_server
):
    args = kg_query(built_out, "wikidata-birth-dates", "--wikidata", wikidata_server.url)
    assert main([*args, "--show-query"]) == 0
    text = capsys.readouterr().out
    assert f"SERVICE <{wikidata_server.url}>" in text
    assert "wd:Q9151911" in text  # the graph's QIDs, pushed into the SERVICE block
    assert WIKIDATA_ENDPOINT not in text.split("SELECT", 1)[1]
    _, rows = run_text_over_http(sparql_server.url, text)
    assert ("dkgr:official/andrzej-duda", "Andrzej Duda") in {row[:2] for row in rows}
    assert len(rows) == 5


def test_kg_query_with_an_unreachable_wikidata_endpoint_exits_2_naming_it(capsys, built_out):
    url = f"http://127.0.0.1:{free_port()}/sparql"  # nothing listens there
    assert main([*kg_query(built_out, "wikidata-heads-of-state"), "--wikidata", url]) == 2
    err = capsys.readouterr().err
    assert f"the SERVICE endpoint {url} failed" in err
    assert "--wikidata URL" in err


@pytest.mark.parametrize(
    "url", ["ftp://example.org/sparql", "query.wikidata.org", "http://x/> } ; DROP ALL ; #"]
)
def test_kg_query_refuses_a_wikidata_value_that_is_not_an_http_iri(capsys, built_out, url):
    assert main([*kg_query(built_out, "wikidata-birth-dates"), "--wikidata", url]) == 2
    assert "--wikidata" in capsys.readouterr().err


def test_wikidata_endpoint_is_replaced_only_after_service_not_in_comments_or_strings():
    text = (
        "# SERVICE <https://query.wikidata.org/sparql> in a comment\n"
        "SELECT * WHERE {\n"
        '  BIND("SERVICE <https://query.wikidata.org/sparql> {" AS ?s)\n'
        "  SERVICE SILENT <https://query.wikidata.org/sparql> { ?a ?b ?c }\n"
        "  SERVICE <http://example.org/other> { ?a ?b ?d }\n"
        "}\n"
    )
    out = with_wikidata_endpoint(text, "http://127.0.0.1:7879/query")
    assert out.count(WIKIDATA_ENDPOINT) == 2  # the comment and the string
    assert "SERVICE SILENT <http://127.0.0.1:7879/query> { ?a ?b ?c }" in out
    assert "SERVICE <http://example.org/other> { ?a ?b ?d }" in out


def test_service_values_go_into_each_service_block_that_uses_the_variable():
    text = (
        "PREFIX wd: <http://www.wikidata.org/entity/>\n"
        "SELECT * WHERE {\n"
        "  ?x ?y ?q .\n"
        "  SERVICE <http://e/1> { ?q ?p ?o }\n"
        "  { SELECT ?r WHERE { SERVICE <http://e/2> { ?r ?p ?o } } }\n"
        "}\n"
    )
    q36 = ox.NamedNode("http://www.wikidata.org/entity/Q36")
    other = ox.NamedNode("http://example.org/a")  # not a Wikidata entity: written in full
    out = with_service_values(text, {"q": [q36, other], "r": []})
    assert "SERVICE <http://e/1> {\n    VALUES ?q {\n      wd:Q36 <http://example.org/a>\n" in out
    assert "SERVICE <http://e/2> {\n    VALUES ?r { } ?r ?p ?o }" in out
    assert "  ?x ?y ?q .\n" in out  # nothing outside the blocks changes


def test_service_values_naming_a_variable_outside_service_is_refused(tmp_path):
    path = tmp_path / "broken.rq"
    path.write_text(
        "# title: T\n# description: D\n# keywords: k\n# expect-seeds: rows >= 1\n"
        "# service-values: x\n"
        "SELECT * WHERE { ?x ?p ?o SERVICE <http://e/> { ?o ?p2 ?o2 } }\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"broken\.rq: service-values: \?x is in no SERVICE"):
        parse_saved_query(path)


def test_wikidata_value_error_is_a_usage_error():
    with pytest.raises(UsageError, match="give the endpoint's http"):
        with_wikidata_endpoint("SELECT * WHERE {}", "file:///etc/passwd")


def test_every_federated_query_is_documented_in_the_joining_wikidata_section():
    readme = (QUERIES_DIR / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Joining Wikidata", 1)[1].split("\n## ", 1)[0]
    for name in FEDERATED:
        assert f"`{name}`" in section
