"""Saved analyst questions: `queries/*.rq`, their headers, parameters and results.

A saved query is one SPARQL SELECT file whose first lines are a header of comments::

    # title: Who met whom
    # description: Every meeting with its participants, date, place and source article.
    # keywords: meeting, participant
    # param: official  (optional) an official's Wikidata QID (Q58085), key or IRI
    # example: official=Q58085
    # expect-seeds: rows >= 1

`param` may repeat; `example` (values for the parameters, used by the tests and the README) is
optional unless the query has a required parameter; `service-values` names the variables of a
`SERVICE` block that `kg query` restricts to the graph's Wikidata QIDs (below).
queries/README.md documents the format.

Parameters are bound, never pasted: every raw value becomes an RDF term (`bind_params`), and
the query runs with a `VALUES (?a ?b) { (<term> <term>) }` block put at the start of its WHERE
clause, each term written by pyoxigraph's own serializer (which does the escaping). The same
text runs in the local store and over HTTP, so both give the same answer.

Joining Wikidata: a saved query reaches Wikidata with `SERVICE <https://query.wikidata.org/sparql>
{ ... }`; `with_wikidata_endpoint` points those blocks at another endpoint (a mirror, or the
tests' fixture server). Oxigraph sends a SERVICE block to the remote endpoint as it stands,
without the bindings of the rest of the query, so `?person wdt:P569 ?born` alone would ask
Wikidata for every birth date it has. `with_service_values` therefore puts a `VALUES` block with
the graph's Wikidata QIDs (every `owl:sameAs wd:Q...` object, `graph_qids`) inside the block for
each variable the header's `service-values` names: a superset of the values the join can use,
so the answer is the same as without it, only the remote query is small.

Paging: the parameters `limit` and `offset` are not terms but the query's own trailing
`LIMIT n` / `OFFSET n`: a query that declares them ends with `LIMIT n` (its default page size)
and, for `offset`, `OFFSET m`; `kg query` replaces those numbers with the values given, each
checked to be a whole number and written back by Python (`str(int(...))`), never pasted.

Why not pyoxigraph's `substitutions`: in pyoxigraph 0.5.13 a substituted variable must be in
the SELECT projection, `BOUND(?x)` is false for it, `BIND(?x AS ?y)` and sub-queries do not see
it (tests/test_queries.py pins this), so the same query would answer differently locally and
on the server.

>>> term_from_value("official", "Q58085")
<NamedNode value=http://www.wikidata.org/entity/Q58085>
>>> term_from_value("state", "pl")
<NamedNode value=https://w3id.org/dkg/id/state/PL>
>>> term_from_value("from", "2023-06-01")
<Literal value=2023-06-01 datatype=<NamedNode value=http://www.w3.org/2001/XMLSchema#date>>
>>> compact_iri("https://w3id.org/dkg/id/official/andrzej-duda")
'dkgr:official/andrzej-duda'
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from kg import load, sparqltext
from kg.errors import InputError, KgError, UsageError

DKG = "https://w3id.org/dkg/ontology#"
DKGR = "https://w3id.org/dkg/id/"
WD = "http://www.wikidata.org/entity/"
OWL_SAME_AS = "http://www.w3.org/2002/07/owl#sameAs"
#: The Wikidata Query Service: the endpoint the saved queries name after SERVICE.
WIKIDATA_ENDPOINT = "https://query.wikidata.org/sparql"
XSD_DATE = ox.NamedNode("http://www.w3.org/2001/XMLSchema#date")
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"

#: Prefixes used to shorten IRIs in table output and accepted in parameter values.
#: The longest namespace comes first so that dkg: never shadows dkgr: (or the other way).
COMPACT_PREFIXES: dict[str, str] = {"dkgr": DKGR, "dkg": DKG, "wd": WD}

#: A parameter named after a kind of resource takes the key of that resource's IRI pattern in
#: docs/model.md (an ISO2 code, an official's slug, an article id, ...), besides a QID or an IRI.
RESOURCE_PARAMS: dict[str, str] = {
    "official": "official/",
    "state": "state/",
    "alliance": "org/",
    "place": "place/",
    "post": "post/",
    "article": "article/",
}
#: Parameters holding dates: `from`, `to`, the listings' page cursors `before` and `after`,
#: and any name ending in `date`.
DATE_PARAMS = frozenset({"from", "to", "before", "after"})
#: Paging parameters: they set the numbers of the query's trailing `LIMIT n` / `OFFSET m`.
PAGING_PARAMS = ("limit", "offset")
#: The largest page size or offset accepted.
MAX_PAGING = 10_000_000
XSD_INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")

HEADER_KEYS = (
    "title",
    "description",
    "keywords",
    "param",
    "example",
    "service-values",
    "expect-seeds",
)
REQUIRED_HEADER_KEYS = ("title", "description", "keywords", "expect-seeds")

_HEADER_LINE = re.compile(r"^#\s?(?P<key>[a-z][a-z-]*):\s*(?P<value>.*?)\s*$")
_PARAM = re.compile(
    r"^(?P<name>[A-Za-z][A-Za-z0-9_]*)\s+\((?P<need>optional|required)\)\s+(?P<text>\S.*)$"
)
_EXPECT = re.compile(r"^rows\s*(?P<op>>=|<=|==|=|>|<)\s*(?P<n>\d+)$")
_QID = re.compile(r"^Q[1-9][0-9]*$")
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_ISO2 = re.compile(r"^[A-Za-z]{2}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_WD_ENTITY = re.compile(rf"^{re.escape(WD)}Q[1-9][0-9]*$")
_VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_WHOLE_NUMBER = re.compile(r"^[0-9]+$")
# The trailing `LIMIT n [OFFSET m]` of a paged query (trailing comments and blanks allowed).
_PAGING_TAIL = re.compile(
    r"(?<![\w?$:])LIMIT\s+(?P<limit>[0-9]+)(?:\s+OFFSET\s+(?P<offset>[0-9]+))?(?P<rest>(?:\s|\#[^\n]*)*)\Z",
    re.IGNORECASE,
)

# Tokens that matter when looking for SERVICE blocks: the keyword, its IRI and the braces.
_SERVICE_SCAN = sparqltext.scanner(
    sparqltext.keyword("SERVICE"),
    sparqltext.keyword("SILENT"),
    r"(?P<open>\{)",
    r"(?P<close>\})",
    r"(?P<other>[^\s#\"'<{}]+|<)",
)

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
Row = tuple[Term | None, ...]


@dataclass(frozen=True)
class Param:
    name: str
    required: bool
    description: str


@dataclass(frozen=True)
class SavedQuery:
    """One `queries/NAME.rq` file: its header and its SPARQL text."""

    name: str
    path: Path
    title: str
    description: str
    keywords: tuple[str, ...]
    params: tuple[Param, ...]
    expect_seeds: tuple[str, int]  # (">=", 1) for `rows >= 1`
    example: dict[str, str] = field(default_factory=dict)
    text: str = ""
    service_values: tuple[str, ...] = ()

    @property
    def param_names(self) -> list[str]:
        return [p.name for p in self.params]

    def usage(self) -> str:
        """The parameters as the user gives them, e.g. `official=... (optional)`."""
        if not self.params:
            return "no parameters"
        need = {True: "required", False: "optional"}
        return ", ".join(f"{p.name}=... ({need[p.required]})" for p in self.params)


# ----------------------------------------------------------------------------------------------
# Loading saved queries
# ----------------------------------------------------------------------------------------------


def load_saved_queries(queries_dir: Path) -> dict[str, SavedQuery]:
    """Every `*.rq` file of `queries_dir`, by name (the file name without `.rq`)."""
    queries_dir = Path(queries_dir)
    if not queries_dir.is_dir():
        raise UsageError(f"no saved queries at {queries_dir}: give the folder with --queries")
    return {path.stem: parse_saved_query(path) for path in sorted(queries_dir.glob("*.rq"))}


def parse_saved_query(path: Path) -> SavedQuery:
    """Read one saved query; a header that does not follow the format is an InputError."""
    text = path.read_text(encoding="utf-8")
    values: dict[str, list[tuple[int, str]]] = {key: [] for key in HEADER_KEYS}
    body_start = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.startswith("#"):
            break
        body_start = number
        match = _HEADER_LINE.match(line)
        if not match:
            raise InputError(path, "a header line must read `# key: value`", number)
        key = match["key"]
        if key not in values:
            raise InputError(path, f"unknown header key {key!r} (known: {HEADER_KEYS})", number)
        if values[key] and key != "param":
            raise InputError(path, f"header key {key!r} given twice", number)
        if not match["value"]:
            raise InputError(path, f"header key {key!r} has no value", number)
        values[key].append((number, match["value"]))
    missing = [key for key in REQUIRED_HEADER_KEYS if not values[key]]
    if missing:
        raise InputError(path, f"header lacks {', '.join(missing)} (see queries/README.md)")

    params = []
    for number, value in values["param"]:
        match = _PARAM.match(value)
        if not match:
            raise InputError(
                path, "a param line must read `# param: NAME  (optional|required) text`", number
            )
        params.append(Param(match["name"], match["need"] == "required", match["text"]))
    names = [p.name for p in params]
    if len(set(names)) != len(names):
        raise InputError(path, f"a param is declared twice: {names}")

    line, expect = values["expect-seeds"][0]
    match = _EXPECT.match(expect)
    if not match:
        raise InputError(path, "expect-seeds must read like `rows >= 1`", line)
    op = "==" if match["op"] == "=" else match["op"]

    example: dict[str, str] = {}
    for line, value in values["example"]:
        for item in value.split():
            name, sep, raw = item.partition("=")
            if not sep or name not in names:
                raise InputError(path, f"example {item!r} is not NAME=VALUE of a param", line)
            example[name] = raw
    if any(p.required and p.name not in example for p in params):
        raise InputError(path, "a query with required params needs an `# example:` line")

    service_values: tuple[str, ...] = ()
    if values["service-values"]:
        line, value = values["service-values"][0]
        service_values = tuple(name.lstrip("?$") for name in value.split())
        bad = [name for name in service_values if not _VARIABLE_NAME.match(name)]
        if bad:
            raise InputError(path, f"service-values names variables, not {bad}", line)

    body = "\n".join(text.splitlines()[body_start:])
    if not re.search(r"(?<![\w?$:])SELECT\b", body, re.IGNORECASE):
        raise InputError(path, "a saved query must be a SELECT query")
    _where_groups(body, path)  # raises when there is no WHERE clause to bind params in
    tail = _PAGING_TAIL.search(body)
    for name in names:
        if name in PAGING_PARAMS:
            if tail is None or tail[name] is None:
                ending = "LIMIT n OFFSET m" if name == "offset" else "LIMIT n"
                raise InputError(path, f"param {name!r} needs the query to end with `{ending}`")
        elif not re.search(rf"[?$]{name}\b", body):
            raise InputError(path, f"param {name!r} is declared but ?{name} is not in the query")
    blocks = service_blocks(body)
    for name in service_values:
        if not any(re.search(rf"[?$]{name}\b", body[b.open : b.close]) for b in blocks):
            raise InputError(path, f"service-values: ?{name} is in no SERVICE block of the query")

    return SavedQuery(
        name=path.stem,
        path=path,
        title=values["title"][0][1],
        description=values["description"][0][1],
        keywords=tuple(k.strip() for k in values["keywords"][0][1].split(",") if k.strip()),
        params=tuple(params),
        expect_seeds=(op, int(match["n"])),
        example=example,
        text=text,
        service_values=service_values,
    )


def expectation_met(saved: SavedQuery, n_rows: int) -> bool:
    """Whether `n_rows` satisfies the query's `expect-seeds` line."""
    op, n = saved.expect_seeds
    return {
        ">=": n_rows >= n,
        "<=": n_rows <= n,
        "==": n_rows == n,
        ">": n_rows > n,
        "<": n_rows < n,
    }[op]


