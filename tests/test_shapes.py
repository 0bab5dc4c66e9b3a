"""The SHACL shapes report exactly the rows each fixture under tests/shapes/ declares.

Fixtures are discovered from tests/shapes/valid/ and tests/shapes/invalid/; each is validated
together with tests/shapes/base.ttl (a little reference data and one article). A fixture's
header lists the rows it expects, one a line:

    # expect: <Severity> <focus node> <path or -> <ConstraintComponentLocalName>

Nodes are written ``<relative/iri>`` (resolved against the file's ``@base``) or ``prefix:local``
(a prefix the file declares); an inverse path is written ``^prefix:local``. Valid fixtures may
only expect warnings; invalid ones expect at least one violation. Every fixture is validated on
the same day, VALIDATION_DAY, so "not in the future" gives the same rows whatever the date.
See tests/shapes/README.md.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urljoin

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SH

from kg.validate import (
    ValidationReport,
    load_ontology,
    load_shapes,
    shapes_for_day,
    validate_graph,
)

FIXTURES = Path(__file__).parent / "shapes"
BASE = FIXTURES / "base.ttl"
VALID = sorted((FIXTURES / "valid").glob("*.ttl"))
INVALID = sorted((FIXTURES / "invalid").glob("*.ttl"))
# The day the fixtures are validated on: dates after it are "in the future".
VALIDATION_DAY = dt.date(2025, 6, 30)

_EXPECT = re.compile(r"^#\s*expect:\s*(.*?)\s*$")
_PREFIX = re.compile(r"@prefix\s+([\w-]*):\s*<([^>]*)>\s*\.")
_BASE = re.compile(r"@base\s+<([^>]*)>\s*\.")
_NAME = re.compile(r"^[A-Z][A-Za-z]+-[a-z0-9A-Z][A-Za-z0-9-]*$")

# The constraint component each shape parameter reports (for the coverage check).
_COMPONENT = {
    SH["class"]: "ClassConstraintComponent",
    SH.datatype: "DatatypeConstraintComponent",
    SH.nodeKind: "NodeKindConstraintComponent",
    SH.minCount: "MinCountConstraintComponent",
    SH.maxCount: "MaxCountConstraintComponent",
    SH.minInclusive: "MinInclusiveConstraintComponent",
    SH.maxInclusive: "MaxInclusiveConstraintComponent",
    SH.minExclusive: "MinExclusiveConstraintComponent",
    SH.maxExclusive: "MaxExclusiveConstraintComponent",
    SH.minLength: "MinLengthConstraintComponent",
    SH.maxLength: "MaxLengthConstraintComponent",
    SH.pattern: "PatternConstraintComponent",
    SH.languageIn: "LanguageInConstraintComponent",
    SH.uniqueLang: "UniqueLangConstraintComponent",
    SH.equals: "EqualsConstraintComponent",
    SH.disjoint: "DisjointConstraintComponent",
    SH.lessThan: "LessThanConstraintComponent",
    SH.lessThanOrEquals: "LessThanOrEqualsConstraintComponent",
    SH["not"]: "NotConstraintComponent",
    SH["and"]: "AndConstraintComponent",
    SH["or"]: "OrConstraintComponent",
    SH.xone: "XoneConstraintComponent",
    SH.node: "NodeConstraintComponent",
    SH.qualifiedMinCount: "QualifiedMinCountConstraintComponent",
    SH.qualifiedMaxCount: "QualifiedMaxCountConstraintComponent",
    SH.closed: "ClosedConstraintComponent",
    SH.hasValue: "HasValueConstraintComponent",
    SH["in"]: "InConstraintComponent",
    SH.sparql: "SPARQLConstraintComponent",
}


@dataclass(frozen=True, order=True)
class Row:
    """One report row as the fixtures state it."""

    severity: str
    focus_node: str
    path: str | None
    constraint: str

    def __str__(self) -> str:
        return f"{self.severity} <{self.focus_node}> {self.path or '-'} {self.constraint}"


def _resolve(token: str, base: str, prefixes: dict[str, str], where: Path) -> str:
    if token.startswith("^"):
        return "^" + _resolve(token[1:], base, prefixes, where)
    if token.startswith("<") and token.endswith(">"):
        return urljoin(base, token[1:-1])
    prefix, sep, local = token.partition(":")
    if not sep or prefix not in prefixes:
        raise ValueError(f"{where.name}: header names {token!r} with an undeclared prefix")
    return prefixes[prefix] + local


def expected_rows(path: Path) -> set[Row]:
    """The rows a fixture's ``# expect:`` header lines declare."""
    text = path.read_text(encoding="utf-8")
    prefixes = dict(_PREFIX.findall(text))
    base_match = _BASE.search(text)
    base = base_match.group(1) if base_match else ""
    rows = set()
    for line in text.splitlines():
        match = _EXPECT.match(line)
        if not match:
            continue
        parts = match.group(1).split()
        if len(parts) != 4:
            raise ValueError(f"{path.name}: expect line needs 4 fields: {line!r}")
        severity, focus, path_token, constraint = parts
        rows.add(
            Row(
                severity,
                _resolve(focus, base, prefixes, path),
                None if path_token == "-" else _resolve(path_token, base, prefixes, path),
                constraint,
            )
        )
    return rows


