"""Saved queries: headers, README, expected answers over HTTP, safe parameters, `kg query`.

Expected answers live in tests/fixtures/graph/expected/<query>.csv (the query run with its
`# example:` parameters on tests/fixtures/graph/sample.trig; compact IRIs, rows sorted).
Refresh them with `UPDATE_EXPECTED=1 pytest tests/test_queries.py` and read the diff.
"""

from __future__ import annotations

import csv
import json
import os
import re
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib.plugins.sparql import prepareQuery
from SPARQLWrapper import JSON, POST, SPARQLWrapper

from kg.cli import main
from kg.errors import InputError, UsageError
from kg.query import (
    WD,
    bind_params,
    compact_iri,
    load_saved_queries,
    parse_saved_query,
    prepare_query,
    query_with_values,
    run_saved_query,
    service_blocks,
    term_to_cell,
    with_wikidata_endpoint,
)

ROOT = Path(__file__).resolve().parents[1]
QUERIES_DIR = ROOT / "queries"
EXPECTED_DIR = Path(__file__).parent / "fixtures" / "graph" / "expected"
SAVED = load_saved_queries(QUERIES_DIR)
NAMES = sorted(SAVED)
UPDATE_EXPECTED = os.environ.get("UPDATE_EXPECTED") == "1"


# ----------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------


#: Where a test that builds a query's text without running it points the Wikidata SERVICE
#: blocks: loopback, never contacted, so that nothing can reach the internet by mistake.
NOWHERE = "http://127.0.0.1:1/nowhere"


def run_over_http(
    endpoint: str, name: str, params: dict[str, str], wikidata: str | None = None
) -> tuple[list[str], set]:
    """Run a saved query with SPARQLWrapper (a real client); rows as sets of compact cells.

    `wikidata`: the endpoint for the query's Wikidata SERVICE blocks (required when it has any;
    the tests' Wikidata stand-in, `wikidata_server`)."""
    saved = SAVED[name]
    text = prepare_query(endpoint, saved, params, wikidata=wikidata)
    return run_text_over_http(endpoint, text)


def run_text_over_http(endpoint: str, text: str) -> tuple[list[str], set]:
    """Send a query's text as it stands with SPARQLWrapper; rows as sets of compact cells."""
    remote = [b.iri for b in service_blocks(text) if not b.iri.startswith("http://127.0.0.1:")]
    assert not remote, f"a test query would reach {remote}: pass wikidata=..."
    client = SPARQLWrapper(endpoint)
    client.setMethod(POST)
    client.setReturnFormat(JSON)
    client.setQuery(text)
    result = client.query().convert()
    variables = result["head"]["vars"]
    rows = {
        tuple(_json_cell(binding.get(v)) for v in variables)
        for binding in result["results"]["bindings"]
    }
    return variables, rows


def _json_cell(value: dict | None) -> str:
    if value is None:
        return ""
    if value["type"] == "uri":
        return compact_iri(value["value"])
    if value["type"] == "bnode":
        return f"_:{value['value']}"
    return value["value"]