# ----------------------------------------------------------------------------------------------
# Binding parameters
# ----------------------------------------------------------------------------------------------


def parse_param_args(args: Sequence[str]) -> dict[str, str]:
    """`["official=Q58085", "from=2023-01-01"]` -> `{"official": "Q58085", ...}`."""
    raw: dict[str, str] = {}
    for arg in args:
        name, sep, value = arg.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError(f"--param {arg!r}: expected NAME=VALUE")
        if name in raw:
            raise UsageError(f"--param {name} given twice")
        raw[name] = value
    return raw


def bind_params(saved: SavedQuery, raw: Mapping[str, str]) -> dict[str, Term]:
    """Turn the user's values into RDF terms, checking them against the query's params."""
    unknown = sorted(set(raw) - set(saved.param_names))
    if unknown:
        raise UsageError(
            f"query {saved.name} has no parameter {', '.join(unknown)}; "
            f"its parameters: {saved.usage()}"
        )
    missing = [p.name for p in saved.params if p.required and p.name not in raw]
    if missing:
        raise UsageError(
            f"query {saved.name} needs {', '.join(missing)}; its parameters: {saved.usage()}"
        )
    return {name: term_from_value(name, value) for name, value in raw.items()}


def term_from_value(name: str, value: str) -> Term:
    """One parameter value as an RDF term; the parameter's name decides how keys are read.

    - `<IRI>`, `http(s)://...`, or a compact `dkgr:`/`dkg:`/`wd:` IRI -> that IRI;
    - dates (`from`, `to`, `*date`): YYYY-MM-DD -> xsd:date;
    - a Wikidata QID (Q58085) -> the Wikidata entity IRI (queries match it via owl:sameAs);
    - a key for a resource parameter (state=PL, official=dmitry-peskov, article=ID)
      -> the resource IRI of docs/model.md;
    - anything else -> a plain string literal.
    """
    text = value.strip()
    if not text:
        raise UsageError(f"parameter {name} is empty")
    if name in PAGING_PARAMS:
        if not _WHOLE_NUMBER.match(text) or int(text) > MAX_PAGING:
            raise UsageError(f"parameter {name}: {text!r} is not a whole number up to {MAX_PAGING}")
        return ox.Literal(str(int(text)), datatype=XSD_INTEGER)
    if name in DATE_PARAMS or name.lower().endswith("date"):
        return _date_term(name, text)
    iri = _as_iri(text)
    if iri is not None:
        try:
            return ox.NamedNode(iri)
        except ValueError as exc:
            raise UsageError(f"parameter {name}: {text!r} is not a valid IRI ({exc})") from None
    base = RESOURCE_PARAMS.get(name)
    if base == "article/":  # article ids are file names; never read as QIDs
        return _key_term(name, text, base)
    if _QID.match(text):
        return ox.NamedNode(WD + text)
    if base == "state/":
        if not _ISO2.match(text):
            raise UsageError(
                f"parameter state: {text!r} is not an ISO 3166-1 alpha-2 code (PL), a QID or an IRI"
            )
        return ox.NamedNode(DKGR + base + text.upper())
    if base is not None and _KEY.match(text):
        return _key_term(name, text, base)
    return ox.Literal(text)


