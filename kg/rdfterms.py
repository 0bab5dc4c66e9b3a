"""RDF term escaping for templates: every IRI and literal written into Turtle/TriG or SPARQL
passes through one of these functions, so no text can break out of its term."""

from __future__ import annotations

import datetime as dt
import functools
import re
from decimal import Decimal

ONTOLOGY = "https://w3id.org/dkg/ontology#"
RESOURCE = "https://w3id.org/dkg/id/"
WIKIDATA = "http://www.wikidata.org/entity/"
XSD = "http://www.w3.org/2001/XMLSchema#"
REFERENCE_GRAPH = RESOURCE + "graph/reference"
ONTOLOGY_GRAPH = RESOURCE + "graph/ontology"
SHAPES_GRAPH = RESOURCE + "graph/shapes"
STATISTICS_GRAPH = RESOURCE + "graph/statistics"

# Characters that may not appear in an IRIREF (Turtle, N-Triples, SPARQL).
_IRI_FORBIDDEN = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_IRI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_LANG = re.compile(r"^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$")
_QID = re.compile(r"^Q[1-9][0-9]*$")
_ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}
# Everything `string` escapes: the characters above, the other control characters, DEL, lone
# surrogates and the two non-characters U+FFFE and U+FFFF (written as \uXXXX).
_SPECIAL = re.compile('[\\\\"\x00-\x1f\x7f\ud800-\udfff\ufffe\uffff]')


class TermError(ValueError):
    """A value that cannot be written as the RDF term asked for."""


@functools.lru_cache(maxsize=65536)  # a template writes the same predicates and entities often
def iri(value: str) -> str:
    """`<value>` for an absolute IRI; refuses anything that is not one."""
    value = str(value)
    if not _IRI_SCHEME.match(value) or _IRI_FORBIDDEN.search(value):
        raise TermError(f"not an absolute IRI: {value!r}")
    return f"<{value}>"


def string(value: str) -> str:
    """A quoted string literal body with every special character escaped."""
    return '"' + _SPECIAL.sub(_escape, str(value)) + '"'


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    return _ESCAPES.get(ch) or f"\\u{ord(ch):04X}"


def lang_literal(value: str, lang: str) -> str:
    if not _LANG.match(lang or ""):
        raise TermError(f"not a language tag: {lang!r}")
    return f"{string(value)}@{lang}"


def typed_literal(value: object, datatype: str) -> str:
    return f"{string(str(value))}^^{iri(XSD + datatype)}"


@functools.lru_cache(maxsize=16384)  # the statistics graph writes each day thousands of times
def date_literal(value: dt.date | str) -> str:
    day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    return typed_literal(day.isoformat(), "date")


def boolean_literal(value: bool) -> str:
    return typed_literal("true" if value else "false", "boolean")


def integer_literal(value: int) -> str:
    return typed_literal(int(value), "integer")


def decimal_literal(value: float) -> str:
    return typed_literal(format(Decimal(str(round(float(value), 4))), "f"), "decimal")


def wikidata_iri(qid: str) -> str:
    if not _QID.match(qid or ""):
        raise TermError(f"not a Wikidata QID: {qid!r}")
    return iri(WIKIDATA + qid)
