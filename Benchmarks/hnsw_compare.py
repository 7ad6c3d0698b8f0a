#!/usr/bin/env python3
"""Firebreak HNSW vs hnswlib and FAISS IndexHNSWFlat, side by side on the same files, one run.

Generates S1 (100,000 x 128, L2) and S2 (100,000 x 384, unit length, cosine), each a mixture
of 100 Gaussian clusters with 1,000 queries from the same mixture, and reads `minilm`, the
real-embedding dev set (all-MiniLM-L6-v2 man-page passages and their known-item queries,
FIREBREAK_DEVSET or ../shared/devsets/manpages-minilm); runs every library unfiltered and
with 50 % / 90 % of the base excluded; prints a table with ratios against hnswlib and writes
the raw numbers as JSON.

`hnswlib-native` is hnswlib built from its C++ headers with -O3 -march=native and driven by
our own harness (hnswlib_native.cpp), one query per call like Firebreak: the Python binding's
per-call overhead flatters whoever is compared with it. The headers come from hnswlib's PyPI
source archive (`pip download --no-binary :all: hnswlib==0.8.0`, into Benchmarks/data, never
committed); --no-native skips the row.

Fairness rules:
- same data files, same M=16 / efConstruction=200, same exact ground truth (numpy), one recall
  rule for all (tie-aware: see Truth.recall);
- builds on --threads threads; searches single-threaded. Firebreak is timed one query per
  call (a service answering requests); the peers are timed in their batch mode with one
  thread (no Python call overhead per query), which is their best case;
- filtered peers: hnswlib's `filter=` callable, FAISS's IDSelectorBitmap (C++ side);
- machines are noisy: every contender runs --rounds times, interleaved; the best is kept.

Usage: python3 Benchmarks/hnsw_compare.py [--n 100000] [--rounds 2] [--datasets S1,S2,minilm]
                                          [--exclusions 0,50,90] [--no-native] [--no-faiss]
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tarfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
EFS = [10, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512]
K = 10
REPETITIONS = 3  # timed passes per ef, fastest kept (firebreak bench hnsw's default)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def make_dataset(name, n, nq, dim, normalize, seed):
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((100, dim)).astype(np.float32) * 2.0

    def draw(count):
        labels = rng.integers(0, 100, size=count)
        return (centers[labels] + rng.standard_normal((count, dim)).astype(np.float32)).astype(np.float32)

    base, queries = draw(n), draw(nq)
    if normalize:
        base /= np.linalg.norm(base, axis=1, keepdims=True)
        queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    return base, queries


def devset_dir():
    return os.environ.get("FIREBREAK_DEVSET") or os.path.join(ROOT, "..", "shared", "devsets", "manpages-minilm")


def load_minilm(n):
    """The dev set's passages (first n, or all) and queries, float32, unit length (cosine)."""
    folder = devset_dir()
    base = np.load(os.path.join(folder, "doc_emb.f16.npy")).astype(np.float32)
    queries = np.load(os.path.join(folder, "query_emb.f16.npy")).astype(np.float32)
    if n and n < len(base):
        base = base[:n]
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    return base, queries


HNSWLIB_VERSION = "0.8.0"


def native_hnswlib(data_dir):
    """Compiles hnswlib_native.cpp against hnswlib's headers (fetched once into data_dir)."""
    binary = os.path.join(data_dir, f"hnswlib_native-{HNSWLIB_VERSION}")
    source = os.path.join(HERE, "hnswlib_native.cpp")
    if os.path.exists(binary) and os.path.getmtime(binary) > os.path.getmtime(source):
        return binary
    archives = glob.glob(os.path.join(data_dir, f"hnswlib-{HNSWLIB_VERSION}.tar.gz"))
    if not archives:
        log(f"fetching hnswlib {HNSWLIB_VERSION}'s source archive (its headers only are used)")
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                        "--no-build-isolation", "--dest", data_dir, f"hnswlib=={HNSWLIB_VERSION}"], check=True)
        archives = glob.glob(os.path.join(data_dir, f"hnswlib-{HNSWLIB_VERSION}.tar.gz"))
    with tarfile.open(archives[0]) as archive:
        try:
            archive.extractall(data_dir, filter="data")
        except TypeError:  # Python without PEP 706's filters (before 3.11.4): check the names ourselves
            members = [m for m in archive.getmembers()
                       if not (m.name.startswith("/") or ".." in m.name.split("/") or m.issym() or m.islnk())]
            archive.extractall(data_dir, members=members)
    include = os.path.join(data_dir, f"hnswlib-{HNSWLIB_VERSION}")
    log("compiling hnswlib_native (g++ -O3 -march=native)")
    subprocess.run(["g++", "-O3", "-march=native", "-std=c++17", "-pthread", "-I", include, source, "-o", binary],
                   check=True)
    return binary


