"""Load stage: quads -> a pyoxigraph store on disk, written beside the live one and switched in
only when complete, so a failed or killed build leaves the previous store whole."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyoxigraph as ox

from kg.errors import KgError

STORE_DIR = "store"
DUMP_FILE = "dataset.nq"


def store_path(out_dir: Path) -> Path:
    return Path(out_dir) / STORE_DIR


@contextlib.contextmanager
def build_lock(out_dir: Path) -> Iterator[None]:
    """Only one build writes into an output folder at a time."""
    out_dir.mkdir(parents=True, exist_ok=True)
    handle = (out_dir / ".build.lock").open("w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        handle.close()
        raise KgError(f"another `kg build` is writing to {out_dir}; wait for it to finish") from exc
    try:
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def write_store(out_dir: Path, quads: Iterable[ox.Quad]) -> int:
    """Write a new store and N-Quads dump into `out_dir`, then switch them in. Returns the count."""
    out_dir = Path(out_dir)
    staging = out_dir / f".{STORE_DIR}.new"
    shutil.rmtree(staging, ignore_errors=True)
    store = ox.Store(str(staging))
    store.bulk_extend(quads)
    store.flush()
    count = len(store)
    dump_tmp = out_dir / f".{DUMP_FILE}.new"
    store.dump(str(dump_tmp), format=ox.RdfFormat.N_QUADS)
    del store  # release the store's files before moving them
    _switch(staging, store_path(out_dir))
    os.replace(dump_tmp, out_dir / DUMP_FILE)
    return count


def _switch(new: Path, live: Path) -> None:
    old = live.with_name(f".{live.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if live.exists():
        os.replace(live, old)
    os.replace(new, live)
    shutil.rmtree(old, ignore_errors=True)


def open_store(out_dir: Path) -> ox.Store:
    """The built store, read-only; a clear error when there is none."""
    path = store_path(out_dir)
    if not path.is_dir():
        raise KgError(f"no store at {path}: run `kg build` first")
    return ox.Store.read_only(str(path))
