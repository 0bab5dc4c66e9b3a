"""Mapping: templates escape every term, so no text can break or inject Turtle."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kg import rdfterms
from kg.extract.record import ArticleRecord, Entity, Span, Statement
from kg.map import parse_trig, render_article
from kg.reference import load_reference

QUOTE = ox.NamedNode("https://w3id.org/dkg/ontology#quote")
TITLE = ox.NamedNode("http://purl.org/dc/terms/title")


def record_with(text: str, title: str = "t") -> ArticleRecord:
    return ArticleRecord(
        article={
            "id": "x1",
            "language": "en",
            "title": title,
            "published": None,
            "publisher": text,
            "url": None,
        },
        entities=[Entity("Official", "andrzej-duda", "Andrzej Duda", "Q9151911")],
        statements=[Statement("andrzej-duda", text, True, Span(0, len(text), text))],
        extractor_version="test",
    )


# Surrogates cannot be written in UTF-8; every other code point must survive.
any_text = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=200)


@settings(max_examples=300, deadline=None)
@given(any_text)
def test_any_quote_round_trips_as_exactly_one_literal_with_the_same_value(text):
    ref = _REF
    quads = parse_trig(render_article(record_with(text, title=text), ref), "hypothesis")
    quotes = [q.object for q in quads if q.predicate == QUOTE]
    titles = [q.object for q in quads if q.predicate == TITLE]
    assert [(q.value, q.language) for q in quotes] == [(text, "en")]
    assert [t.value for t in titles] == [text]


_REF = load_reference()


def test_injection_attempt_stays_inside_its_literal(ref):
    attack = '" . <http://evil/s> <http://evil/p> "x" . } GRAPH <http://evil/g> { <a> <b> "'
    quads = parse_trig(render_article(record_with(attack), ref), "attack")
    assert not any("evil" in str(q.subject) + str(q.predicate) + str(q.graph_name) for q in quads)
    assert {str(q.graph_name) for q in quads} == {"<https://w3id.org/dkg/id/article/x1>"}


@pytest.mark.parametrize(
    "bad", ["not an iri", "http://x/a b", "http://x/<y>", 'http://x/"', "rel/path"]
)
def test_iri_filter_refuses_what_is_not_an_absolute_iri(bad):
    with pytest.raises(rdfterms.TermError):
        rdfterms.iri(bad)


@pytest.mark.parametrize("bad", ["Q", "Q0", "Q12a", "12", "Q1> <x"])
def test_wikidata_filter_refuses_what_is_not_a_qid(bad):
    with pytest.raises(rdfterms.TermError):
        rdfterms.wikidata_iri(bad)


def test_reference_graph_renders_and_parses(ref):
    from kg.map import render_reference

    quads = parse_trig(render_reference(ref), "reference")
    same = {(str(q.subject), str(q.object)) for q in quads if q.predicate.value.endswith("#sameAs")}
    assert ("<https://w3id.org/dkg/id/state/PL>", "<http://www.wikidata.org/entity/Q36>") in same
    assert (
        "<https://w3id.org/dkg/id/official/andrzej-duda>",
        "<http://www.wikidata.org/entity/Q9151911>",
    ) in same