def read_expected(name: str, folder: Path = EXPECTED_DIR) -> tuple[list[str], set]:
    with (folder / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    return header, {tuple(row) for row in rows}


def write_expected(name: str, variables: list[str], rows: set, folder: Path = EXPECTED_DIR) -> None:
    with (folder / f"{name}.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(variables)
        writer.writerows(sorted(rows))


def assert_same_rows(name: str, variables: list[str], rows: set) -> None:
    header, expected = read_expected(name)
    assert variables == header, f"{name}: columns {variables}, expected {header}"
    if rows != expected:
        lines = [f"{name}: rows differ from {EXPECTED_DIR.name}/{name}.csv"]
        lines += [f"  only expected: {row}" for row in sorted(expected - rows)]
        lines += [f"  only in result: {row}" for row in sorted(rows - expected)]
        lines.append(
            "  (if the new rows are right: UPDATE_EXPECTED=1 pytest tests/test_queries.py)"
        )
        pytest.fail("\n".join(lines), pytrace=False)


def triple_count(endpoint: str) -> int:
    client = SPARQLWrapper(endpoint)
    client.setReturnFormat(JSON)
    client.setQuery("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
    return int(client.query().convert()["results"]["bindings"][0]["n"]["value"])


# ----------------------------------------------------------------------------------------------
# The saved queries as files
# ----------------------------------------------------------------------------------------------


def test_there_are_at_least_fifteen_saved_queries_with_kebab_case_names():
    assert len(SAVED) >= 15
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name) for name in SAVED)


@pytest.mark.parametrize("name", NAMES)
def test_saved_query_has_a_complete_header(name):
    saved = SAVED[name]
    assert saved.title and saved.description and saved.keywords
    assert saved.expect_seeds[0] in {">=", "<=", "==", ">", "<"}
    for param in saved.params:
        assert param.description, f"{name}: param {param.name} is not described"


@pytest.mark.parametrize("name", NAMES)
def test_saved_query_parses_in_rdflib_and_oxigraph(name):
    saved = SAVED[name]
    prepareQuery(saved.text)
    bound = bind_params(saved, saved.example)
    text = with_wikidata_endpoint(query_with_values(saved, bound), NOWHERE)
    prepareQuery(text)
    ox.Store().query(text, use_default_graph_as_union=True)


def test_readme_lists_every_saved_query_and_no_other():
    readme = (QUERIES_DIR / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"\]\(([a-z0-9-]+)\.rq\)", readme))
    assert listed == set(SAVED), (
        f"only in README: {sorted(listed - set(SAVED))}; "
        f"only in queries/: {sorted(set(SAVED) - listed)}"
    )


def test_every_saved_query_has_an_expected_result_and_no_stray_one():
    expected = {path.stem for path in EXPECTED_DIR.glob("*.csv")}
    assert expected == set(SAVED) or UPDATE_EXPECTED


@pytest.mark.parametrize(
    "header, message",
    [
        ("# title: T\n# keywords: k\n# expect-seeds: rows >= 1\n", "lacks description"),
        ("# title: T\n# description: D\n# keywords: k\n# expect-seeds: many\n", "expect-seeds"),
        ("# title: T\n# description: D\n# keywords: k\n# colour: red\n", "unknown header key"),
        (
            "# title: T\n# description: D\n# keywords: k\n# expect-seeds: rows >= 1\n"
            "# param: official  (needed) who\n",
            "param line",
        ),
        (
            "# title: T\n# description: D\n# keywords: k\n# expect-seeds: rows >= 1\n"
            "# param: state  (required) a state\n",
            "needs an `# example:` line",
        ),
    ],
)
def test_malformed_header_is_reported_with_file_and_reason(tmp_path, header, message):
    path = tmp_path / "broken.rq"
    path.write_text(header + "SELECT ?state WHERE { ?s ?p ?state }\n", encoding="utf-8")
    with pytest.raises(InputError, match=re.escape(message)) as error:
        parse_saved_query(path)
    assert "broken.rq" in str(error.value)


def test_values_block_goes_after_the_real_where_not_one_in_a_comment_or_string(tmp_path):
    path = tmp_path / "tricky.rq"
    path.write_text(
        "# title: T\n# description: D\n# keywords: k\n# param: x  (required) x\n"
        "# example: x=1\n# expect-seeds: rows >= 0\n"
        '\n# WHERE { in a comment\nSELECT ?x ("WHERE {" AS ?where)\nWHERE { ?s ?p ?x }\n',
        encoding="utf-8",
    )
    saved = parse_saved_query(path)
    text = query_with_values(saved, bind_params(saved, {"x": "1"}))
    assert 'WHERE {\n  VALUES (?x) { ("1") }\n ?s ?p ?x }' in text


