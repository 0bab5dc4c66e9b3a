"""The per-article cache of a build folder and the manifest that says what a store holds.

Each article's output (its named graph as N-Quads, and its validation results) is stored under
a key: a hash of the article's bytes, its id, its curation file if any, and the dependency hash
(extractor version, and the bytes of the reference data, templates, shapes, ontology, lexicons
and the code of the stages). Entries are immutable and named by key, so a build killed half
way leaves only complete entries (written aside and renamed) that a later build may reuse.

The manifest (one per generation, see kg.load) lists per article: source path, size, mtime,
key, quad count and validation results, and the build's statistics tally (kg.statistics; each
article's contribution to it is in its cache entry). A rebuild compares the articles on disk
with the live manifest: same size and mtime -> same key without reading the file; else the
bytes are hashed.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from kg.extract import EXTRACTOR_VERSION

PACKAGE = Path(__file__).resolve().parents[1]
REPO_ROOT = PACKAGE.parent
CACHE_DIR = ".cache"
FORMAT = 4  # bump when the cached files or the manifest change shape
CODE = (
    "extract/*.py",
    "read.py",
    "reference.py",
    "map.py",
    "rdfterms.py",
    "sparqltext.py",
    "statistics.py",
    "validate/*.py",
    "curate.py",
    "batch/worker.py",
    "templates/*.jinja",
    "lexicon/*.yaml",
)


def dependency_hash(reference_dir: Path) -> str:
    """What every article's output depends on besides its own bytes."""
    digest = hashlib.sha256(f"format {FORMAT}\nextractor {EXTRACTOR_VERSION}\n".encode())
    files = [p for p in sorted(Path(reference_dir).glob("*")) if p.is_file()]
    files += sorted((REPO_ROOT / "shapes").glob("*.ttl"))
    files += [REPO_ROOT / "ontology" / "dkg.ttl"]
    for pattern in CODE:
        files += sorted(PACKAGE.glob(pattern))
    for path in files:
        digest.update(f"\n{path.name}\n".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:32]


def article_key(dependencies: str, article_id: str, data: bytes, curation: bytes | None) -> str:
    digest = hashlib.sha256(f"{dependencies}\n{article_id}\n".encode())
    digest.update(data)
    if curation is not None:
        digest.update(b"\ncuration\n" + curation)
    return digest.hexdigest()[:32]


