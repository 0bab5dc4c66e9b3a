"""Load stage: quads -> a pyoxigraph store on disk, written aside and switched in only when
complete, so a failed or killed build leaves the previous store whole and servable.

Layout of a build folder OUT::

    OUT/store            -> current/store            (links that never change)
    OUT/dataset.nq       -> current/dataset.nq
    OUT/validation.json  -> current/validation.json
    OUT/current          -> .generations/<id>        (the one link a build replaces)
    OUT/.generations/<id>/{store, dataset.nq, validation.json, manifest.json}
    OUT/.build.lock      (held by the build that is writing)

A build writes a new generation folder and then replaces the `current` link with one
`rename(2)`, which is atomic: readers see the old generation or the new one, never a mix.
The previous generation is kept (a server started on it keeps its files); older ones go.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import threading
import time
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TextIO

import pyoxigraph as ox

from kg.errors import InputError, KgError, UsageError

STORE_DIR = "store"
DUMP_FILE = "dataset.nq"
REPORT_FILE = "validation.json"
MANIFEST_FILE = "manifest.json"
CURRENT = "current"
GENERATIONS = ".generations"
LOCK_FILE = ".build.lock"
LINKED = (STORE_DIR, DUMP_FILE, REPORT_FILE)
KEEP_GENERATIONS = 2  # the live one and the one before it
LOAD_PART_BYTES = 48 * 2**20  # a bulk-loaded part: its quads, parsed and sorted, ~6x this
LOAD_MAX_THREADS = 4  # parts loaded at once, whatever the cores: memory is ~0.3 GiB each


def store_path(out_dir: Path) -> Path:
    return Path(out_dir) / STORE_DIR


def lock_path(out_dir: Path) -> Path:
    return Path(out_dir) / LOCK_FILE


@contextlib.contextmanager
def build_lock(out_dir: Path) -> Iterator[None]:
    """Only one build writes into an output folder at a time; a second one is refused.

    The lock is an flock(2) on OUT/.build.lock: the kernel drops it when the holder exits,
    even by SIGKILL, so a killed build never leaves a stale lock behind.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = lock_path(out_dir)
    handle = path.open("w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        handle.close()
        raise KgError(
            f"another `kg build` is writing to {out_dir} (it holds the lock {path}); "
            "nothing was changed: wait for it to finish"
        ) from exc
    _held.append(handle)
    try:
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield
    finally:
        _held.remove(handle)
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


_held: list[TextIO] = []  # lock files this process holds


def close_inherited_locks() -> None:
    """In a forked worker: close its copies of the build lock, so that the lock goes when the
    build process goes (an flock lives while any process has the file open)."""
    for handle in list(_held):
        handle.close()  # no LOCK_UN: that would release the parent's lock too
    _held.clear()


# -- generations ----------------------------------------------------------------------------
def live_generation(out_dir: Path) -> Path | None:
    """The folder of the store that is live now, or None before the first build."""
    link = Path(out_dir) / CURRENT
    if not link.is_symlink():
        return None
    target = link.resolve()
    return target if target.is_dir() else None


def new_generation(out_dir: Path) -> Path:
    """A fresh folder for the next generation (leftovers of killed builds are cleared first)."""
    root = Path(out_dir) / GENERATIONS
    root.mkdir(parents=True, exist_ok=True)
    _remove_unused_generations(out_dir, keep=KEEP_GENERATIONS)
    gen = root / f"{time.time_ns():020d}-{os.getpid()}"  # names sort by age
    gen.mkdir()
    return gen


def switch_to(out_dir: Path, gen: Path) -> None:
    """Make `gen` the live generation: one atomic rename of the `current` link."""
    out_dir = Path(out_dir)
    tmp = out_dir / f".{CURRENT}.new"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    tmp.symlink_to(os.path.relpath(gen, out_dir))
    _fsync_dir(gen)
    os.replace(tmp, out_dir / CURRENT)
    _fsync_dir(out_dir)
    for name in LINKED:
        _ensure_link(out_dir, name)
    _remove_unused_generations(out_dir, keep=KEEP_GENERATIONS)


def _ensure_link(out_dir: Path, name: str) -> None:
    """OUT/name -> current/name. A real file or folder left by an older build is replaced."""
    link = out_dir / name
    target = f"{CURRENT}/{name}"
    if link.is_symlink() and os.readlink(link) == target:
        return
    tmp = out_dir / f".{name}.link"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    tmp.symlink_to(target)
    if link.is_dir() and not link.is_symlink():  # a store folder written by an older version
        old = out_dir / f".{name}.old"
        shutil.rmtree(old, ignore_errors=True)
        os.replace(link, old)
        os.replace(tmp, link)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, link)


