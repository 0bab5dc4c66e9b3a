"""The full build's bulk load alone: a build's dump into a new store, whole or in parts.

    python benchmarks/load_parts.py --build /tmp/dkg-bench/n100000/build
    python benchmarks/load_parts.py --build OUT --part-mib 0          # one call, as before
    python benchmarks/load_parts.py --build OUT --part-mib 96 --threads 2

Loads OUT/dataset.nq with `kg.load.bulk_load`, cut where the manifest's entries begin, into a
scratch folder, and prints the seconds, the peak resident memory of this process (sampled
every 0.1 s) and the quads in the store. Nothing else should run meanwhile.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import threading
import time
from pathlib import Path

import pyoxigraph as ox

from kg import load
from kg.batch.cache import read_manifest
from kg.pipeline import dump_entry_starts


class PeakMemory:
    """The largest resident set of this process while it runs, sampled in a thread."""

    def __init__(self) -> None:
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.is_set():
            pages = int(Path("/proc/self/statm").read_text(encoding="ascii").split()[1])
            self.peak_kib = max(self.peak_kib, pages * 4)
            self._stop.wait(0.1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", type=Path, required=True, help="a build folder (OUT)")
    parser.add_argument("--part-mib", type=float, default=load.LOAD_PART_BYTES / 2**20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--scratch", type=Path, default=Path("/tmp/dkg-load-parts"))
    args = parser.parse_args()
    gen = (args.build / load.CURRENT).resolve()
    manifest = read_manifest(gen / load.MANIFEST_FILE)
    if manifest is None:
        print(f"{gen / load.MANIFEST_FILE}: no manifest of this version", file=sys.stderr)
        return 2
    whole = args.part_mib <= 0
    starts = [] if whole else dump_entry_starts(manifest)
    if not whole:
        load.LOAD_PART_BYTES = int(args.part_mib * 2**20)
    dump = gen / load.DUMP_FILE
    parts = load.load_parts(dump.stat().st_size, starts, load.LOAD_PART_BYTES)
    shutil.rmtree(args.scratch, ignore_errors=True)
    with PeakMemory() as memory:
        start = time.perf_counter()
        load.bulk_load(args.scratch, dump, starts, args.threads)
        seconds = time.perf_counter() - start
    quads = len(ox.Store.read_only(str(args.scratch)))
    shutil.rmtree(args.scratch, ignore_errors=True)
    print(
        json.dumps(
            {
                "parts": len(parts),
                "part_mib": 0 if whole else args.part_mib,
                "threads": args.threads,
                "seconds": round(seconds, 1),
                "peak_gib": round(memory.peak_kib / 2**20, 2),
                "quads": quads,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