def run_native(binary, base, queries, metric, threads, truth, excluded_mask, tmp):
    """hnswlib natively: built on `threads`, searched one query per call on one thread."""
    if excluded_mask is not None:
        return None  # the harness has no filter; the binding's filter row stands in
    base_path, query_path, labels_path = tmp + ".base.f32", tmp + ".queries.f32", tmp + ".labels"
    base.astype("<f4").tofile(base_path)
    queries.astype("<f4").tofile(query_path)
    space = "l2" if metric == "l2" else "ip"
    out = subprocess.run([binary, base_path, query_path, str(base.shape[1]), space, str(threads), str(K),
                          ",".join(map(str, EFS)), str(REPETITIONS), labels_path], check=True, capture_output=True, text=True)
    report = json.loads(out.stdout)
    labels = np.fromfile(labels_path, dtype="<i8").reshape(len(EFS), len(queries), K)
    for path in (base_path, query_path, labels_path):
        os.remove(path)
    runs = {}
    for i, run in enumerate(report["runs"]):
        runs[run["ef"]] = summarize(run["ef"], labels[i], truth, None, len(queries) / run["seconds"])
    return {"build_seconds": report["build_seconds"], "index_bytes": report["index_bytes"], "runs": runs}


class Truth:
    """Exact top-K ids and the K-th exact distance of every query; excluded rows never qualify."""

    def __init__(self, base, queries, metric, excluded_mask):
        self.base, self.queries, self.metric, self.excluded_mask = base, queries, metric, excluded_mask
        self.base_norms = (base * base).sum(1)
        self.ids = np.empty((len(queries), K), dtype=np.int64)
        self.kth = np.empty(len(queries), dtype=np.float32)
        for start in range(0, len(queries), 200):
            q = queries[start:start + 200]
            dist = self.distances(q @ base.T, self.base_norms[None, :])
            if excluded_mask is not None:
                dist[:, excluded_mask] = np.inf
            part = np.argpartition(dist, K, axis=1)[:, :K]
            order = np.take_along_axis(dist, part, 1).argsort(1)
            self.ids[start:start + 200] = np.take_along_axis(part, order, 1)
            self.kth[start:start + 200] = np.take_along_axis(dist, part, 1).max(1)

    def distances(self, dots, norms):
        """Squared L2 without the query's norm (same order), or the negated inner product."""
        return norms - 2 * dots if self.metric == "l2" else -dots

    def recall(self, found):
        """Hits over K per query: a returned id counts when its exact distance is within the K-th
        true one (ann-benchmarks' rule), so among exact copies any one is as right as another;
        the dev set mirrors pages, and an id-only recall tops out near 0.86 for every library.
        Excluded ids never count."""
        found = np.asarray(found)
        valid = found >= 0
        rows = self.base[np.where(valid, found, 0)]
        dist = self.distances(np.einsum("qkd,qd->qk", rows, self.queries), self.base_norms[np.where(valid, found, 0)])
        within = dist <= self.kth[:, None] + 1e-5 * (np.abs(self.kth[:, None]) + 1)
        if self.excluded_mask is not None:
            within &= ~self.excluded_mask[np.where(valid, found, 0)]
        return float((valid & within).sum()) / self.ids.size


def run_firebreak(binary, paths, metric, threads, excluded_path, truth, excluded_mask):
    labels_path = paths["base"] + ".labels"
    cmd = [binary, "bench", "hnsw", "--base", paths["base"], "--queries", paths["queries"],
           "--metric", metric, "--m", "16", "--ef-construction", "200",
           "--ef-search", ",".join(map(str, EFS)), "--k", str(K), "--threads", str(threads),
           "--repetitions", str(REPETITIONS), "--labels-out", labels_path]
    if excluded_path:
        cmd += ["--exclude-ids", excluded_path]
    result = subprocess.run(cmd, check=True, capture_output=True, text=True)
    report = json.loads(result.stdout)
    labels = np.fromfile(labels_path, dtype="<i8").reshape(len(EFS), len(truth.queries), K)
    os.remove(labels_path)
    runs = {r["ef"]: summarize(r["ef"], labels[i], truth, excluded_mask, r["qps"]) for i, r in enumerate(report["runs"])}
    return {"build_seconds": report["build_seconds"], "index_bytes": report["index_bytes"],
            "runs": runs, "exact_gflops": report["exact"]["gflops"], "sgemm_gflops": report["blas"]["sgemm_gflops"]}