def start_removing_older_generations(out_dir: Path, new: Path) -> threading.Thread:
    """Remove, in a thread started now, the generations `switch_to(out_dir, new)` would remove
    once it has switched: all but the live one, ``new``, and those a server reads. Join the
    thread before the switch. A rebuild spends ~0.3 s deleting a 100k-article generation,
    which then overlaps with writing the new one."""
    live = live_generation(out_dir)
    keep = {gen for gen in (live, Path(new)) if gen is not None}
    remover = threading.Thread(target=_remove_generations_but, args=(out_dir, keep))
    remover.start()
    return remover


def _remove_generations_but(out_dir: Path, keep: set[Path]) -> None:
    keep = {gen.resolve() for gen in keep}  # OUT may be given as a relative path
    root = (Path(out_dir) / GENERATIONS).resolve()
    for gen in root.iterdir() if root.is_dir() else ():
        if gen not in keep and not in_use(gen):
            shutil.rmtree(gen, ignore_errors=True)


def _remove_unused_generations(out_dir: Path, keep: int) -> None:
    """Every generation but the live one and the newest `keep - 1` before it."""
    root = (Path(out_dir) / GENERATIONS).resolve()  # as absolute as the live one
    if not root.is_dir():
        return
    live = live_generation(out_dir)
    finished = sorted(
        (g for g in root.iterdir() if g.is_dir() and (g / MANIFEST_FILE).exists() and g != live),
        reverse=True,
    )
    _remove_generations_but(out_dir, {g for g in (live, *finished[: keep - 1]) if g is not None})


# -- generations a running server reads ---------------------------------------------------
SERVING_MARK = "serving."  # + the pid of the `kg serve` reading the generation


def generation_of(store_dir: Path) -> Path:
    """The generation folder a store path resolves to (OUT/store -> .generations/<id>/store)."""
    return Path(os.path.realpath(store_dir)).parent


def mark_in_use(gen: Path) -> Path:
    """Tell builds this generation is being served, so they keep it until the server stops."""
    mark = Path(gen) / f"{SERVING_MARK}{os.getpid()}"
    mark.touch()
    return mark


def in_use(gen: Path) -> bool:
    for mark in Path(gen).glob(f"{SERVING_MARK}*"):
        pid = mark.name.removeprefix(SERVING_MARK)
        if pid.isdigit() and _alive(int(pid)):
            return True
    return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- writing stores -------------------------------------------------------------------------
def bulk_load(store_dir: Path, nquads: Path, starts: Sequence[int] = (), threads: int = 1) -> None:
    """A new store at `store_dir` from an N-Quads file, through Oxigraph's bulk loader.

    `starts`: offsets in the file where a part may begin. Each part is given to the bulk
    loader on its own, `threads` parts at a time, so they must be offsets of whole entries
    (an article's graph, the reference graphs): a blank node label is scoped to one call, and
    only an entry's own quads use its labels. Without `starts` the file is loaded in one call.

    One call on the whole 100k-article dump held ~1.7 GiB (the loader parses a million quads
    ahead while it sorts and writes the previous million); parts of `LOAD_PART_BYTES`, two at
    a time, held ~0.6 GiB and loaded faster, both cores busy with parsing and sorting alike.
    """
    parts = load_parts(nquads.stat().st_size, starts, LOAD_PART_BYTES)
    store = ox.Store(str(store_dir))
    if len(parts) == 1 or threads <= 1:
        for start, end in parts:
            _bulk_load_part(store, nquads, start, end)
    else:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            loading = [pool.submit(_bulk_load_part, store, nquads, a, b) for a, b in parts]
            try:
                for part in loading:
                    part.result()
            except BaseException:
                pool.shutdown(cancel_futures=True)
                raise
    store.flush()
    del store  # closes the store's files


def load_parts(size: int, starts: Sequence[int], part_bytes: int) -> list[tuple[int, int]]:
    """[start, end) byte ranges covering a file of `size` bytes, each beginning at 0 or at one
    of `starts` and, where `starts` allow, about `part_bytes` long."""
    parts: list[tuple[int, int]] = []
    begin = 0
    for start in sorted(starts):
        if begin + part_bytes <= start < size:
            parts.append((begin, start))
            begin = start
    parts.append((begin, size))
    return parts


