#!/usr/bin/env python3
"""Ingest through Firebreak's HTTP API against hnswlib's bare graph build, on the same vectors,
interleaved in one run (issue 19's yardstick: ingest within 2x of hnswlib's build time).

Firebreak's figure is `firebreak bench ingest` (its own embedded PostgreSQL with durable
commits, an in-process server, --clients concurrent clients, 500 documents per request, JSON
and base64 bodies): every document validated, committed in PostgreSQL, in the graph and in
BM25, and searchable. hnswlib's is `add_items` on --threads threads (M=16, efConstruction=200,
the same as the collection's defaults), natively (hnswlib_native.cpp, as hnsw_compare.py
builds it) and through its Python binding.

With --rebuild, each Firebreak round also rebuilds the base64 collection's partition while a
client sends vector-only searches without pause: "firebreak rebuild (degraded)" is the time
from the rebuild's request until that client is answered by the rebuilt graph again (the
target: within hnswlib's build time), "firebreak rebuild (job)" adds the HubScan of the new
graph that runs after the swap; failed and empty answers during it must be 0. The machines are noisy: each contender runs
--rounds times, alternating, and the table shows every round and the medians.

Usage: python3 Benchmarks/ingest_compare.py [--rounds 3] [--n 0] [--no-native] [--rebuild [--rebuild-clients 1]]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from hnsw_compare import devset_dir, load_minilm, native_hnswlib  # noqa: E402

ROOT = os.path.dirname(HERE)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def firebreak_ingest(binary, n, rebuild, search_clients):
    folder = devset_dir()
    cmd = [binary, "bench", "ingest", "--embeddings", os.path.join(folder, "doc_emb.f16.npy"),
           "--texts", os.path.join(folder, "corpus.jsonl"), "--limit", str(n)]
    if not rebuild:
        cmd.append("--no-rebuild")
    cmd += ["--rebuild-search-clients", str(search_clients)]
    report = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    seconds = {run["body"]: run["seconds"] for run in report["runs"]}
    return seconds, report.get("rebuild")


def hnswlib_build(base, threads):
    import hnswlib
    index = hnswlib.Index(space="ip", dim=base.shape[1])
    index.init_index(max_elements=len(base), M=16, ef_construction=200, random_seed=100)
    start = time.perf_counter()
    index.add_items(base, np.arange(len(base)), num_threads=threads)
    return time.perf_counter() - start


def native_build(binary, base, queries, threads, tmp):
    paths = [tmp + ".base.f32", tmp + ".queries.f32", tmp + ".labels"]
    base.astype("<f4").tofile(paths[0])
    queries[:10].astype("<f4").tofile(paths[1])
    out = subprocess.run([binary, paths[0], paths[1], str(base.shape[1]), "ip", str(threads), "10", "10", "1", paths[2]],
                         check=True, capture_output=True, text=True)
    for path in paths:
        os.remove(path)
    return json.loads(out.stdout)["build_seconds"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--n", type=int, default=0, help="first n documents of the dev set (0: all)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-native", action="store_true")
    parser.add_argument("--rebuild", action="store_true", help="also rebuild under a search load each round")
    parser.add_argument("--rebuild-clients", type=int, default=1,
                        help="clients searching during the rebuild (0: a rebuild with no load)")
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "firebreak"))
    parser.add_argument("--out", default=os.path.join(HERE, "results", "ingest_compare.json"))
    args = parser.parse_args()
    base, queries = load_minilm(args.n)
    n = len(base)
    native = None if args.no_native else native_hnswlib(os.path.join(HERE, "data"))
    rows = {"firebreak json": [], "firebreak base64": [], "firebreak rebuild (degraded)": [],
            "firebreak rebuild (job)": [], "hnswlib": [], "hnswlib-native": []}
    rebuilds = []
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(1, args.rounds + 1):
            log(f"round {round_}: firebreak bench ingest")
            seconds, rebuild = firebreak_ingest(args.binary, n, args.rebuild, args.rebuild_clients)
            rows["firebreak json"].append(seconds["json"])
            rows["firebreak base64"].append(seconds["base64"])
            if rebuild:
                rebuilds.append(rebuild)
                load = rebuild.get("search_load") or {}
                if rebuild["state"] != "succeeded" or (args.rebuild_clients and load.get("degraded_for_seconds") is None):
                    sys.exit(f"the rebuild did not succeed: {json.dumps(rebuild)}")
                # With no client to see it, the job's own record of its degraded time stands in.
                degraded = load.get("degraded_for_seconds") or rebuild["phases"]["degraded_seconds"]
                rows["firebreak rebuild (degraded)"].append(degraded)
                rows["firebreak rebuild (job)"].append(rebuild["seconds"])
            log(f"round {round_}: hnswlib")
            rows["hnswlib"].append(hnswlib_build(base, args.threads))
            if native:
                log(f"round {round_}: hnswlib-native")
                rows["hnswlib-native"].append(native_build(native, base, queries, args.threads, os.path.join(tmp, "v")))
    rows = {name: values for name, values in rows.items() if values}
    medians = {name: statistics.median(values) for name, values in rows.items()}
    print(f"## ingest of {n} x {base.shape[1]} (the dev set) against hnswlib's build, {args.threads} threads\n")
    print("| contender | seconds per round | median s | docs/s | median / hnswlib-native | median / hnswlib |")
    print("|---|---|---|---|---|---|")
    reference = medians.get("hnswlib-native")
    for name, values in rows.items():
        ratio_native = f"{medians[name] / reference:.2f}x" if reference else "-"
        print(f"| {name} | {', '.join(f'{v:.2f}' for v in values)} | {medians[name]:.2f} | {n / medians[name]:,.0f} | "
              f"{ratio_native} | {medians[name] / medians['hnswlib']:.2f}x |")
    for index, rebuild in enumerate(rebuilds, 1):
        load, phases = rebuild.get("search_load"), rebuild["phases"]
        split = ", ".join(f"{key.removesuffix('_seconds')} {value:.2f}" for key, value in sorted(phases.items()))
        if not load:
            print(f"\nrebuild {index} (no search load): {split}")
            continue
        print(f"\nrebuild {index}: {split}; under load: {load['searches']} searches, {load['failed']} failed, "
              f"{load['empty']} empty, {load['degraded']} degraded (p50 {load['degraded_p50_ms']:.1f} ms, "
              f"p99 {load['degraded_p99_ms']:.1f} ms), graph p50 {load['graph_p50_ms']:.1f} ms")
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump({"documents": n, "threads": args.threads, "rounds": rows, "medians": medians,
                   "rebuilds": rebuilds}, f, indent=2)
    print(f"\nraw results: {args.out}")


if __name__ == "__main__":
    main()