class Cache:
    """OUT/.cache/ab/<key>.nq: one file per entry, its first line a comment holding the quad
    count and validation results as JSON (``# kg-cache {...}``), then the article's N-Quads.

    One file, not two: creating files is what a build's cache writes cost most.
    """

    def __init__(self, out_dir: Path) -> None:
        self.root = Path(out_dir) / CACHE_DIR
        self._folders: set[str] = set()

    def nquads(self, key: str) -> Path:
        """The entry's file; N-Quads parsers read its first line as a comment."""
        return self.root / key[:2] / f"{key}.nq"

    def keys(self) -> set[str]:
        """Every entry's key (one directory listing per key prefix, no stat per entry)."""
        found: set[str] = set()
        if not self.root.is_dir():
            return found
        with os.scandir(self.root) as folders:
            for folder in folders:
                if folder.is_dir():
                    with os.scandir(folder.path) as entries:
                        found.update(e.name[:-3] for e in entries if e.name.endswith(".nq"))
        return found

    def get(self, key: str) -> dict[str, Any] | None:
        """The cached outcome of `key` (quads, results, statistics), or None when there is none."""
        try:
            with self.nquads(key).open("rb") as entry:
                header = entry.readline()
        except OSError:
            return None
        if not header.startswith(_HEADER):
            return None
        try:
            return orjson.loads(header[len(_HEADER) :])
        except ValueError:
            return None

    def put(self, key: str, nquads: bytes, meta: dict[str, Any]) -> None:
        """Write an entry, aside first and then renamed: a reader never sees half of one."""
        folder = key[:2]
        if folder not in self._folders:
            (self.root / folder).mkdir(parents=True, exist_ok=True)
            self._folders.add(folder)
        header = _HEADER + orjson.dumps(meta) + b"\n"
        _write_atomic(self.nquads(key), header + nquads)

    @staticmethod
    def read_quads(path: Path) -> bytes:
        """An entry's N-Quads, without its header line."""
        with path.open("rb") as entry:
            first = entry.readline()
            data = entry.read()
        return data if first.startswith(_HEADER) else first + data

    @staticmethod
    def copy_quads(path: Path, out: BinaryIO) -> int:
        """Copy an entry's N-Quads (without its header line) to ``out``; the bytes written."""
        data = Cache.read_quads(path)
        out.write(data)
        return len(data)

    def drop(self, keys: Iterable[str]) -> None:
        for key in keys:
            self.nquads(key).unlink(missing_ok=True)

    def prune(self, keep: set[str]) -> None:
        """Remove every entry not in `keep` (leftovers of killed builds, old versions)."""
        if not self.root.is_dir():
            return
        for folder in self.root.iterdir():
            if not folder.is_dir():
                continue
            for entry in os.scandir(folder):
                if entry.name.split(".", 1)[0] not in keep:
                    Path(entry.path).unlink(missing_ok=True)

    def clear(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


_HEADER = b"# kg-cache "


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


# -- manifest -------------------------------------------------------------------------------
@dataclass
class Entry:
    """One article of a generation."""

    path: str
    size: int
    mtime_ns: int
    key: str
    quads: int
    results: list[dict[str, Any]] = field(default_factory=list)
    curation: str = ""  # digest of the article's curation file, "" when it has none
    span: list[int] = field(default_factory=list)  # [offset, length] in the generation's dump


def curation_digest(data: bytes | None) -> str:
    return hashlib.sha256(data).hexdigest()[:16] if data else ""


@dataclass
class Manifest:
    dependencies: str = ""
    static_key: str = ""
    static_quads: int = 0
    static_results: list[dict[str, Any]] = field(default_factory=list)
    articles: dict[str, Entry] = field(default_factory=dict)
    static_span: list[int] = field(default_factory=list)  # [offset, length] in the dump
    # The build's kg.statistics.Tally (Tally.to_json) and the quads of its graph.
    statistics: list[list[Any]] = field(default_factory=list)
    statistics_quads: int = 0

    @property
    def quads(self) -> int:
        articles = sum(e.quads for e in self.articles.values())
        return self.static_quads + articles + self.statistics_quads

    def to_json(self) -> bytes:
        # The manifest of a 100k-article build is ~17 MB, read and written by every rebuild;
        # orjson writes it in a tenth of the standard library's time.
        with _collector_paused():
            return self._dumps()

    def _dumps(self) -> bytes:
        return orjson.dumps(
            {
                "format": FORMAT,
                "dependencies": self.dependencies,
                "static": {
                    "key": self.static_key,
                    "quads": self.static_quads,
                    "results": self.static_results,
                    "span": self.static_span,
                },
                "statistics": {"quads": self.statistics_quads, "tally": self.statistics},
                "articles": {
                    aid: [e.path, e.size, e.mtime_ns, e.key, e.quads, e.results, e.curation, e.span]
                    for aid, e in sorted(self.articles.items())
                },
            },
        )


def read_manifest(path: Path) -> Manifest | None:
    """The manifest at `path`; None when missing, unreadable or of another format."""
    with _collector_paused():
        return _parsed_manifest(path)


def _parsed_manifest(path: Path) -> Manifest | None:
    try:
        data = orjson.loads(Path(path).read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    static = data["static"]
    return Manifest(
        dependencies=data["dependencies"],
        static_key=static["key"],
        static_quads=static["quads"],
        static_results=static["results"],
        articles={aid: Entry(*row) for aid, row in data["articles"].items()},
        static_span=static.get("span", []),
        statistics=data["statistics"]["tally"],
        statistics_quads=data["statistics"]["quads"],
    )


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off while a manifest's million objects are made or walked:
    it would otherwise scan the growing heap again and again (0.8 s of a 1 s read at 100k
    articles). The objects hold no cycles; collection resumes afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