def _bulk_load_part(store: ox.Store, nquads: Path, start: int, end: int) -> None:
    try:
        if start == 0 and end == nquads.stat().st_size:
            store.bulk_load(path=str(nquads), format=ox.RdfFormat.N_QUADS)
            return
        with nquads.open("rb") as handle:
            data = os.pread(handle.fileno(), end - start, start)
        store.bulk_load(input=data, format=ox.RdfFormat.N_QUADS)
    except SyntaxError as exc:  # its line counts from the part's start: told from the file's
        line = _lines_before(nquads, start) + (exc.lineno or 1)
        message = str(exc.msg).split(": ", 1)[-1]
        raise InputError(nquads, f"not N-Quads: {message}", line) from None


def _lines_before(path: Path, offset: int) -> int:
    count, left = 0, offset
    with path.open("rb") as handle:
        while left > 0:
            block = handle.read(min(left, 1 << 20))
            if not block:
                break
            count += block.count(b"\n")
            left -= len(block)
    return count


def compact(store_dir: Path) -> None:
    """Compact the store at `store_dir` (RocksDB's full compaction, `Store.optimize()`).

    The bulk loader leaves one sorted file per batch and column family, many of them
    overlapping; a range read (the meetings of a date range) then seeks in each of them.
    After compaction it seeks in one file per level: on the 100k synthetic store
    meetings-in-range went from ~300 ms to ~90 ms, for ~10 s of compaction."""
    store = ox.Store(str(store_dir))
    store.optimize()
    store.flush()
    del store


def update_copy(
    live_store: Path,
    store_dir: Path,
    drop_graphs: Iterable[str],
    add_files: Iterable[Path],
    replace_graphs: Mapping[str, Collection[ox.Quad]] | None = None,
) -> None:
    """A new store at `store_dir`: a copy of `live_store` (RocksDB checkpoint: hard links to
    its immutable files, so cheap) with `drop_graphs` removed, `add_files` (N-Quads) added, and
    each graph of `replace_graphs` made to hold exactly the quads given for it. The live store is
    only read.

    A replaced graph changes by its difference alone: the statistics graph holds tens of
    thousands of calendar quads at 100k articles, of which one changed article moves a few."""
    source = ox.Store.read_only(str(live_store))
    source.backup(str(store_dir))
    del source
    store = ox.Store(str(store_dir))
    for graph in drop_graphs:
        store.remove_graph(ox.NamedNode(graph))
    for path in add_files:
        store.load(path=str(path), format=ox.RdfFormat.N_QUADS)
    for graph, quads in (replace_graphs or {}).items():
        _replace_graph(store, ox.NamedNode(graph), quads)
    store.flush()
    del store


def _replace_graph(store: ox.Store, graph: ox.NamedNode, quads: Collection[ox.Quad]) -> None:
    wanted = set(quads)
    held = set(store.quads_for_pattern(None, None, None, graph))
    for quad in held - wanted:
        store.remove(quad)
    store.extend(wanted - held)


def write_store(out_dir: Path, quads: Iterable[ox.Quad]) -> int:
    """Write `quads` as a new generation (store and N-Quads dump) and switch to it.

    Returns the number of distinct quads. Used for graphs that do not come from articles
    (fixtures); `kg build` goes through kg.pipeline.
    """
    out_dir = Path(out_dir)
    gen = new_generation(out_dir)
    unique = list(dict.fromkeys(quads))
    (gen / DUMP_FILE).write_bytes(ox.serialize(unique, format=ox.RdfFormat.N_QUADS) or b"")
    bulk_load(gen / STORE_DIR, gen / DUMP_FILE)
    (gen / MANIFEST_FILE).write_text("{}\n", encoding="utf-8")
    switch_to(out_dir, gen)
    return len(unique)


def open_store(out_dir: Path, why: str = "") -> ox.Store:
    """The built store, read-only; a clear error when there is none or it cannot be opened.

    `why` is added to the "run `kg build` first" hint (" (examples come from it)")."""
    path = store_path(out_dir)
    if not path.is_dir():
        raise UsageError(f"no store at {path}: run `kg build` first{why}")
    try:
        return ox.Store.read_only(str(path))
    except OSError as exc:
        raise UsageError(f"cannot open the store at {path}: {exc}") from None