def _date_term(name: str, text: str) -> ox.Literal:
    try:
        if not _DATE.match(text):
            raise ValueError
        datetime.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"parameter {name}: {text!r} is not a date (YYYY-MM-DD)") from None
    return ox.Literal(text, datatype=XSD_DATE)


def _key_term(name: str, text: str, base: str) -> ox.NamedNode:
    if not _KEY.match(text):
        raise UsageError(f"parameter {name}: {text!r} is not a key, a QID or an IRI")
    return ox.NamedNode(DKGR + base + text)


def _as_iri(text: str) -> str | None:
    if text.startswith("<") and text.endswith(">"):
        return text[1:-1]
    if text.startswith(("http://", "https://")):
        return text
    prefix, sep, local = text.partition(":")
    if sep and prefix in COMPACT_PREFIXES and local:
        return COMPACT_PREFIXES[prefix] + local
    return None


def query_with_values(saved: SavedQuery, bound: Mapping[str, Term]) -> str:
    """The saved query's text with the bound terms in VALUES blocks opening its WHERE clauses.

    The query's own WHERE clause gets every bound parameter; a sub-select's WHERE clause gets
    those its text names, because a sub-select does not see the outer bindings (a listing's
    page of days is chosen in a sub-select that must see `before` and the official). Each term
    is written by pyoxigraph (`str(term)` is N-Triples, valid SPARQL), which escapes quotes,
    newlines and angle brackets; raw user text never reaches the query. `limit` and `offset`
    set the numbers of the query's trailing `LIMIT n OFFSET m` instead.
    """
    text = _with_paging(saved, bound)
    names = [name for name in saved.param_names if name in bound and name not in PAGING_PARAMS]
    if not names:
        return text
    groups = _where_groups(text, saved.path)
    blocks: list[tuple[int, list[str]]] = []
    for number, (start, end) in enumerate(groups):
        named = [n for n in names if number == 0 or re.search(rf"[?$]{n}\b", text[start:end])]
        if named:
            blocks.append((start, named))
    for at, named in reversed(blocks):  # from the end, so earlier indices stay valid
        variables = " ".join(f"?{name}" for name in named)
        terms = " ".join(str(bound[name]) for name in named)
        text = f"{text[:at]}\n  VALUES ({variables}) {{ ({terms}) }}\n{text[at:]}"
    return text


