"""Whatever analysts point the tool at: refused with a message naming the file, or handled
without breaking the graph. Property-based where the input space is open."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kg.errors import InputError
from kg.extract import extract
from kg.map import parse_trig, render_article
from kg.read import MAX_ARTICLE_BYTES, read_article
from kg.reference import load_reference

REF = load_reference()
# Everything that is special somewhere (Turtle, SPARQL, HTML, jinja2, Unicode direction).
NASTY = ">  <  \\  \u200f\u202e RTL  emoji 🇵🇱🤝  </script> ]]> {{ x }} {% y %} ^^ @en . } GRAPH"


def article_file(
    tmp_path: Path, body: str, front: str = "language: en\npublished: 2024-04-04"
) -> Path:
    path = tmp_path / "a.txt"
    path.write_text(f"---\n{front}\n---\n{body}", encoding="utf-8")
    return path


def build_quads(path: Path) -> list[ox.Quad]:
    article = read_article(path)
    return parse_trig(render_article(extract(article, REF), REF), str(path))


def test_a_fifty_megabyte_file_is_refused_by_size_without_being_read(tmp_path):
    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    with pytest.raises(InputError, match=f"articles over {MAX_ARTICLE_BYTES:,} are refused"):
        read_article(path)


def test_a_publication_date_in_the_future_is_refused_with_its_line(tmp_path):
    future = (dt.date.today() + dt.timedelta(days=400)).isoformat()
    path = article_file(tmp_path, "Text.", f"language: en\npublished: {future}")
    with pytest.raises(InputError, match="in the future") as info:
        read_article(path)
    assert info.value.line == 3


def test_a_quote_that_never_closes_yields_no_statement_and_breaks_nothing(tmp_path):
    path = article_file(
        tmp_path, 'Andrzej Duda said: "We will never stop. And the rest of the text runs on.'
    )
    quads = build_quads(path)
    direct = [
        q
        for q in quads
        if q.predicate.value.endswith("#isDirectQuote") and q.object.value == "true"
    ]
    assert direct == []


def test_text_full_of_syntax_characters_rtl_marks_and_emoji_stays_literal(tmp_path):
    body = f"President Andrzej Duda said: “{NASTY},” in Warsaw on Friday."
    quads = build_quads(article_file(tmp_path, body, "language: en\npublished: 2016-04-22"))
    quotes = [q.object.value for q in quads if q.predicate.value.endswith("#quote")]
    assert quotes == [NASTY + ","]
    graphs = {q.graph_name.value for q in quads}
    assert graphs == {"https://w3id.org/dkg/id/article/a"}


def test_text_full_of_triple_quotes_builds_one_graph(tmp_path):
    body = 'Andrzej Duda said: """ "" """ "a" """ and then """"""""" in Warsaw.'
    quads = build_quads(article_file(tmp_path, body))
    assert {q.graph_name.value for q in quads} == {"https://w3id.org/dkg/id/article/a"}


def test_front_matter_values_cannot_inject_triples(tmp_path):
    front = (
        'language: en\ntitle: "x\\" . <http://evil/s> <http://evil/p> <http://evil/o> . #"\n'
        'publisher: "} GRAPH <http://evil/g> { <a> <b> <c> }"\nurl: "http://x/\\"> evil"'
    )
    path = article_file(tmp_path, "Talks were held in Warsaw.", front)
    quads = build_quads(path)
    assert not any(
        "evil" in q.subject.value or "evil" in q.predicate.value or "evil" in q.graph_name.value
        for q in quads
    )


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.text(
        st.characters(exclude_categories=("Cs",), exclude_characters="\x00\r"),
        min_size=1,
        max_size=400,
    )
)
def test_any_article_text_builds_one_parseable_graph_or_is_refused(tmp_path, body):
    path = article_file(tmp_path, body)
    try:
        quads = build_quads(path)
    except InputError as exc:
        assert str(path) in str(exc)
        return
    assert {q.graph_name.value for q in quads} == {"https://w3id.org/dkg/id/article/a"}