def run_hnswlib(base, queries, metric, threads, truth, excluded_mask, tmp):
    import hnswlib
    space = {"l2": "l2", "cosine": "cosine", "ip": "ip"}[metric]
    index = hnswlib.Index(space=space, dim=base.shape[1])
    index.init_index(max_elements=len(base), M=16, ef_construction=200, random_seed=100)
    start = time.perf_counter()
    index.add_items(base, np.arange(len(base)), num_threads=threads)
    build = time.perf_counter() - start
    index.save_index(tmp)
    size = os.path.getsize(tmp)
    os.remove(tmp)
    allowed = None if excluded_mask is None else (lambda i: not excluded_mask[i])
    runs = {}
    for ef in EFS:
        index.set_ef(ef)
        secs = float("inf")
        for _ in range(REPETITIONS):
            start = time.perf_counter()
            labels, _ = index.knn_query(queries, k=K, num_threads=1, filter=allowed)
            secs = min(secs, time.perf_counter() - start)
        runs[ef] = summarize(ef, labels, truth, excluded_mask, len(queries) / secs)
    return {"build_seconds": build, "index_bytes": size, "runs": runs}


def run_faiss(base, queries, metric, threads, truth, excluded_mask, tmp):
    import faiss
    faiss_metric = faiss.METRIC_L2 if metric == "l2" else faiss.METRIC_INNER_PRODUCT
    index = faiss.IndexHNSWFlat(base.shape[1], 16, faiss_metric)
    index.hnsw.efConstruction = 200
    faiss.omp_set_num_threads(threads)
    start = time.perf_counter()
    index.add(base)
    build = time.perf_counter() - start
    faiss.write_index(index, tmp)
    size = os.path.getsize(tmp)
    os.remove(tmp)
    faiss.omp_set_num_threads(1)
    selector = None
    if excluded_mask is not None:
        allowed_bits = np.packbits(~excluded_mask, bitorder="little")
        selector = faiss.IDSelectorBitmap(len(base), faiss.swig_ptr(allowed_bits))
    runs = {}
    for ef in EFS:
        params = faiss.SearchParametersHNSW(efSearch=ef)
        if selector is not None:
            params.sel = selector
        secs = float("inf")
        for _ in range(REPETITIONS):
            start = time.perf_counter()
            _, labels = index.search(queries, K, params=params)
            secs = min(secs, time.perf_counter() - start)
        runs[ef] = summarize(ef, labels, truth, excluded_mask, len(queries) / secs)
    faiss.omp_set_num_threads(threads)
    return {"build_seconds": build, "index_bytes": size, "runs": runs}


def summarize(ef, labels, truth, excluded_mask, qps):
    labels = np.asarray(labels)
    short = int(((labels >= 0).sum(1) < K).sum())
    excluded_returned = 0
    if excluded_mask is not None:
        valid = labels[labels >= 0]
        excluded_returned = int(excluded_mask[valid].sum())
    return {"ef": ef, "recall": truth.recall(labels), "qps": qps, "short_queries": short,
            "excluded_returned": excluded_returned}


def best_of(rounds_results):
    """Per contender: fastest build, best QPS per ef (recall is deterministic enough to keep the last)."""
    best = rounds_results[0]
    for other in rounds_results[1:]:
        best["build_seconds"] = min(best["build_seconds"], other["build_seconds"])
        for ef, run in other["runs"].items():
            if run["qps"] > best["runs"][ef]["qps"]:
                best["runs"][ef]["qps"] = run["qps"]
    return best


def first_at(result, target=0.95):
    for ef in EFS:
        run = result["runs"][ef]
        if run["recall"] >= target:
            return run
    return None