# ----------------------------------------------------------------------------------------------
# Expected answers on the fixture graph: over HTTP (the served endpoint) and locally
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_saved_query_answers_as_expected_over_http(sparql_server, wikidata_server, name):
    variables, rows = run_over_http(
        sparql_server.url, name, SAVED[name].example, wikidata=wikidata_server.url
    )
    if UPDATE_EXPECTED:
        write_expected(name, variables, rows)
    assert_same_rows(name, variables, rows)


@pytest.mark.parametrize("name", NAMES)
def test_saved_query_answers_the_same_on_the_local_store(built_out, wikidata_server, name):
    store = ox.Store.read_only(str(built_out / "store"))
    variables, rows = run_saved_query(
        store, SAVED[name], SAVED[name].example, wikidata=wikidata_server.url
    )
    assert_same_rows(name, variables, {tuple(term_to_cell(t) for t in row) for row in rows})


def test_run_saved_query_on_an_endpoint_url_gives_terms(sparql_server):
    variables, rows = run_saved_query(sparql_server.url, SAVED["wikidata-links"])
    assert "wikidata" in variables
    column = variables.index("wikidata")
    assert ox.NamedNode(WD + "Q36") in {row[column] for row in rows}


# ----------------------------------------------------------------------------------------------
# Parameters: one convention for QIDs, keys and IRIs; values are bound, never pasted
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "PL",
        "pl",
        "Q36",
        "dkgr:state/PL",
        "https://w3id.org/dkg/id/state/PL",
        "<http://www.wikidata.org/entity/Q36>",
    ],
)
def test_a_state_given_by_code_qid_or_iri_gives_the_same_officials(sparql_server, value):
    assert run_over_http(sparql_server.url, "officials-of-state", {"state": value}) == (
        read_expected("officials-of-state")  # its example is state=PL
    )


@pytest.mark.parametrize(
    "value", ["Q1748055", "mariusz-blaszczak", "dkgr:official/mariusz-blaszczak"]
)
def test_who_met_whom_with_an_official_keeps_only_their_meetings(sparql_server, value):
    _, rows = run_over_http(sparql_server.url, "who-met-whom", {"official": value})
    assert {(row[3], row[5]) for row in rows} == {
        ("dkgr:meeting/1f0c6a2d9b3e", "Arvydas Anušauskas"),
        ("dkgr:meeting/1f0c6a2d9b3e", "Jens Stoltenberg"),
        ("dkgr:meeting/1f0c6a2d9b3e", "Mariusz Błaszczak"),
        ("dkgr:meeting/8e3f5a1c7b20", "Arvydas Anušauskas"),
        ("dkgr:meeting/8e3f5a1c7b20", "Mariusz Błaszczak"),
    }


@pytest.mark.parametrize(
    "key, speaker, quote",
    [
        ("dmitry-peskov", "Dmitry Peskov", "Rosja uważnie obserwuje szczyt NATO"),
        (
            "oleh-petrenko",  # known only from the article's own graph
            "Oleh Petrenko",
            "the talks focused on air defence and on the road to NATO membership",
        ),
    ],
)
def test_an_official_without_wikidata_link_is_found_by_key(sparql_server, key, speaker, quote):
    _, rows = run_over_http(sparql_server.url, "official-statements", {"official": key})
    assert [(row[3], row[4], row[6]) for row in rows] == [(speaker, quote, "false")]


def test_a_state_takes_part_through_its_citizens_or_as_participating_state(sparql_server):
    _, rows = run_over_http(sparql_server.url, "meetings-with-state", {"state": "LT"})
    brussels, wilno = "dkgr:article/sample-en-brussels", "dkgr:article/sample-pl-wilno"
    assert {(row[2], row[4], row[5], row[7]) for row in rows} == {
        ("dkgr:meeting/1f0c6a2d9b3e", "participant", "Arvydas Anušauskas", brussels),
        ("dkgr:meeting/8e3f5a1c7b20", "participant", "Arvydas Anušauskas", brussels),
        ("dkgr:meeting/5b2e8d4f6a13", "participant", "Arvydas Anušauskas", wilno),
        # Only the Polish article says Lithuania took part in the Vilnius summit.
        ("dkgr:meeting/2a7d4e9c1b08", "participating state", "Lithuania", wilno),
    }