def _with_paging(saved: SavedQuery, bound: Mapping[str, Term]) -> str:
    """The query's text with its trailing LIMIT / OFFSET set to the bound `limit` / `offset`."""
    given = {name: bound[name] for name in PAGING_PARAMS if name in bound}
    if not given:
        return saved.text
    tail = _PAGING_TAIL.search(saved.text)
    if tail is None:
        raise InputError(saved.path, "a paged query must end with `LIMIT n`")
    numbers = {name: tail[name] for name in PAGING_PARAMS}
    for name, term in given.items():
        numbers[name] = str(int(term.value))  # whole numbers only (term_from_value checked)
    paging = f"LIMIT {numbers['limit']}"
    if numbers["offset"] is not None:
        paging += f" OFFSET {numbers['offset']}"
    return f"{saved.text[: tail.start()]}{paging}{tail['rest']}"


def _where_groups(text: str, path: Path) -> list[tuple[int, int]]:
    """The query's WHERE groups (``sparqltext.where_groups``), its own first; an error naming
    ``path`` when it has none."""
    groups = sparqltext.where_groups(text)
    if not groups:
        raise InputError(path, "no `WHERE {` found: saved queries spell out WHERE")
    return groups


# ----------------------------------------------------------------------------------------------
# SERVICE blocks: the Wikidata endpoint and the QIDs sent to it
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceBlock:
    """Where one `SERVICE [SILENT] <iri> { ... }` sits in a query's text (string indices)."""

    iri: str  # the endpoint IRI, without the angle brackets ("" when it is a variable)
    iri_start: int
    iri_end: int
    open: int  # just after the block's `{`
    close: int  # at the block's matching `}`


