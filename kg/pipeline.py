"""The flow, stage by stage: read -> extract -> map -> validate -> load. The CLI calls these."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from kg import load, map, rdfterms, validate
from kg.errors import InputError, KgError
from kg.extract import extract
from kg.read import article_files, read_article
from kg.reference import Reference, load_reference

REPO_ROOT = Path(__file__).resolve().parents[1]
EXIT_OK, EXIT_VIOLATIONS, EXIT_ERROR = 0, 1, 2


@dataclass
class BuildResult:
    articles: list[str] = field(default_factory=list)
    skipped: list[InputError] = field(default_factory=list)
    quads: int = 0
    report: validate.ValidationReport | None = None


def static_graphs() -> list[ox.Quad]:
    """The ontology and the shapes, each in a named graph of its own."""
    quads = []
    for graph, paths in (
        (rdfterms.ONTOLOGY_GRAPH, [REPO_ROOT / "ontology" / "dkg.ttl"]),
        (rdfterms.SHAPES_GRAPH, sorted((REPO_ROOT / "shapes").glob("*.ttl"))),
    ):
        for path in paths:
            for triple in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
                quads.append(
                    ox.Quad(triple.subject, triple.predicate, triple.object, ox.NamedNode(graph))
                )
    return quads


def article_graph(path: Path, ref: Reference) -> tuple[str, str]:
    """(article id, rendered TriG) for one article file; raises InputError when it is bad."""
    article = read_article(path)
    record = extract(article, ref)
    return article.id, map.render_article(record, ref)


def build(articles_dir: Path, out_dir: Path, reference_dir: Path) -> BuildResult:
    ref = load_reference(reference_dir)
    result = BuildResult()
    rendered: dict[str, str] = {"reference": map.render_reference(ref)}
    seen: dict[str, Path] = {}
    for path in article_files(articles_dir):
        try:
            if path.stem in seen:
                raise InputError(
                    path, f"article id {path.stem!r} is also used by {seen[path.stem]}"
                )
            article_id, trig = article_graph(path, ref)
        except InputError as exc:
            result.skipped.append(exc)
            continue
        seen[article_id] = path
        rendered[article_id] = trig
        result.articles.append(article_id)
    quads: list[ox.Quad] = []
    for source, trig in rendered.items():
        quads.extend(map.parse_trig(trig, source))
    result.report = validate_quads(quads)
    quads.extend(static_graphs())
    with load.build_lock(out_dir):
        result.quads = load.write_store(out_dir, quads)
    (out_dir / "validation.json").write_text(validate.format_json(result.report), encoding="utf-8")
    return result


def validate_quads(quads: list[ox.Quad]) -> validate.ValidationReport:
    return validate.validate_quads(quads)


# -- commands -----------------------------------------------------------------------------
def build_command(articles: Path, out: Path, reference: Path, curation: Path, strict: bool) -> int:
    result = build(articles, out, reference)
    for problem in result.skipped:
        print(f"kg build: skipped {problem}", file=sys.stderr)
    report = result.report
    assert report is not None
    print(
        f"Built {len(result.articles)} article(s) into {load.store_path(out)} "
        f"({result.quads} quads; dump {out / load.DUMP_FILE})"
        + (f"; skipped {len(result.skipped)} file(s)" if result.skipped else "")
    )
    if not report.conforms:
        print(validate.format_text(report))
    else:
        print(f"SHACL: conforms ({len(report.warnings())} warning(s); `kg validate` lists them)")
    if strict and result.skipped:
        return EXIT_ERROR
    return EXIT_OK if report.conforms else EXIT_VIOLATIONS


def extract_command(file: Path, reference: Path) -> int:
    record = extract(read_article(file), load_reference(reference))
    print(json.dumps(record.to_json(), ensure_ascii=False, indent=2))
    return EXIT_OK


__all__ = ["build", "build_command", "extract_command", "KgError"]