def test_meetings_in_range_keep_those_overlapping_the_range(sparql_server):
    params = {"from": "2023-07-12", "to": "2023-07-31"}
    _, rows = run_over_http(sparql_server.url, "meetings-in-range", params)
    assert {(row[0], row[1], row[2]) for row in rows} == {
        ("2023-07-11", "2023-07-12", "dkgr:meeting/2a7d4e9c1b08"),  # ends in the range
        ("2023-07-12", "", "dkgr:meeting/5b2e8d4f6a13"),
    }


def test_direct_quotes_can_be_limited_to_one_language(sparql_server):
    _, rows = run_over_http(sparql_server.url, "direct-quotes-by-language", {"language": "pl"})
    assert {(row[1], row[2]) for row in rows} == {("pl", "Andrzej Duda")}


@pytest.mark.parametrize(
    "name, params",
    [
        ("who-met-whom", {"official": "Q1> } ; DROP ALL ; #"}),
        ("official-statements", {"official": 'x" } ; DROP ALL ; SELECT * WHERE { "\n"""\'\n#'}),
        ("direct-quotes-by-language", {"language": 'en") || true || ("'}),
        ("officials-by-post-kind", {"kind": "president' } UNION { ?s ?p ?o } #"}),
    ],
)
def test_injection_attempt_is_a_harmless_value_with_no_rows(sparql_server, built_out, name, params):
    before = triple_count(sparql_server.url)
    assert run_over_http(sparql_server.url, name, params)[1] == set()
    store = ox.Store.read_only(str(built_out / "store"))
    assert run_saved_query(store, SAVED[name], params)[1] == []
    assert triple_count(sparql_server.url) == before


def test_kg_query_with_an_injection_attempt_answers_no_rows(capsys, built_out):
    args = kg_query(built_out, "who-met-whom", "--param", "official=Q1> } ; DROP ALL ; #")
    assert main(args) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "(0 rows)"


def test_a_literal_with_quotes_and_newlines_is_escaped_by_the_term_serializer():
    saved = SAVED["official-statements"]
    value = 'x" } ; DROP ALL ; #\n"""'
    text = query_with_values(saved, bind_params(saved, {"official": value}))
    assert '("x\\" } ; DROP ALL ; #\\n\\"\\"\\"")' in text
    prepareQuery(text)


@pytest.mark.parametrize(
    "name, params, message",
    [
        ("who-met-whom", {"official": "<http://x> } ; DROP ALL ; #>"}, "official"),
        ("article-overview", {"article": "sample-pl-wilno> } UNION { ?a ?b ?c } #"}, "article"),
        ("meetings-in-range", {"from": "2023-13-01", "to": "2023-12-31"}, "from"),
        ("meetings-in-range", {"from": '2023-01-01" } #', "to": "2023-12-31"}, "from"),
        ("statements-mentioning-state", {"state": "Poland"}, "state"),
    ],
)
def test_a_malformed_value_is_refused_naming_the_parameter(name, params, message):
    with pytest.raises(UsageError, match=message):
        bind_params(SAVED[name], params)


def test_unknown_or_missing_parameters_are_refused_listing_the_query_parameters():
    with pytest.raises(UsageError, match=r"no parameter colour.*from=\.\.\. \(required\)"):
        bind_params(SAVED["meetings-in-range"], {"colour": "red", "from": "2023-01-01"})
    with pytest.raises(UsageError, match=r"needs to;.*to=\.\.\. \(required\)"):
        bind_params(SAVED["meetings-in-range"], {"from": "2023-01-01"})