def service_blocks(text: str) -> list[ServiceBlock]:
    """Every SERVICE block of a query, outermost first; comments, strings and IRIs are skipped.

    >>> [b.iri for b in service_blocks("SELECT * WHERE { SERVICE <http://e/sparql> { ?s ?p ?o } }")]
    ['http://e/sparql']
    """
    blocks: list[ServiceBlock] = []
    stack: list[tuple[str, int, int, int] | None] = []  # one entry per open brace
    pending: tuple[str, int, int] | None = None  # SERVICE seen, its block not yet open
    expect_iri = False
    for match in _SERVICE_SCAN.finditer(text):
        kind = match.lastgroup
        if kind in ("comment", "string"):
            continue
        if kind == "service":
            expect_iri, pending = True, None
        elif kind == "silent" and expect_iri:
            continue
        elif expect_iri and kind == "iri":
            pending, expect_iri = (match.group()[1:-1], match.start(), match.end()), False
        elif expect_iri and kind == "other" and match.group().startswith(("?", "$")):
            pending, expect_iri = ("", match.start(), match.end()), False
        elif kind == "open":
            stack.append((pending[0], pending[1], pending[2], match.end()) if pending else None)
            pending, expect_iri = None, False
        elif kind == "close" and stack:
            opened = stack.pop()
            if opened is not None:
                iri, iri_start, iri_end, open_at = opened
                blocks.append(ServiceBlock(iri, iri_start, iri_end, open_at, match.start()))
        else:
            expect_iri = False
    return sorted(blocks, key=lambda block: block.open)


