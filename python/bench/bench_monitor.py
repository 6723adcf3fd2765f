"""What a decorated call costs the calling thread, Pathwise against the Python tracing
libraries, in one run: medians, ratios, and how many records each kept.

    python bench_monitor.py                     # every contender, 3 rounds, 100,000 calls each
    python bench_monitor.py --rounds 5 --calls 200000 --only pathwise,opentelemetry
    python bench_monitor.py one pathwise        # one contender in this process (JSON line)

The call is the issue's ``lookup(query: str, limit: int) -> dict``, inside an open trace (a
trace of ``--slice`` calls, opened and closed outside the timing). Each contender runs in a
process of its own (they all install global tracer state), the contenders interleaved round by
round so that a noisy stretch of the machine hits all of them. Per process:

- **sync** and **async**: the calls are timed in slices; between slices, outside the timing, the
  contender's background side catches up (``pathwise.flush()``, ``force_flush()``), so the
  figure is what the calling thread pays while the pipeline keeps up; the per-call figure is
  the median slice's time over its calls;
- **flat-out**: the same number of calls with no pauses, then a flush: the records that reached
  the end of the line (the SQLite file, or an exporter that counts and discards) against the
  calls made;
- **persisted** (Pathwise only): calls per second from the first call until ``shutdown()``
  returns with every record in the SQLite file.

The overhead is a contender's per-call time minus the undecorated call's median.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, List

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from contenders import CONTENDERS  # noqa: E402


def lookup(query: str, limit: int) -> dict:
    return {"query": query, "limit": limit, "hits": [f"doc-{i}" for i in range(3)]}


async def lookup_async(query: str, limit: int) -> dict:
    return {"query": query, "limit": limit, "hits": [f"doc-{i}" for i in range(3)]}


def timed_slices(contender, call, calls: int, slice_size: int, paced: bool) -> List[float]:
    """Nanoseconds per call of each slice."""
    per_call = []
    for _ in range(max(1, calls // slice_size)):
        with contender.open_trace():
            began = time.perf_counter_ns()
            for i in range(slice_size):
                call("wireless headphones", i)
            per_call.append((time.perf_counter_ns() - began) / slice_size)
        if paced:
            contender.catch_up()
    return per_call


def timed_slices_async(contender, call, calls: int, slice_size: int) -> List[float]:
    async def run() -> List[float]:
        per_call = []
        for _ in range(max(1, calls // slice_size)):
            with contender.open_trace():
                began = time.perf_counter_ns()
                for i in range(slice_size):
                    await call("wireless headphones", i)
                per_call.append((time.perf_counter_ns() - began) / slice_size)
            contender.catch_up()
        return per_call

    return asyncio.run(run())


def one(name: str, calls: int, slice_size: int, persisted: bool) -> Dict[str, Any]:
    """Runs one contender in this process."""
    with tempfile.TemporaryDirectory(prefix="pathwise-bench-py-") as workdir:
        contender = CONTENDERS[name](workdir)
        sync_call = contender.decorate(lookup)
        async_call = contender.decorate(lookup_async)
        # Warm-up: first-call registration, lazy imports, caches.
        timed_slices(contender, sync_call, slice_size, slice_size, paced=True)
        sync_ns = timed_slices(contender, sync_call, calls, slice_size, paced=True)
        async_ns = timed_slices_async(contender, async_call, calls, slice_size)
        before = contender.kept()
        began = time.perf_counter()
        timed_slices(contender, sync_call, calls, slice_size, paced=False)
        flat_out_s = time.perf_counter() - began
        after = contender.kept()
        result: Dict[str, Any] = {
            "contender": name,
            "calls": calls,
            "sync_ns": statistics.median(sync_ns),
            "async_ns": statistics.median(async_ns),
            "flat_out_ns": flat_out_s * 1e9 / calls,
            "flat_out_kept": None if after is None else after - before,
        }
        if persisted:
            result["persisted_calls_per_s"] = persisted_rate(contender, sync_call, calls, slice_size)
        contender.close()
        return result


def persisted_rate(contender, call, calls: int, slice_size: int) -> float:
    """Calls per second from the first call until every record is in the SQLite file."""
    before = contender.kept()
    began = time.perf_counter()
    timed_slices(contender, call, calls, slice_size, paced=False)
    contender.close()
    elapsed = time.perf_counter() - began
    stored = contender.kept() - before
    if stored != calls:
        raise SystemExit(f"{contender.name}: {stored} of {calls} calls stored")
    return calls / elapsed


def run_all(names: List[str], rounds: int, calls: int, slice_size: int) -> List[Dict[str, Any]]:
    results: List[Dict[str, Any]] = []
    for round_no in range(rounds):
        for name in names:
            args = [sys.executable, __file__, "one", name, "--calls", str(calls), "--slice", str(slice_size)]
            if name == "pathwise":
                args.append("--persisted")
            out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
            line = json.loads(out.strip().splitlines()[-1])
            line["round"] = round_no
            results.append(line)
            print(json.dumps(line), file=sys.stderr, flush=True)
    return results


def table(results: List[Dict[str, Any]], names: List[str]) -> str:
    def median(name: str, key: str):
        values = [r[key] for r in results if r["contender"] == name and r.get(key) is not None]
        return statistics.median(values) if values else None

    base_sync = median("undecorated", "sync_ns") or 0.0
    base_async = median("undecorated", "async_ns") or 0.0
    pw_sync = (median("pathwise", "sync_ns") or 0.0) - base_sync
    pw_async = (median("pathwise", "async_ns") or 0.0) - base_async
    rows = [
        "| contender | sync call | overhead | async call | overhead | peer ÷ pathwise (sync / async) | kept flat-out |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in names:
        sync, asyn = median(name, "sync_ns"), median(name, "async_ns")
        over_s, over_a = sync - base_sync, asyn - base_async
        kept = [r["flat_out_kept"] for r in results if r["contender"] == name]
        calls = [r["calls"] for r in results if r["contender"] == name]
        kept_text = "—" if None in kept else f"{min(kept):,} of {calls[0]:,} (worst round)"
        ratio = (
            f"{over_s / pw_sync:.1f}× / {over_a / pw_async:.1f}×"
            if name not in ("undecorated", "pathwise") and pw_sync > 0 and pw_async > 0
            else "—"
        )
        over_text = "—" if name == "undecorated" else f"{over_s / 1000:.2f} µs"
        over_a_text = "—" if name == "undecorated" else f"{over_a / 1000:.2f} µs"
        rows.append(
            f"| {name} | {sync / 1000:.2f} µs | {over_text} | {asyn / 1000:.2f} µs | {over_a_text} | {ratio} | {kept_text} |"
        )
    persisted = median("pathwise", "persisted_calls_per_s")
    if persisted is not None:
        rows.append("")
        rows.append(f"Pathwise, persisted into SQLite (first call to `shutdown()`): **{persisted:,.0f} calls/s** (median of rounds)")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", nargs="?", default="all", choices=["all", "one"])
    parser.add_argument("contender", nargs="?")
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--slice", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", default=",".join(CONTENDERS))
    parser.add_argument("--persisted", action="store_true")
    parser.add_argument("--json", help="also write every round's results here")
    args = parser.parse_args()
    if args.mode == "one":
        if args.contender not in CONTENDERS:
            parser.error(f"contender must be one of {', '.join(CONTENDERS)}")
        print(json.dumps(one(args.contender, args.calls, args.slice, args.persisted)))
        return
    names = [n for n in args.only.split(",") if n]
    unknown = [n for n in names if n not in CONTENDERS]
    if unknown:
        parser.error(f"unknown contenders: {', '.join(unknown)}")
    for needed in ("undecorated", "pathwise"):
        if needed not in names:
            names.insert(0, needed)
    results = run_all(names, args.rounds, args.calls, args.slice)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    print(table(results, names))


if __name__ == "__main__":
    main()