def test_pyoxigraph_substitutions_differ_from_values_so_kg_binds_with_values():
    """Pins why kg.query does not use Store.query(substitutions=...) (pyoxigraph 0.5.13):
    a substituted variable must be projected, BOUND() is false for it and BIND does not see it.
    If this fails after an upgrade, substitutions may have become usable."""
    store = ox.Store()
    a = ox.NamedNode("http://example.org/a")
    store.add(ox.Quad(a, a, a))
    x = {ox.Variable("x"): a}
    with pytest.raises(RuntimeError, match="projection"):
        store.query("SELECT ?s WHERE { ?s ?p ?o FILTER(?s = ?x) }", substitutions=x)
    bound = list(store.query("SELECT ?x (BOUND(?x) AS ?b) WHERE { ?s ?p ?o }", substitutions=x))
    assert bound[0]["b"].value == "false"
    assert (
        list(
            store.query(
                "SELECT ?x WHERE { ?s ?p ?o BIND(?x AS ?y) FILTER(?y = ?s) }", substitutions=x
            )
        )
        == []
    )


# ----------------------------------------------------------------------------------------------
# `kg query`
# ----------------------------------------------------------------------------------------------


def kg_query(built_out: Path, *args: str) -> list[str]:
    return ["query", *args, "--out", str(built_out), "--queries", str(QUERIES_DIR)]


def test_kg_query_without_a_name_lists_every_query_with_its_title(capsys, built_out):
    assert main(kg_query(built_out)) == 0
    out = capsys.readouterr().out
    for name, saved in SAVED.items():
        assert re.search(rf"^{name}\s+{re.escape(saved.title)}$", out, re.MULTILINE)


def test_kg_query_prints_an_aligned_table_with_compact_iris(capsys, built_out):
    assert main(kg_query(built_out, "officials-of-state", "--param", "state=PL")) == 0
    lines = capsys.readouterr().out.splitlines()
    header = lines[0].split()
    assert header == [
        "stateName",
        "official",
        "officialName",
        "officialQid",
        "postName",
        "postKind",
        "start",
        "end",
    ]
    assert set(lines[1]) == {"-", " "}
    starts = [lines[0].index(name) for name in header]
    first = ["Poland", "dkgr:official/andrzej-duda", "Andrzej Duda", "wd:Q9151911"]
    for start, cell in zip(starts, first, strict=False):
        assert lines[2][start:].startswith(cell + " "), (lines[0], lines[2])
    assert lines[-1] == "(4 rows)"


def test_kg_query_csv_has_a_header_and_full_iris(capsys, built_out):
    assert main(kg_query(built_out, "wikidata-links", "--format", "csv")) == 0
    rows = list(csv.reader(capsys.readouterr().out.splitlines()))
    assert rows[0] == ["type", "entity", "entityName", "wikidata", "qid"]
    assert [
        "https://w3id.org/dkg/ontology#State",
        "https://w3id.org/dkg/id/state/PL",
        "Poland",
        "http://www.wikidata.org/entity/Q36",
        "Q36",
    ] in rows
    assert len(rows) == 1 + len(read_expected("wikidata-links")[1])


def test_kg_query_json_is_a_sparql_results_document(capsys, built_out):
    assert (
        main(
            kg_query(
                built_out, "official-statements", "--param", "official=Q9151911", "--format", "json"
            )
        )
        == 0
    )
    out = capsys.readouterr().out
    document = json.loads(out)
    assert document["head"]["vars"][:3] == ["listed", "issued", "speaker"]
    quotes = {
        b["quote"]["value"]: b["quote"].get("xml:lang") for b in document["results"]["bindings"]
    }
    assert quotes["Bezpieczeństwo Polski jest bezpieczeństwem całej Europy."] == "pl"
    assert len(list(ox.parse_query_results(out, ox.QueryResultsFormat.JSON))) == 1


def test_kg_query_unknown_name_exits_2_listing_the_queries(capsys, built_out):
    assert main(kg_query(built_out, "who-met-who")) == 2
    err = capsys.readouterr().err
    assert "no saved query 'who-met-who'" in err
    assert "who-met-whom" in err and "wikidata-links" in err