def with_wikidata_endpoint(text: str, endpoint: str) -> str:
    """Point every `SERVICE <https://query.wikidata.org/sparql>` of a query at `endpoint`.

    The IRI is written by pyoxigraph's serializer, which refuses anything that is not an IRI;
    only http(s) endpoints are accepted.
    """
    if not endpoint.startswith(("http://", "https://")):
        raise UsageError(f"--wikidata {endpoint!r}: give the endpoint's http(s) URL")
    try:
        iri = str(ox.NamedNode(endpoint))
    except ValueError as exc:
        raise UsageError(f"--wikidata {endpoint!r} is not a valid IRI ({exc})") from None
    for block in reversed(service_blocks(text)):
        if block.iri == WIKIDATA_ENDPOINT:
            text = text[: block.iri_start] + iri + text[block.iri_end :]
    return text


def with_service_values(text: str, values: Mapping[str, Sequence[Term]]) -> str:
    """Open each SERVICE block that uses `?name` with `VALUES ?name { terms }` (for each name).

    The terms are written by pyoxigraph's serializer (a Wikidata entity as `wd:Q36` when the
    query declares that prefix), a few to a line. An empty list gives `VALUES ?x { }`, which
    matches nothing: there is nothing in the graph to join with.
    """
    wd_prefix = re.search(rf"PREFIX\s+wd:\s*<{re.escape(WD)}>", text, re.IGNORECASE) is not None

    def written(term: Term) -> str:
        if wd_prefix and isinstance(term, ox.NamedNode) and _WD_ENTITY.match(term.value):
            return "wd:" + term.value[len(WD) :]
        return str(term)

    for block in reversed(service_blocks(text)):
        inner = text[block.open : block.close]
        lines = []
        for name, terms in values.items():
            if not re.search(rf"[?$]{name}\b", inner):
                continue
            words = [written(term) for term in terms]
            rows = [" ".join(words[i : i + 8]) for i in range(0, len(words), 8)]
            body = "".join(f"\n      {row}" for row in rows)
            lines.append(
                f"\n    VALUES ?{name} {{{body}\n    }}" if rows else f"\n    VALUES ?{name} {{ }}"
            )
        text = text[: block.open] + "".join(lines) + text[block.open :]
    return text


def graph_qids(store_or_endpoint: ox.Store | str, *, http_timeout: float = 120.0) -> list[Term]:
    """Every Wikidata entity the graph links to (`owl:sameAs wd:Q...` objects), sorted."""
    text = (
        f"SELECT DISTINCT ?qid WHERE {{ ?entity <{OWL_SAME_AS}> ?qid "
        f'FILTER(isIRI(?qid) && REGEX(STR(?qid), "^{WD}Q[1-9][0-9]*$")) }}'
    )
    if isinstance(store_or_endpoint, str):
        solutions = _query_endpoint(store_or_endpoint, text, http_timeout)
    else:
        solutions = store_or_endpoint.query(text, use_default_graph_as_union=True)
    assert isinstance(solutions, ox.QuerySolutions)
    qids = [solution[0] for solution in solutions if solution[0] is not None]
    return sorted(qids, key=lambda term: (len(term.value), term.value))