@cache
def shapes() -> Graph:
    return shapes_for_day(load_shapes(), VALIDATION_DAY)


@cache
def ontology() -> Graph:
    return load_ontology()


@cache
def base_graph() -> Graph:
    return Graph().parse(BASE, format="turtle")


@cache
def report_for(path: Path) -> ValidationReport:
    """Validate a fixture with the base graph (cached: coverage tests reuse the reports)."""
    data = Graph()
    data += base_graph()
    data.parse(path, format="turtle")
    return validate_graph(data, shapes(), ontology(), today=VALIDATION_DAY)


def rows_of(report: ValidationReport) -> set[Row]:
    return {Row(r.severity, r.focus_node, r.path, r.constraint) for r in report.results}


def reported_rows(path: Path) -> set[Row]:
    return rows_of(report_for(path))


def _diff(expected: set[Row], reported: set[Row]) -> str:
    lines = []
    missing = sorted(expected - reported)
    unexpected = sorted(reported - expected)
    if missing:
        lines.append("expected but missing:")
        lines += [f"  {row}" for row in missing]
    if unexpected:
        lines.append("reported but unexpected:")
        lines += [f"  {row}" for row in unexpected]
    return "\n".join(lines)


def _ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


def test_fixture_folders_are_not_empty() -> None:
    assert VALID, "no fixtures in tests/shapes/valid"
    assert INVALID, "no fixtures in tests/shapes/invalid"


def test_base_graph_conforms_without_any_result() -> None:
    report = validate_graph(base_graph(), shapes(), ontology(), today=VALIDATION_DAY)
    assert report.results == [], _diff(set(), rows_of(report))


@pytest.mark.parametrize("path", VALID, ids=_ids(VALID))
def test_valid_fixture_conforms(path: Path) -> None:
    expected = expected_rows(path)
    assert all(row.severity != "Violation" for row in expected), (
        f"{path.name} expects a violation: move it to tests/shapes/invalid/"
    )
    report = report_for(path)
    assert report.conforms, _diff(expected, reported_rows(path))
    assert reported_rows(path) == expected, _diff(expected, reported_rows(path))


@pytest.mark.parametrize("path", INVALID, ids=_ids(INVALID))
def test_invalid_fixture_reports_exactly_the_expected_rows(path: Path) -> None:
    expected = expected_rows(path)
    assert any(row.severity == "Violation" for row in expected), (
        f"{path.name} declares no '# expect: Violation ...' line"
    )
    assert reported_rows(path) == expected, _diff(expected, reported_rows(path))
    assert not report_for(path).conforms


@pytest.mark.parametrize("path", VALID + INVALID, ids=_ids(VALID + INVALID))
def test_fixture_is_named_class_first_reason_second(path: Path) -> None:
    assert _NAME.match(path.stem), f"{path.name}: name it Class-reason.ttl"
    declared = {str(c).rsplit("#", 1)[-1] for c in ontology().subjects(RDF.type, None)}
    assert path.stem.split("-", 1)[0] in declared, f"{path.name}: starts with no dkg class"


def _checked_constraints() -> set[tuple[str, str]]:
    """(shape IRI, constraint component) for every constraint of a targeted shape."""
    graph = shapes()
    targeted = set(graph.subjects(SH.targetClass, None))
    property_shapes = {p for s in targeted for p in graph.objects(s, SH.property)}
    pairs = set()
    for shape in targeted | property_shapes:
        for parameter, component in _COMPONENT.items():
            if (shape, parameter, None) in graph:
                pairs.add((str(shape), component))
    return pairs


def test_every_constraint_has_a_violating_fixture() -> None:
    """An invalid fixture reports each constraint; a constraint of severity sh:Warning (which
    never makes a graph invalid) is reported by a valid fixture that expects the warning."""
    exercised = {
        (r.source_shape, r.constraint) for path in INVALID for r in report_for(path).results
    }
    exercised |= {
        (r.source_shape, r.constraint)
        for path in VALID
        for r in report_for(path).results
        if r.severity == "Warning"
    }
    missing = sorted(_checked_constraints() - exercised)
    assert not missing, "constraints no fixture reports:\n" + "\n".join(
        f"  {shape} {component}" for shape, component in missing
    )


def test_every_target_class_has_a_conforming_fixture() -> None:
    graph = shapes()
    classes = set(graph.objects(None, SH.targetClass))
    covered = set(base_graph().objects(None, RDF.type))
    for path in VALID:
        fixture = Graph().parse(path, format="turtle")
        covered |= set(fixture.objects(None, RDF.type))
    missing = sorted(str(c) for c in classes if URIRef(c) not in covered)
    assert not missing, (
        "target classes without a conforming instance in tests/shapes/:\n"
        + "\n".join(f"  {c}" for c in missing)
    )
