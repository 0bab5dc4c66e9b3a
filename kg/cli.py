"""The `kg` command: a thin layer over the library; each verb calls one function.

Exit codes: 0 success (graph valid), 1 SHACL violations, 2 bad input or usage.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import sys
from pathlib import Path

from kg.errors import KgError

EXIT_OK = 0
EXIT_VIOLATIONS = 1
EXIT_ERROR = 2


def _out_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", type=Path, default=Path("build"), help="build folder (default: build)"
    )


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


def _day(text: str) -> dt.date:
    """An ISO date argument (`kg validate --today`)."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from exc


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kg", description="Build, check and serve a knowledge graph of diplomacy news."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("build", help="build the graph from article files into OUT/store")
    p.add_argument("--articles", type=Path, default=Path("data/articles"))
    p.add_argument("--reference", type=Path, default=Path("data/reference"))
    p.add_argument("--curation", type=Path, default=Path("data/curation"))
    p.add_argument("--strict", action="store_true", help="exit 2 when any article is refused")
    p.add_argument(
        "--workers", type=_positive, default=None, help="processes to use (default: all cores)"
    )
    p.add_argument(
        "--no-compact",
        dest="compact",
        action="store_false",
        help="leave a full build's store as the bulk loader wrote it: saves ~12 s at 100k "
        "articles and half the disk, but meetings-in-range then takes ~350 ms there",
    )
    _out_option(p)

    p = sub.add_parser("synth", help="write a synthetic corpus of articles with gold annotations")
    p.add_argument("--articles", type=_positive, required=True, help="how many articles")
    p.add_argument("--seed", type=int, default=1, help="the same seed gives the same corpus")
    p.add_argument("--out", type=Path, required=True, help="writes OUT/articles and OUT/gold")
    p.add_argument("--reference", type=Path, default=Path("data/reference"))

    p = sub.add_parser("extract", help="print one article's extraction record as JSON")
    p.add_argument("file", type=Path)
    p.add_argument("--reference", type=Path, default=Path("data/reference"))
    p.add_argument(
        "--curation",
        type=Path,
        default=Path("data/curation"),
        help="apply the article's curation file from this folder (if any)",
    )

    p = sub.add_parser(
        "validate",
        help="validate the built graph, article files, reference tables or curation files",
        description="Targets add up; with none, the built graph in OUT/store is validated. "
        "Exit 0 conforms, 1 violations (or warnings with --fail-on warning), 2 error.",
    )
    p.add_argument("--out", type=Path, default=None, help="validate the build in OUT/store")
    p.add_argument(
        "--article",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="validate one article file: read, extract, map, validate (repeatable)",
    )
    p.add_argument(
        "--reference",
        type=Path,
        default=None,
        metavar="DIR",
        help="validate the reference tables in DIR, and use them for --article/--curation "
        "(default data/reference)",
    )
    p.add_argument(
        "--curation",
        type=Path,
        default=None,
        metavar="DIR",
        help="validate the curation files DIR/ID.yaml against their articles",
    )
    p.add_argument(
        "--articles",
        type=Path,
        default=None,
        metavar="DIR",
        help="where the article files are (default data/articles)",
    )
    p.add_argument(
        "--ontology",
        action="store_true",
        help="check the ontology and shapes: in step, bilingual, consistent under OWL RL",
    )
    p.add_argument("--format", choices=["text", "json", "junit"], default="text")
    p.add_argument("--fail-on", choices=["violation", "warning"], default="violation")
    p.add_argument(
        "--today",
        type=_day,
        default=None,
        metavar="YYYY-MM-DD",
        help="the validation day dates may not be after (default: today)",
    )
    p.add_argument(
        "--junit",
        type=Path,
        default=None,
        metavar="FILE",
        help="also write the report as JUnit XML to FILE (for CI dashboards)",
    )
    p.add_argument(
        "--engine",
        choices=["compiled", "pyshacl"],
        default="compiled",
        help="SHACL engine: the shapes compiled once (default, fast) or pySHACL (the "
        "reference implementation; same report, slower)",
    )

    p = sub.add_parser("serve", help="serve the built store with the Oxigraph SPARQL server")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7878)
    p.add_argument("--timeout", type=float, default=30.0, help="query timeout in seconds")
    p.add_argument(
        "--docs", type=Path, default=Path("docs"), help="folder served at /docs/ (default: docs)"
    )
    p.add_argument(
        "--reload",
        action="store_true",
        help="switch to each new build's store as it is published, without a failed query",
    )
    _out_option(p)

    p = sub.add_parser("query", help="run a saved query from queries/ against the built store")
    p.add_argument("name", nargs="?", help="query name (file name without .rq); none lists them")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    p.add_argument("--queries", type=Path, default=Path("queries"))
    p.add_argument(
        "--wikidata",
        metavar="URL",
        help="SPARQL endpoint for the queries' Wikidata SERVICE blocks "
        "(default: https://query.wikidata.org/sparql)",
    )
    p.add_argument(
        "--show-query", action="store_true", help="print the SPARQL text instead of running it"
    )
    _out_option(p)

    p = sub.add_parser("export", help="write the built graph or one of its graphs to a file")
    p.add_argument(
        "--graph",
        default="all",
        metavar="ARTICLE_ID|reference|ontology|shapes|all",
        help="one named graph, or all of them (default)",
    )
    p.add_argument("--format", choices=["turtle", "trig", "nquads", "jsonld"])
    p.add_argument("--output", type=Path, help="file to write (default: stdout)")
    _out_option(p)

    p = sub.add_parser("docs", help="write the ontology's HTML documentation and JSON-LD context")
    p.add_argument("--ontology", type=Path, default=Path("ontology/dkg.ttl"))
    p.add_argument("--docs", type=Path, default=Path("docs"), help="docs folder (default: docs)")
    _out_option(p)

    p = sub.add_parser("eval", help="score the built graph against gold annotations")
    p.add_argument("--gold", type=Path, required=True)
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--details", action="store_true", help="list every miss and false hit")
    _out_option(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors already; keep its code
        return int(exc.code or 0)
    try:
        return _dispatch(args)
    except KgError as exc:
        print(f"kg {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    # Imports are local so that `kg --help` stays fast and each verb loads only its stage.
    if args.command == "build":
        from kg.pipeline import build_command

        return build_command(
            args.articles,
            args.out,
            args.reference,
            args.curation,
            args.strict,
            args.workers,
            args.compact,
        )
    if args.command == "synth":
        from kg.synth import synth_command

        return synth_command(args.articles, args.seed, args.out, args.reference)
    if args.command == "extract":
        from kg.pipeline import extract_command

        return extract_command(args.file, args.reference, args.curation)
    if args.command == "validate":
        from kg.validate import validate_command

        return validate_command(
            args.out,
            args.format,
            args.fail_on,
            articles=args.articles,
            reference=args.reference,
            article_files=args.article,
            curation=args.curation,
            ontology=args.ontology,
            today=args.today,
            junit=args.junit,
            engine=args.engine,
        )
    if args.command == "serve":
        from kg.serve import serve_command

        return serve_command(args.out, args.host, args.port, args.timeout, args.docs, args.reload)
    if args.command == "query":
        from kg.query import query_command

        return query_command(
            args.out,
            args.name,
            args.param,
            args.format,
            args.queries,
            args.wikidata,
            args.show_query,
        )
    if args.command == "export":
        from kg.export import export_command

        return export_command(args.out, args.graph, args.format, args.output)
    if args.command == "docs":
        from kg.docs import docs_command

        return docs_command(args.out, args.ontology, args.docs)
    if args.command == "eval":
        from kg.evaluate import eval_command

        return eval_command(args.out, args.gold, args.format, args.details)
    raise AssertionError(args.command)


def run() -> None:
    """The `kg` command: `main` on the command line's arguments, then the process ends.

    After `kg build` it ends at once (os._exit, once the standard streams are flushed):
    Python would otherwise free the build's objects one by one on its way out, 0.3-0.4 s of a
    4-5 s rebuild at 100k articles. Everything a build writes is closed by then."""
    argv = sys.argv[1:]
    code = main(argv)
    if argv[:1] == ["build"]:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    run()