def prepare_query(
    store_or_endpoint: ox.Store | str,
    saved: SavedQuery,
    params: Mapping[str, str] | None = None,
    *,
    wikidata: str | None = None,
    http_timeout: float = 120.0,
) -> str:
    """The text `run_saved_query` sends: parameters bound, Wikidata endpoint set, QIDs pushed.

    `wikidata` replaces the Wikidata endpoint of the SERVICE blocks (default: keep
    https://query.wikidata.org/sparql). The graph's QIDs are read from `store_or_endpoint`.
    """
    text = query_with_values(saved, bind_params(saved, params or {}))
    if wikidata is not None:
        text = with_wikidata_endpoint(text, wikidata)
    if saved.service_values:
        qids = graph_qids(store_or_endpoint, http_timeout=http_timeout)
        text = with_service_values(text, {name: qids for name in saved.service_values})
    return text


# ----------------------------------------------------------------------------------------------
# Running
# ----------------------------------------------------------------------------------------------


def run_saved_query(
    store_or_endpoint: ox.Store | str,
    saved: SavedQuery,
    params: Mapping[str, str] | None = None,
    *,
    wikidata: str | None = None,
    http_timeout: float = 120.0,
) -> tuple[list[str], list[Row]]:
    """Run a saved query on a pyoxigraph Store or a SPARQL endpoint URL (…/query).

    Returns the variable names and the rows (pyoxigraph terms, None where unbound). The store
    is queried with the union default graph, as `kg serve` does. `wikidata` is the endpoint
    for the query's SERVICE blocks (default https://query.wikidata.org/sparql).
    """
    text = prepare_query(
        store_or_endpoint, saved, params, wikidata=wikidata, http_timeout=http_timeout
    )
    if isinstance(store_or_endpoint, str):
        solutions = _query_endpoint(store_or_endpoint, text, http_timeout)
        if not isinstance(solutions, ox.QuerySolutions):
            raise InputError(saved.path, "a saved query must be a SELECT query")
        variables = [v.value for v in solutions.variables]
        return variables, [tuple(s[i] for i in range(len(variables))) for s in solutions]
    try:
        solutions = store_or_endpoint.query(text, use_default_graph_as_union=True)
        if not isinstance(solutions, ox.QuerySolutions):
            raise InputError(saved.path, "a saved query must be a SELECT query")
        variables = [v.value for v in solutions.variables]
        rows = [tuple(solution[i] for i in range(len(variables))) for solution in solutions]
    except SyntaxError as exc:
        raise InputError(saved.path, f"SPARQL syntax error: {exc}") from None
    except OSError as exc:  # a SERVICE endpoint that cannot be reached or answers badly
        endpoints = sorted({block.iri for block in service_blocks(text) if block.iri})
        raise KgError(
            f"query {saved.name}: the SERVICE endpoint {', '.join(endpoints)} failed: {exc}"
            + (" (choose another with --wikidata URL)" if endpoints else "")
        ) from None
    return variables, rows


