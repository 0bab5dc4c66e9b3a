"""Build at scale: synthetic corpora of 1k, 10k, 100k articles through `kg build`.

    python benchmarks/build_scale.py --sizes 1000,10000,100000

For each size: `kg synth` writes the corpus; a full build runs in a fresh process (per-step
wall clock, per-article stage CPU, peak memory: the resident memory of the process tree,
sampled twice a second); the load step is compared with `oxigraph load` of the same N-Quads
file; the per-article validation with one whole-graph pyshacl run over a pyoxigraph store
(sizes up to --whole-graph-max); a rebuild with nothing changed and three with one article
changed are timed as a user sees them (a `kg build` process, once the disks are quiet; with
--cold-rebuild one more after the page cache is dropped); `kg eval` scores extraction on the
gold (sizes up to --eval-max). Results go to stdout as Markdown and to --json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
KG = [sys.executable, "-m", "kg.cli"]

BUILD_IN_FRESH_PROCESS = """
import json, resource, sys
from pathlib import Path
from kg.pipeline import build
r = build(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), progress=False)
self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"seconds": r.seconds, "cpu": r.cpu_seconds, "quads": r.quads,
  "articles": len(r.articles), "conforms": r.report.conforms, "store_update": r.store_update,
  "maxrss_self_kb": self_kb, "maxrss_child_kb": child_kb}))
"""

WHOLE_GRAPH_PYSHACL = """
import json, sys, time
import pyoxigraph as ox, pyshacl
from rdflib import Graph
from kg import validate
from kg.batch.worker import _triple
t = time.perf_counter()
skip = {ox.NamedNode(validate.SHAPES_GRAPH)}  # the ontology stays in: subclass axioms
quads = (q for q in ox.parse(path=sys.argv[1], format=ox.RdfFormat.N_QUADS)
         if q.graph_name not in skip)
if sys.argv[2] == "oxigraph":  # pySHACL >= 0.40 validates a pyoxigraph store directly
    data = ox.Store()
    data.extend(ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph()) for q in quads)
else:
    data = Graph()
    for q in quads:
        data.add(_triple(q))
loaded = time.perf_counter() - t
t = time.perf_counter()
conforms, _, _ = pyshacl.validate(data, shacl_graph=validate.load_shapes(), inference="none",
                                  advanced=True, allow_warnings=True)
print(json.dumps({"seconds": time.perf_counter() - t, "load_seconds": loaded,
                  "conforms": bool(conforms), "backend": sys.argv[2]}))
"""


def machine() -> dict[str, Any]:
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with open("/proc/meminfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("MemTotal"):
                mem_kb = int(line.split()[1])
    import pyoxigraph
    import pyshacl

    return {
        "cores": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "memory_gib": round(mem_kb / 2**20, 1),
        "python": platform.python_version(),
        "pyoxigraph": pyoxigraph.__version__ if hasattr(pyoxigraph, "__version__") else "?",
        "pyshacl": pyshacl.__version__,
        "os": platform.platform(),
    }


def run(cmd: list[str], **kw: Any) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, **kw)
    return time.perf_counter() - start, proc


def tree_rss_kb(root: int) -> int:
    """Resident memory of a process and all its descendants now, from /proc."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            parents[int(entry)] = int(fields[1])
            rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE") // 1024
        except (OSError, IndexError, ValueError):
            continue
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in tree:
                tree.add(child)
                frontier.append(child)
    return sum(rss.get(pid, 0) for pid in tree)


def run_sampling_rss(cmd: list[str]) -> tuple[float, subprocess.CompletedProcess[str], int]:
    """Run `cmd`, sampling the memory of its process tree twice a second; (wall, result, peak)."""
    start = time.perf_counter()
    popen = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT
    )
    peak = 0
    while popen.poll() is None:
        peak = max(peak, tree_rss_kb(popen.pid))
        time.sleep(0.5)
    out, err = popen.communicate()
    wall = time.perf_counter() - start
    return wall, subprocess.CompletedProcess(cmd, popen.returncode, out, err), peak