def print_table(title, results):
    names = list(results)
    peers = [p for p in ("hnswlib", "hnswlib-native") if p in results]
    print(f"\n## {title}\n")
    print("| ef | " + " | ".join(f"{n} recall | {n} QPS" for n in names) + " | "
          + " | ".join(f"QPS fb/{p}" for p in peers) + " |")
    print("|---" * (2 * len(names) + 1 + len(peers)) + "|")
    for ef in EFS:
        cells = []
        for n in names:
            r = results[n]["runs"][ef]
            flag = "" if r["short_queries"] == 0 and r["excluded_returned"] == 0 else \
                f" (short {r['short_queries']}, excl {r['excluded_returned']})"
            cells.append(f"{r['recall']:.4f}{flag} | {r['qps']:.0f}")
        ratios = [f"{results['firebreak']['runs'][ef]['qps'] / results[p]['runs'][ef]['qps']:.2f}x" for p in peers]
        print(f"| {ef} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
    print()
    hb = results["hnswlib"]
    for n in names:
        r = results[n]
        at = first_at(r)
        at_text = f"first ef with recall>=0.95: {at['ef']} at {at['qps']:.0f} QPS" if at else "never reaches recall 0.95"
        at99 = first_at(r, 0.99)
        at_text += f"; >=0.99: ef {at99['ef']} at {at99['qps']:.0f} QPS" if at99 else "; never reaches recall 0.99"
        print(f"- {n}: build {r['build_seconds']:.2f} s ({r['build_seconds'] / hb['build_seconds']:.2f}x hnswlib), "
              f"index {r['index_bytes'] / 1e6:.1f} MB ({r['index_bytes'] / hb['index_bytes']:.2f}x hnswlib), {at_text}, "
              f"max recall {max(run['recall'] for run in r['runs'].values()):.4f}")
    for peer in [p for p in results if p != "firebreak"]:
        for target in (0.95, 0.99):
            fb, other = first_at(results["firebreak"], target), first_at(results[peer], target)
            if fb and other:
                print(f"- **QPS at the first ef reaching recall {target}: firebreak / {peer} = {fb['qps'] / other['qps']:.2f}x** "
                      f"(ef {fb['ef']} against {other['ef']})")
            else:
                print(f"- recall {target}: firebreak {'reaches' if fb else 'never reaches'} it, "
                      f"{peer} {'reaches' if other else 'never reaches'} it")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000, help="rows per synthetic set; minilm: first n (0: all)")
    parser.add_argument("--queries", type=int, default=1_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--datasets", default="S1,S2")
    parser.add_argument("--exclusions", default="0,50,90")
    parser.add_argument("--no-native", action="store_true", help="skip the native hnswlib row (no g++ or PyPI)")
    parser.add_argument("--no-faiss", action="store_true", help="skip the FAISS row")
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "firebreak"))
    parser.add_argument("--out", default=os.path.join(HERE, "results", "hnsw_compare.json"))
    args = parser.parse_args()

    data_dir = os.path.join(HERE, "data")
    os.makedirs(data_dir, exist_ok=True)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    specs = {"S1": (128, False, "l2", 1), "S2": (384, True, "cosine", 2), "minilm": (384, True, "cosine", 0)}
    native = None if args.no_native else native_hnswlib(data_dir)
    everything = {}
    for name in args.datasets.split(","):
        dim, normalize, metric, seed = specs[name]
        if name == "minilm":
            base, queries = load_minilm(args.n)
            log(f"[{name}] the dev set: {len(base)} x {dim} passages, {len(queries)} real queries ({metric})")
        else:
            log(f"[{name}] generating {args.n} x {dim} ({metric})")
            base, queries = make_dataset(name, args.n, args.queries, dim, normalize, seed)
        n = len(base)
        paths = {"base": os.path.join(data_dir, f"{name}_base.npy"),
                 "queries": os.path.join(data_dir, f"{name}_queries.npy")}
        np.save(paths["base"], base)
        np.save(paths["queries"], queries)
        for pct in map(int, args.exclusions.split(",")):
            mask, excluded_path = None, None
            if pct:
                rng = np.random.default_rng(1000 + pct)
                mask = np.zeros(n, dtype=bool)
                mask[rng.choice(n, size=n * pct // 100, replace=False)] = True
                excluded_path = os.path.join(data_dir, f"{name}_exclude{pct}.npy")
                np.save(excluded_path, np.flatnonzero(mask).astype(np.int64))
            truth = Truth(base, queries, metric, mask)
            rounds = {"firebreak": [], "hnswlib": []}
            if native and mask is None:
                rounds["hnswlib-native"] = []
            if not args.no_faiss:
                rounds["faiss"] = []
            for round_index in range(args.rounds):
                step = f"[{name} {pct}% excluded] round {round_index + 1}"
                log(f"{step}: firebreak")
                rounds["firebreak"].append(run_firebreak(args.binary, paths, metric, args.threads, excluded_path,
                                                         truth, mask))
                log(f"{step}: hnswlib")
                rounds["hnswlib"].append(run_hnswlib(base, queries, metric, args.threads, truth, mask,
                                                     os.path.join(data_dir, "hnswlib.bin")))
                if "hnswlib-native" in rounds:
                    log(f"{step}: hnswlib-native")
                    rounds["hnswlib-native"].append(run_native(native, base, queries, metric, args.threads, truth, mask,
                                                               os.path.join(data_dir, "native")))
                if "faiss" in rounds:
                    log(f"{step}: faiss")
                    rounds["faiss"].append(run_faiss(base, queries, metric, args.threads, truth, mask,
                                                     os.path.join(data_dir, "faiss.bin")))
            results = {n: best_of(r) for n, r in rounds.items()}
            fb = results["firebreak"]
            print_table(f"{name}: {n} x {dim}, {metric}, {pct}% excluded "
                        f"(exact k-NN {fb['exact_gflops']:.1f} GFLOP/s = "
                        f"{100 * fb['exact_gflops'] / fb['sgemm_gflops']:.0f}% of sgemm {fb['sgemm_gflops']:.1f})",
                        results)
            sys.stdout.flush()
            everything[f"{name}/{pct}"] = results
    with open(args.out, "w") as f:
        json.dump(everything, f, indent=1, default=str)
    log(f"raw results: {args.out}")


if __name__ == "__main__":
    main()