def _query_endpoint(url: str, text: str, timeout: float) -> ox.QuerySolutions:
    request = urllib.request.Request(
        url,
        data=urllib.parse.urlencode({"query": text}).encode("utf-8"),
        headers={
            "Accept": "application/sparql-results+json",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace").strip()
        raise KgError(f"{url} answered HTTP {exc.code}: {detail}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise KgError(f"cannot reach the SPARQL endpoint {url}: {exc}") from None
    try:
        return ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
    except SyntaxError:
        # Oxigraph streams results: a query stopped by the timeout ends the body with a message.
        tail = body.decode("utf-8", "replace")[-200:]
        raise KgError(f"{url} sent an incomplete result: {tail}") from None


# ----------------------------------------------------------------------------------------------
# Formatting
# ----------------------------------------------------------------------------------------------


def compact_iri(iri: str) -> str:
    """`https://w3id.org/dkg/id/state/PL` -> `dkgr:state/PL` (dkg:, dkgr:, wd:); others as is."""
    for prefix, namespace in COMPACT_PREFIXES.items():
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{prefix}:{iri[len(namespace) :]}"
    return iri


def term_to_cell(term: Term | None, compact: bool = True) -> str:
    """A term as a table or CSV cell: IRIs (compacted), literals as their lexical form."""
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return compact_iri(term.value) if compact else term.value
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Literal):
        return term.value
    return str(term)


def term_to_json(term: Term) -> dict[str, str]:
    """A term in the SPARQL 1.1 JSON results shape."""
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    return {"type": "triple", "value": str(term)}


def format_rows(variables: Sequence[str], rows: Sequence[Row], fmt: str) -> str:
    """Render rows as `table` (aligned, compact IRIs), `csv` (full IRIs) or `json`.

    csv follows SPARQL 1.1 CSV results (header of variable names, IRIs in full, literals as
    their lexical form); json is the SPARQL 1.1 JSON results document.
    """
    if fmt == "json":
        document = {
            "head": {"vars": list(variables)},
            "results": {
                "bindings": [
                    {v: term_to_json(t) for v, t in zip(variables, row, strict=True) if t}
                    for row in rows
                ]
            },
        }
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(variables)
        for row in rows:
            writer.writerow([term_to_cell(t, compact=False) for t in row])
        return buffer.getvalue()
    if fmt == "table":
        return _table(variables, rows)
    raise UsageError(f"unknown format {fmt!r} (table, csv, json)")


def _table(variables: Sequence[str], rows: Sequence[Row]) -> str:
    cells = [[" ".join(term_to_cell(t).split()) for t in row] for row in rows]
    widths = [len(v) for v in variables]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    lines = [
        "  ".join(v.ljust(w) for v, w in zip(variables, widths, strict=True)).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.append(f"({len(rows)} row{'' if len(rows) == 1 else 's'})")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------------
# The `kg query` command
# ----------------------------------------------------------------------------------------------


def query_command(
    out_dir: Path,
    name: str | None,
    params: list[str],
    fmt: str,
    queries_dir: Path,
    wikidata: str | None = None,
    show_query: bool = False,
) -> int:
    """`kg query [NAME] [--param NAME=VALUE ...] [--format table|csv|json] [--wikidata URL]`.

    `show_query` prints the SPARQL text that would run (parameters bound, Wikidata endpoint
    set, QIDs pushed into SERVICE blocks) instead of running it, for pasting into the query page.
    """
    saved_queries = load_saved_queries(queries_dir)
    if name is None:
        if params:
            raise UsageError("--param needs a query name")
        width = max((len(n) for n in saved_queries), default=0)
        for query_name, saved in saved_queries.items():
            sys.stdout.write(f"{query_name.ljust(width)}  {saved.title}\n")
        return 0
    if name not in saved_queries:
        available = ", ".join(saved_queries) or "(none)"
        raise UsageError(f"no saved query {name!r} in {queries_dir}; available: {available}")
    saved = saved_queries[name]
    raw = parse_param_args(params)
    bind_params(saved, raw)  # report bad parameters before touching the store
    if wikidata is not None:
        with_wikidata_endpoint("", wikidata)  # report a bad URL before touching the store
    store = load.open_store(out_dir)
    if show_query:
        sys.stdout.write(prepare_query(store, saved, raw, wikidata=wikidata).rstrip("\n") + "\n")
        return 0
    variables, rows = run_saved_query(store, saved, raw, wikidata=wikidata)
    sys.stdout.write(format_rows(variables, rows, fmt))
    return 0