def du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def bench_size(n: int, args: argparse.Namespace) -> dict[str, Any]:
    work = Path(args.work) / f"n{n}"
    out = work / "build"
    res: dict[str, Any] = {"articles": n}
    articles = work / "articles"
    if args.reuse_corpus and articles.is_dir() and len(list(articles.glob("*.txt"))) == n:
        shutil.rmtree(out, ignore_errors=True)  # the corpus stays; the build starts afresh
        res["synth_seconds"] = None
    else:
        shutil.rmtree(work, ignore_errors=True)
        wall, proc = run(
            KG + ["synth", "--articles", str(n), "--seed", str(args.seed), "--out", str(work)]
        )
        assert proc.returncode == 0, proc.stderr
        res["synth_seconds"] = wall
    wall, proc, peak_kb = run_sampling_rss(
        [
            sys.executable,
            "-c",
            BUILD_IN_FRESH_PROCESS,
            str(work / "articles"),
            str(out),
            "data/reference",
        ]
    )
    assert proc.returncode == 0, proc.stderr
    res["build"] = json.loads(proc.stdout.strip().splitlines()[-1])
    res["peak_rss_kb"] = peak_kb
    res["build_process_seconds"] = wall
    gen = (out / "current").resolve()
    res["store_bytes"] = du(gen / "store")
    res["dump_bytes"] = (gen / "dataset.nq").stat().st_size
    res["oxigraph_load_seconds"] = oxigraph_load(gen / "dataset.nq", work / "oxigraph-load")
    if n <= args.whole_graph_max:  # before the rebuilds, which delete this generation
        script = [sys.executable, "-c", WHOLE_GRAPH_PYSHACL, str(gen / "dataset.nq")]
        wall, proc = run(script + [args.whole_graph_backend])
        res["whole_graph_pyshacl"] = (
            json.loads(proc.stdout.strip().splitlines()[-1])
            if proc.returncode == 0
            else {"error": proc.stderr[-500:]}
        )
    res.update(rebuilds(work, out, args.cold_rebuild))
    if n <= args.eval_max:
        wall, proc = run(
            KG + ["eval", "--out", str(out), "--gold", str(work / "gold"), "--format", "json"]
        )
        assert proc.returncode == 0, proc.stderr
        overall = json.loads(proc.stdout)["overall"]
        res["eval_seconds"] = wall
        res["f1"] = {t: s["f1"] for t, s in overall.items()}
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return res


def oxigraph_load(nquads: Path, location: Path) -> float:
    shutil.rmtree(location, ignore_errors=True)
    binary = shutil.which("oxigraph") or str(Path(sys.executable).with_name("oxigraph"))
    wall, proc = run([binary, "load", "--location", str(location), "--file", str(nquads)])
    assert proc.returncode == 0, proc.stderr
    shutil.rmtree(location, ignore_errors=True)
    return wall