def test_kg_query_missing_required_param_exits_2_naming_it(capsys, built_out):
    assert main(kg_query(built_out, "official-statements")) == 2
    assert "needs official; its parameters: official=... (required)" in capsys.readouterr().err


def test_kg_query_bad_date_exits_2_naming_the_parameter(capsys, built_out):
    args = kg_query(
        built_out, "meetings-in-range", "--param", "from=12/06/2023", "--param", "to=2023-12-31"
    )
    assert main(args) == 2
    assert "parameter from: '12/06/2023' is not a date (YYYY-MM-DD)" in capsys.readouterr().err


def test_kg_query_without_a_store_exits_2_naming_the_path(capsys, tmp_path):
    assert main(kg_query(tmp_path, "wikidata-links")) == 2
    assert f"no store at {tmp_path / 'store'}: run `kg build` first" in capsys.readouterr().err


# ----------------------------------------------------------------------------------------------
# Paging: limit and offset
# ----------------------------------------------------------------------------------------------


def _csv_rows(capsys, built_out: Path, name: str, *params: str) -> list[list[str]]:
    args = [arg for param in params for arg in ("--param", param)]
    assert main(kg_query(built_out, name, *args, "--format", "csv")) == 0
    return list(csv.reader(capsys.readouterr().out.splitlines()))[1:]


def test_kg_query_limit_and_offset_page_through_the_ordered_rows(capsys, built_out):
    official = "official=Q9151911"
    every = _csv_rows(capsys, built_out, "official-timeline", official)
    assert len(every) >= 4
    first = _csv_rows(capsys, built_out, "official-timeline", official, "limit=2")
    second = _csv_rows(capsys, built_out, "official-timeline", official, "limit=2", "offset=2")
    assert first == every[:2]
    assert second == every[2:4]
    assert _csv_rows(capsys, built_out, "official-timeline", official, "offset=1") == every[1:]
    assert _csv_rows(capsys, built_out, "official-timeline", official, "limit=0") == []


def test_limit_works_over_http_and_is_not_a_values_binding(sparql_server):
    saved = SAVED["reported-speech"]
    text = query_with_values(saved, bind_params(saved, {"limit": "1", "offset": "0"}))
    assert text.rstrip().endswith("LIMIT 1 OFFSET 0")
    assert "VALUES (?limit" not in text
    assert len(run_over_http(sparql_server.url, "reported-speech", {"limit": "1"})[1]) == 1


@pytest.mark.parametrize("value", ["-1", "1.5", "ten", "1 } ; DROP ALL", "99999999999"])
def test_a_limit_that_is_not_a_whole_number_is_refused(value):
    with pytest.raises(UsageError, match="parameter limit"):
        bind_params(SAVED["reported-speech"], {"limit": value})


def test_kg_query_bad_offset_exits_2_naming_it(capsys, built_out):
    assert main(kg_query(built_out, "reported-speech", "--param", "offset=-3")) == 2
    assert "parameter offset: '-3' is not a whole number" in capsys.readouterr().err


@pytest.mark.parametrize(
    "params, ending, message",
    [
        (
            "# param: limit  (optional) n\n",
            "ORDER BY ?s\n",
            "needs the query to end with `LIMIT n`",
        ),
        (
            "# param: limit  (optional) n\n# param: offset  (optional) m\n",
            "LIMIT 10\n",
            "needs the query to end with `LIMIT n OFFSET m`",
        ),
    ],
)
def test_a_paged_query_must_end_with_its_limit_and_offset(tmp_path, params, ending, message):
    path = tmp_path / "paged.rq"
    path.write_text(
        "# title: T\n# description: D\n# keywords: k\n"
        + params
        + "# expect-seeds: rows >= 0\nSELECT ?s WHERE { ?s ?p ?o }\n"
        + ending,
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=re.escape(message)):
        parse_saved_query(path)