def rebuilds(work: Path, out: Path, cold: bool) -> dict[str, Any]:
    """`kg build` again as processes: with nothing changed, then three times with one article
    changed (a different one each time); with `cold`, once more after the kernel dropped its
    page cache, as when the build folder has not been read for a while."""
    cmd = KG + ["build", "--articles", str(work / "articles"), "--out", str(out)]
    # The full build and `oxigraph load` leave gigabytes for the kernel to write out in the
    # next half minute; a rebuild timed then measures that writeback, not itself.
    os.sync()
    wait_for_quiet_disks()
    unchanged, proc = run(cmd)
    assert proc.returncode in (0, 1), proc.stderr
    files = sorted((work / "articles").glob("*.txt"))
    victims = [files[len(files) * k // 8] for k in (2, 4, 6, 3)]
    changed = []
    for victim in victims[:3]:
        changed.append(rebuild_after_changing(cmd, victim))
    result: dict[str, Any] = {
        "rebuild_unchanged_seconds": unchanged,
        "rebuild_one_changed_seconds": statistics.median(changed),
        "rebuild_one_changed_runs": changed,
    }
    if cold:
        result["rebuild_cold_seconds"] = rebuild_after_changing(cmd, victims[3], drop_cache=True)
    return result


def wait_for_quiet_disks(longest: float = 120.0) -> float:
    """Wait until no disk has read, written or discarded anything for two seconds (Linux
    /proc/diskstats); the seconds waited. After the benchmark deletes a store of gigabytes the
    file system trims the freed blocks for a while, and a rebuild timed then measures that."""
    start = time.perf_counter()
    quiet_since, last = start, disk_counters()
    while time.perf_counter() - start < longest:
        time.sleep(0.5)
        now = disk_counters()
        if now != last:
            quiet_since, last = time.perf_counter(), now
        elif time.perf_counter() - quiet_since >= 2.0:
            break
    return time.perf_counter() - start


def disk_counters() -> list[tuple[str, ...]]:
    """Per disk: reads, writes and discards completed, and I/Os in flight."""
    try:
        lines = Path("/proc/diskstats").read_text(encoding="ascii").splitlines()
    except OSError:
        return []
    fields = [line.split() for line in lines]
    return [(f[2], f[3], f[7], f[11], f[14]) for f in fields if len(f) >= 15 and f[2][:4] != "loop"]


def rebuild_after_changing(cmd: list[str], victim: Path, drop_cache: bool = False) -> float:
    with victim.open("a", encoding="utf-8") as handle:
        handle.write("\nThe talks will continue next month.\n")
    os.sync()
    wait_for_quiet_disks()
    if drop_cache:
        Path("/proc/sys/vm/drop_caches").write_text("3\n", encoding="ascii")
    wall, proc = run(cmd)
    assert proc.returncode in (0, 1), proc.stderr
    return wall


# -- report ---------------------------------------------------------------------------------
def table(results: list[dict[str, Any]]) -> str:
    head = [
        "articles", "quads", "end to end", "articles/s", "quads/s", "extract", "map",
        "validate (pyshacl per article)", "load (bulk)", "`oxigraph load`", "load ratio", "compact",
        "whole-graph pyshacl", "validation ratio (CPU)", "peak memory", "store",
        "rebuild, nothing changed", "rebuild, 1 article changed",
    ]  # fmt: skip
    rows = ["| " + " | ".join(head) + " |", "|" + "---:|" * len(head)]
    for r in results:
        b = r["build"]
        n, q, total = r["articles"], b["quads"], b["seconds"]["total"]
        cpu = b["cpu"]
        load, oxload = b["seconds"]["load"], r["oxigraph_load_seconds"]
        whole = r.get("whole_graph_pyshacl", {})
        validate_cpu = cpu.get("validate", 0.0)
        peak = r["peak_rss_kb"] / 2**20
        whole_s = whole.get("seconds")
        rows.append(
            "| "
            + " | ".join(
                [
                    f"{n:,}",
                    f"{q:,}",
                    f"{total:.1f} s",
                    f"{n / total:.0f}",
                    f"{q / total:,.0f}",
                    rate(n, cpu.get("extract")),
                    rate(n, cpu.get("map")),
                    rate(n, cpu.get("validate")),
                    f"{load:.1f} s ({q / load:,.0f} quads/s)",
                    f"{oxload:.1f} s",
                    f"{load / oxload:.2f}x",
                    f"{b['seconds'].get('compact', 0.0):.1f} s",
                    f"{whole_s:.1f} s" if whole_s else "not run",
                    f"{validate_cpu / whole_s:.2f}x" if whole_s else "-",
                    f"{peak:.2f} GiB",
                    f"{r['store_bytes'] / 2**20:,.0f} MiB",
                    f"{r['rebuild_unchanged_seconds']:.1f} s",
                    changed_rebuilds(r),
                ]
            )
            + " |"
        )
    return "\n".join(rows)


def changed_rebuilds(r: dict[str, Any]) -> str:
    runs = r.get("rebuild_one_changed_runs") or [r["rebuild_one_changed_seconds"]]
    text = f"{r['rebuild_one_changed_seconds']:.1f} s"
    if len(runs) > 1:
        text += f" ({min(runs):.1f}-{max(runs):.1f})"
    if "rebuild_cold_seconds" in r:
        text += f"; cold {r['rebuild_cold_seconds']:.1f} s"
    return text


def rate(n: int, cpu_seconds: float | None) -> str:
    if not cpu_seconds:
        return "-"
    return f"{n / cpu_seconds:,.0f}/s per core ({1000 * cpu_seconds / n:.1f} ms)"


def f1_table(results: list[dict[str, Any]]) -> str:
    scored = [r for r in results if "f1" in r]
    if not scored:
        return ""
    types = list(scored[0]["f1"])
    lines = ["| articles | " + " | ".join(types) + " |", "|---:|" + "---:|" * len(types)]
    for r in scored:
        lines.append(
            f"| {r['articles']:,} | " + " | ".join(f"{r['f1'][t]:.3f}" for t in types) + " |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", default="/tmp/dkg-bench", help="scratch folder")
    parser.add_argument("--whole-graph-max", type=int, default=1000)
    parser.add_argument(
        "--whole-graph-backend",
        choices=["rdflib", "oxigraph"],
        default="rdflib",
        help="what pyshacl validates the whole graph in (oxigraph: a pyoxigraph store)",
    )
    parser.add_argument("--eval-max", type=int, default=10000)
    parser.add_argument("--json", type=Path, default=None, help="write the results here too")
    parser.add_argument("--keep", action="store_true", help="keep the corpora and builds")
    parser.add_argument(
        "--cold-rebuild",
        action="store_true",
        help="time one more rebuild after dropping the page cache (root only)",
    )
    parser.add_argument(
        "--reuse-corpus",
        action="store_true",
        help="use a corpus of the right size already in WORK/nN (from an earlier --keep run)",
    )
    args = parser.parse_args()
    results = []
    info = machine()
    print(f"Machine: {json.dumps(info)}", flush=True)
    for n in (int(s) for s in args.sizes.split(",")):
        started = time.perf_counter()
        r = bench_size(n, args)
        r["workers"] = info["cores"]
        results.append(r)
        print(f"{n}: done in {time.perf_counter() - started:.0f} s: {json.dumps(r)}", flush=True)
        if args.json:
            args.json.write_text(json.dumps({"machine": info, "results": results}, indent=2))
    print()
    print(table(results))
    print()
    print(f1_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
