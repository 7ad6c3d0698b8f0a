#!/usr/bin/env python3
"""HubScan detection: plant adversarial hubs into clean collections and measure, in one run,
Firebreak's scanner beside the plain baseline (counts + median/MAD z over exact top-k).

    pip install -r Benchmarks/requirements.txt && swift build -c release
    python3 Benchmarks/hubscan_detect.py [--n 100000] [--datasets S1,S2,text] [--hubs 1,5,25]

Collections (all seeded):
  S1    n x 128, L2: 100 Gaussian clusters (centres N(0, 2^2), points N(centre, 1)); the
        foundation benchmark's recipe. Domain label = the cluster.
  S2    n x 384, the same recipe normalised, cosine.
  text  the man-page passages (Benchmarks/manpage_corpus.py): TF-IDF over hashed word
        features (2^14), truncated SVD to 256 dimensions (numpy randomized SVD), unit
        length, cosine. Its real queries are the corpus' known-item query texts embedded the
        same way. Domain label = the manual section.
Each collection comes with user queries from its own distribution, split in two halves:
the attacker optimises against one, the scanner gets the other as its "reservoir" of real
queries (--queries), as the service gives it.

Planting strategies (numpy, seeded):
  1 geometric       mean of 256 random documents, sharpened by 3 mean-shift steps onto its
                    64 nearest documents
  2 multi-centroid  mean of a k-means centroid (n/100 clusters) and its 3 nearest centroids
  3 query-optimised gradient ascent (60 steps) on a soft count of attacker queries whose
                    top-k it enters; hubs are placed greedily, each on the queries the earlier
                    ones did not capture
  4 domain-targeted strategy 3 restricted to the attacker queries of one small domain
                    (the smallest domains with at least 1 % of the queries); the scanner is
                    run with and without --domains
1, 5 and 25 hubs per collection. "reach" is a hub's true k-occurrence: how many held-out user
queries retrieve it in their top-10, beside the highest any clean document reaches. A planted
vector is "effective" when its reach exceeds the clean documents' 99.9th percentile: a
strategy can fail to make a hub at all (a mean of unrelated documents in well-separated
clusters is near nothing), and the eff_ columns give recall over the hubs that work.

Measured per (collection, strategy, hubs): recall and precision of the planted hubs at alert
budgets 0.1 %, 0.2 %, 0.4 % (top fraction by score) and at the default threshold (Firebreak's
`flagged`; the baseline's z > 5); and, on the clean collection, how many documents the default
threshold flags. The baseline samples the same number of documents as queries plus the real
queries, as the reference scanner would with the reservoir. Results: stdout (Markdown) and
Benchmarks/results/hubscan_detect.json.
"""
import argparse, hashlib, json, math, os, re, subprocess, sys, tempfile, time
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
K = 10
BUDGETS = [0.001, 0.002, 0.004]
THRESHOLD = 5.0


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- collections

def gaussian_collection(n, dim, normalize, seed, queries=4000):
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((100, dim)).astype(np.float32) * 2.0

    def draw(count):
        labels = rng.integers(0, 100, size=count)
        x = (centers[labels] + rng.standard_normal((count, dim)).astype(np.float32)).astype(np.float32)
        if normalize:
            x /= np.linalg.norm(x, axis=1, keepdims=True)
        return x, labels

    base, labels = draw(n)
    user, user_labels = draw(queries)
    return dict(base=base, labels=labels.astype(str), user=user, user_labels=user_labels.astype(str),
                metric="cosine" if normalize else "l2")


WORD = re.compile(r"[a-z0-9_]+")


def hashed_tf(texts, features):
    rows, cols, vals = [], [], []
    for i, text in enumerate(texts):
        counts = {}
        for word in WORD.findall(text.lower()):
            h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "little") % features
            counts[h] = counts.get(h, 0) + 1
        for h, c in counts.items():
            rows.append(i), cols.append(h), vals.append(1 + math.log(c))
    return np.array(rows), np.array(cols), np.array(vals, dtype=np.float32)


def text_collection(seed, features=1 << 14, dim=256):
    corpus_dir = os.path.join(HERE, "data", "manpages")
    if not os.path.exists(os.path.join(corpus_dir, "corpus.jsonl")):
        subprocess.run([sys.executable, os.path.join(HERE, "manpage_corpus.py"), "--out", corpus_dir], check=True)
    docs = [json.loads(l) for l in open(os.path.join(corpus_dir, "corpus.jsonl"))]
    queries = [json.loads(l) for l in open(os.path.join(corpus_dir, "queries.jsonl"))]
    section = lambda doc_id: doc_id.split("/")[0].rsplit(".", 1)[-1][:1]
    r, c, v = hashed_tf([d["text"] for d in docs], features)
    tf = np.zeros((len(docs), features), dtype=np.float32)
    np.add.at(tf, (r, c), v)
    df = (tf > 0).sum(0)
    idf = np.log((1 + len(docs)) / (1 + df)).astype(np.float32) + 1
    x = tf * idf
    x /= np.linalg.norm(x, axis=1, keepdims=True) + 1e-12
    rng = np.random.default_rng(seed)
    # randomized SVD: a range finder with 2 power iterations, then an exact SVD of the small matrix
    omega = rng.standard_normal((features, dim + 16)).astype(np.float32)
    y = x @ omega
    for _ in range(2):
        y, _ = np.linalg.qr(y)
        y = x @ (x.T @ y)
    qmat, _ = np.linalg.qr(y)
    _, _, vt = np.linalg.svd(qmat.T @ x, full_matrices=False)
    projection = vt[:dim].T.astype(np.float32)
    base = x @ projection
    base /= np.linalg.norm(base, axis=1, keepdims=True) + 1e-12
    r, c, v = hashed_tf([q["query"] for q in queries], features)
    qtf = np.zeros((len(queries), features), dtype=np.float32)
    np.add.at(qtf, (r, c), v)
    user = (qtf * idf) @ projection
    keep = np.linalg.norm(user, axis=1) > 0
    user = user[keep] / np.linalg.norm(user[keep], axis=1, keepdims=True)
    ids = [d["id"] for d in docs]
    index = {doc_id: i for i, doc_id in enumerate(ids)}
    user_labels = np.array([section(q["relevant"][0]) if q["relevant"] else "?" for q, k in zip(queries, keep) if k])
    return dict(base=base.astype(np.float32), labels=np.array([section(i) for i in ids]), user=user.astype(np.float32),
                user_labels=user_labels, metric="cosine")


DEVSET = os.environ.get("FIREBREAK_DEVSET", os.path.join(ROOT, "..", "shared", "devsets", "manpages-minilm"))


def minilm_collection(devset=DEVSET):
    """The real-embedding dev set: man-page passages and their known-item queries embedded
    with all-MiniLM-L6-v2 (384-d, unit length, cosine). Domain label = the manual section."""
    base = np.load(os.path.join(devset, "doc_emb.f16.npy")).astype(np.float32)
    user = np.load(os.path.join(devset, "query_emb.f16.npy")).astype(np.float32)
    base /= np.linalg.norm(base, axis=1, keepdims=True) + 1e-12
    user /= np.linalg.norm(user, axis=1, keepdims=True) + 1e-12
    section = lambda doc_id: doc_id.split("/")[0].rsplit(".", 1)[-1][:1]
    ids = [json.loads(l)["id"] for l in open(os.path.join(devset, "corpus.jsonl"))]
    queries = [json.loads(l) for l in open(os.path.join(devset, "queries.jsonl"))]
    assert len(ids) == len(base) and len(queries) == len(user), "the dev set's rows match its files"
    user_labels = np.array([section(q["relevant"][0]) if q["relevant"] else "?" for q in queries])
    return dict(base=base, labels=np.array([section(i) for i in ids]), user=user, user_labels=user_labels,
                metric="cosine")


# ---------------------------------------------------------------- exact search

def scores_of(queries, base, metric):
    dots = queries @ base.T
    if metric == "l2":
        return 2 * dots - (base * base).sum(1)[None, :]  # higher = closer (−‖q−x‖² + ‖q‖²)
    return dots


def top_k(queries, base, metric, k=K, exclude=None, block=500):
    out = np.empty((len(queries), k), dtype=np.int64)
    kth = np.empty(len(queries), dtype=np.float32)
    for s in range(0, len(queries), block):
        sc = scores_of(queries[s:s + block], base, metric)
        if exclude is not None:
            rows = exclude[s:s + block]
            mask = rows >= 0
            sc[np.nonzero(mask)[0], rows[mask]] = -np.inf
        part = np.argpartition(-sc, k, axis=1)[:, :k]
        order = np.take_along_axis(-sc, part, 1).argsort(1)
        out[s:s + block] = np.take_along_axis(part, order, 1)
        kth[s:s + block] = np.take_along_axis(sc, out[s:s + block, -1:], 1)[:, 0]
    return out, kth


def kmeans(x, clusters, metric, rng, iterations=5):
    centroids = x[rng.choice(len(x), clusters, replace=False)].copy()
    for _ in range(iterations):
        assign, _ = top_k(x, centroids, metric, k=1)
        assign = assign[:, 0]
        sums = np.zeros_like(centroids)
        np.add.at(sums, assign, x)
        counts = np.bincount(assign, minlength=clusters)
        filled = counts > 0
        centroids[filled] = sums[filled] / counts[filled, None]
        if metric == "cosine":
            centroids /= np.linalg.norm(centroids, axis=1, keepdims=True) + 1e-12
    return centroids


# ---------------------------------------------------------------- planting

def finish(h, metric):
    return (h / np.linalg.norm(h)).astype(np.float32) if metric == "cosine" else h.astype(np.float32)


def plant_geometric(c, count, rng):
    base, metric = c["base"], c["metric"]
    hubs = []
    for _ in range(count):
        h = base[rng.choice(len(base), 256, replace=False)].mean(0)
        for _ in range(3):
            nearest, _ = top_k(finish(h, metric)[None, :], base, metric, k=64)
            h = base[nearest[0]].mean(0)
        hubs.append(finish(h, metric))
    return np.array(hubs)


def plant_multi_centroid(c, count, rng):
    base, metric = c["base"], c["metric"]
    centroids = kmeans(base, max(8, len(base) // 100), metric, rng)
    near, _ = top_k(centroids, centroids, metric, k=4)
    picks = rng.choice(len(centroids), count, replace=False)
    return np.array([finish(centroids[near[p]].mean(0), metric) for p in picks])


def optimise(base, metric, queries, kth, start, rng, steps=60):
    """Gradient ascent on Σ_q sigmoid((score(q, h) − kth_q) / T): a soft count of the queries
    whose top-k h enters. T adapts to the spread of the margins."""
    h = start.astype(np.float64).copy()
    q64 = queries.astype(np.float64)
    for step in range(steps):
        s = scores_of(q64, h[None, :], metric)[:, 0] if metric != "l2" else 2 * q64 @ h - h @ h
        margin = s - kth
        t = max(np.std(margin) * 0.25, 1e-6)
        sig = 1 / (1 + np.exp(-np.clip(margin / t, -40, 40)))
        w = sig * (1 - sig) / t
        grad = (w[:, None] * q64).sum(0) if metric != "l2" else 2 * (w[:, None] * (q64 - h)).sum(0)
        lr = 0.5 * (1 - step / steps) * (1 if metric != "l2" else np.sqrt(np.mean(base.var(0)) * base.shape[1]))
        h = h + lr * grad / (np.linalg.norm(grad) + 1e-12)
        if metric == "cosine":
            h /= np.linalg.norm(h)
    return h.astype(np.float32)


def plant_optimised(c, count, rng, queries=None):
    base, metric = c["base"], c["metric"]
    queries = c["attacker"] if queries is None else queries
    _, kth = top_k(queries, base, metric)
    remaining = np.ones(len(queries), dtype=bool)
    hubs = []
    for _ in range(count):
        pool = np.nonzero(remaining)[0] if remaining.sum() >= 10 else np.arange(len(queries))
        start = queries[rng.choice(pool)]
        h = optimise(base, metric, queries[pool], kth[pool], start, rng)
        s = scores_of(queries, h[None, :], metric)[:, 0]
        remaining &= ~(s > kth)
        hubs.append(finish(h, metric))
    return np.array(hubs)


def small_domains(c, minimum_share=0.01):
    labels, counts = np.unique(c["attacker_labels"], return_counts=True)
    ok = [(n, l) for l, n in zip(labels, counts) if n >= minimum_share * len(c["attacker_labels"]) and l != "?"]
    return [l for _, l in sorted(ok)]


def plant_domain(c, count, rng):
    domains = small_domains(c)[:max(1, min(count, 5))]
    hubs = []
    for i in range(count):
        mask = c["attacker_labels"] == domains[i % len(domains)]
        hubs.append(plant_optimised(c, 1, rng, queries=c["attacker"][mask])[0])
    return np.array(hubs), [domains[i % len(domains)] for i in range(count)]


COPY_COSINE = 0.99  # how alike a swarm's members are (cosine to the hub they copy)


def near_copies(hub, count, metric, rng):
    """A swarm: `count` near-copies of one hub, none of them the hub itself, so no member
    outranks the others and they split the queries between them. For cosine, unit vectors at
    cosine about COPY_COSINE to the hub (about COPY_COSINE² to each other); for L2, the hub
    moved by the same relative amount (‖noise‖ = ‖hub‖ · √(1/c² − 1))."""
    if count == 1:
        return hub[None, :]
    d = len(hub)
    spread = math.sqrt(1 / COPY_COSINE ** 2 - 1)
    noise = rng.standard_normal((count, d)).astype(np.float32) / math.sqrt(d)
    copies = hub[None, :] + spread * np.linalg.norm(hub) * noise
    if metric == "cosine":
        copies /= np.linalg.norm(copies, axis=1, keepdims=True)
    return copies.astype(np.float32)


def probes_of(c, seed, documents=5000):
    """The probe queries that judge whether a planted set works: the scanner's real queries and
    a seeded sample of documents used as queries (their own row excluded)."""
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(c["base"]), min(documents, len(c["base"])), replace=False)
    return np.vstack([c["scanner"], c["base"][rows]]), np.concatenate([-np.ones(len(c["scanner"]), dtype=np.int64), rows])


def set_reach(members, c, probes):
    """How many probe queries have any member of the planted set in their top-10 (a swarm
    counts by its union), and the most any clean document reaches."""
    queries, exclude = probes
    x = np.vstack([c["base"], members])
    top, _ = top_k(queries, x, c["metric"], exclude=exclude)
    n = len(c["base"])
    clean = np.bincount(top[top < n].ravel(), minlength=n)
    return int((top >= n).any(1).sum()), int(clean.max())


# ---------------------------------------------------------------- scanning

def run_firebreak(binary, x, metric, real, labels, tmp, sample_size):
    xp, qp = os.path.join(tmp, "x.npy"), os.path.join(tmp, "q.npy")
    np.save(xp, x)
    np.save(qp, real)
    cmd = [binary, "scan", "--embeddings", xp, "--queries", qp, "--metric", metric, "--k", str(K),
           "--threshold", str(THRESHOLD), "--sample-size", str(sample_size), "--seed", "7", "--all-scores", "--json"]
    if labels is not None:
        lp = os.path.join(tmp, "labels.txt")
        with open(lp, "w") as f:
            f.write("\n".join(labels) + "\n")
        cmd += ["--domains", lp]
    start = time.time()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    report = json.loads(out.stdout)["report"]
    return np.array(report["scores"]), np.array([f["row"] for f in report["flagged"]], dtype=np.int64), \
        time.time() - start, report


def run_baseline(x, metric, real, sample_size, rng):
    rows = rng.choice(len(x), min(sample_size, len(x)), replace=False)
    queries = np.vstack([x[rows], real])
    exclude = np.concatenate([rows, -np.ones(len(real), dtype=np.int64)])
    top, _ = top_k(queries, x, metric, exclude=exclude)
    counts = np.bincount(top.ravel(), minlength=len(x)).astype(np.float64)
    median = np.median(counts)
    mad = np.median(np.abs(counts - median))
    z = 0.6745 * (counts - median) / (mad + 1e-9)
    return z, np.nonzero(z > THRESHOLD)[0]


def measure(scores, flagged, planted, effective, n):
    """Recall over all planted hubs and over the effective ones (`eff_` columns)."""
    out = {}
    order = np.argsort(-scores, kind="stable")
    strong = planted[effective]
    for budget in BUDGETS:
        take = max(1, int(round(budget * n)))
        found = np.isin(planted, order[:take]).sum()
        out[f"recall@{budget:.1%}"] = found / len(planted)
        out[f"eff_recall@{budget:.1%}"] = np.isin(strong, order[:take]).mean() if len(strong) else float("nan")
        out[f"precision@{budget:.1%}"] = found / take
    found = np.isin(planted, flagged).sum()
    out["recall@threshold"] = found / len(planted)
    out["eff_recall@threshold"] = np.isin(strong, flagged).mean() if len(strong) else float("nan")
    out["precision@threshold"] = found / max(1, len(flagged))
    out["flagged"] = int(len(flagged))
    return out


def reach(hubs, c):
    """How many held-out user queries retrieve each planted hub (true k-occurrence), and the
    most any clean document reaches."""
    x = np.vstack([c["base"], hubs])
    top, _ = top_k(c["scanner"], x, c["metric"])
    counts = np.bincount(top.ravel(), minlength=len(x))
    clean = counts[:len(c["base"])]
    return counts[len(c["base"]):].tolist(), int(clean.max()), float(np.percentile(clean, 99.9))


# ---------------------------------------------------------------- main

def load(name, n, seed):
    if name == "S1":
        c = gaussian_collection(n, 128, False, 1)
    elif name == "S2":
        c = gaussian_collection(n, 384, True, 2)
    elif name == "minilm":
        c = minilm_collection()
    else:
        c = text_collection(seed)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(c["user"]))
    half = len(order) // 2
    c["attacker"], c["attacker_labels"] = c["user"][order[:half]], c["user_labels"][order[:half]]
    c["scanner"] = c["user"][order[half:]]
    return c


def fmt(v):
    return f"{v:.2f}" if isinstance(v, float) else str(v)


def plant(c, strategy, count, rng, mode):
    """One planted set: `count` distinct hubs (mode "distinct"), or one hub and its count − 1
    near-copies (mode "copies", a swarm). Returns the vectors and, for domain-targeted hubs,
    each one's target domain."""
    planter = PLANTERS[strategy][1]
    made = planter(c, count if mode == "distinct" else 1, rng)
    hubs, target = made if strategy == "4" else (made, None)
    if mode == "copies":
        hubs = near_copies(hubs[0], count, c["metric"], rng)
        target = None if target is None else [target[0]] * count
    return hubs, target


def effectiveness(hubs, c, mode, probes):
    """Which planted vectors work. Distinct hubs: each one whose reach over the held-out user
    queries exceeds the clean documents' 99.9th percentile. A swarm: all or none, by whether
    the probe queries its members reach together outnumber every clean document's reach."""
    if mode == "distinct":
        hub_reach, clean_max, clean_p999 = reach(hubs, c)
        return np.array(hub_reach) > clean_p999, float(np.median(hub_reach)), clean_max
    union, clean_max = set_reach(hubs, c, probes)
    return np.full(len(hubs), union > clean_max), float(union), clean_max


PLANTERS = {"1": ("geometric", plant_geometric), "2": ("multi-centroid", plant_multi_centroid),
            "3": ("query-optimised", plant_optimised), "4": ("domain-targeted", plant_domain)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000, help="documents in S1 and S2 (text, minilm: the whole corpus)")
    parser.add_argument("--datasets", default="S1,S2,text", help="S1, S2, text, minilm (the real-embedding dev set)")
    parser.add_argument("--strategies", default="1,2,3,4")
    parser.add_argument("--hubs", default="1,5,25")
    parser.add_argument("--plant", default="distinct", help="distinct (that many hubs), copies (one hub and its "
                                                            "near-copies), or both: distinct,copies")
    parser.add_argument("--trials", type=int, default=1, help="planted sets per cell, each with its own seed")
    parser.add_argument("--sample-size", type=int, default=10_000, help="scanner sample (besides real queries)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "firebreak"))
    parser.add_argument("--out", default=os.path.join(HERE, "results", "hubscan_detect.json"))
    args = parser.parse_args()
    rows, clean_rows = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.datasets.split(","):
            c = load(name, args.n, args.seed)
            n = len(c["base"])
            probes = probes_of(c, args.seed)
            log(f"[{name}] {n} x {c['base'].shape[1]} {c['metric']}, {len(c['scanner'])} scanner queries")
            clean_rows += scan_clean(args, c, name, tmp)
            for mode in args.plant.split(","):
                for strategy in args.strategies.split(","):
                    for count in map(int, args.hubs.split(",")):
                        for trial in range(args.trials):
                            rows += scan_planted(args, c, name, mode, strategy, count, trial, probes, tmp)
    print_tables(rows, clean_rows)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(dict(args=vars(args), planted=rows, clean=clean_rows), f, indent=1)


def scan_clean(args, c, name, tmp):
    """The clean collection at the default threshold: Firebreak with and without domains, and
    the baseline."""
    n, out = len(c["base"]), []
    for domains in (False, True):
        labels = c["labels"] if domains else None
        _, flagged, secs, report = run_firebreak(args.binary, c["base"], c["metric"], c["scanner"], labels, tmp,
                                                 args.sample_size)
        out.append(dict(dataset=name, scanner="firebreak" + (" --domains" if domains else ""), documents=n,
                        flagged=int(len(flagged)), share=len(flagged) / n, max_z=report["distribution"]["max_z"],
                        seconds=secs))
    z, bflag = run_baseline(c["base"], c["metric"], c["scanner"], args.sample_size, np.random.default_rng(args.seed))
    out.append(dict(dataset=name, scanner="baseline", documents=n, flagged=int(len(bflag)), share=len(bflag) / n,
                    max_z=float(z.max()), seconds=0.0))
    return out


def scan_planted(args, c, name, mode, strategy, count, trial, probes, tmp):
    """One planted set scanned by Firebreak (and with domains, for domain-targeted hubs) and
    the baseline."""
    n = len(c["base"])
    label = PLANTERS[strategy][0]
    rng = np.random.default_rng(args.seed * 1000 + int(strategy) * 100 + count + 7919 * trial)
    hubs, target = plant(c, strategy, count, rng, mode)
    x = np.vstack([c["base"], hubs]).astype(np.float32)
    planted = np.arange(n, len(x))
    effective, hub_reach, clean_max = effectiveness(hubs, c, mode, probes)
    common = dict(dataset=name, plant=mode, strategy=label, hubs=count, trial=trial, reach=hub_reach,
                  clean_reach_max=clean_max, effective=int(effective.sum()))
    variants = [("firebreak", None)]
    if target is not None:
        variants.append(("firebreak --domains", np.concatenate([c["labels"], np.array(target)])))
    out = []
    for scanner, labels in variants:
        scores, flagged, secs, _ = run_firebreak(args.binary, x, c["metric"], c["scanner"], labels, tmp, args.sample_size)
        row = dict(common, scanner=scanner, seconds=secs)
        row.update(measure(scores, flagged, planted, effective, len(x)))
        out.append(row)
        log(f"  {mode} {label} x{count} #{trial} {scanner}: effective {int(effective.sum())}/{count}, "
            + ", ".join(f"{k} {fmt(v)}" for k, v in row.items() if k.startswith("recall") or k == "flagged"))
    z, bflag = run_baseline(x, c["metric"], c["scanner"], args.sample_size, np.random.default_rng(args.seed))
    row = dict(common, scanner="baseline", seconds=0.0)
    row.update(measure(z, bflag, planted, effective, len(x)))
    out.append(row)
    return out


def print_tables(rows, clean_rows):
    cols = ["dataset", "plant", "strategy", "hubs", "trial", "scanner", "reach", "clean_reach_max", "effective", "recall@0.1%",
            "recall@0.2%", "recall@0.4%", "eff_recall@0.2%", "eff_recall@0.4%", "precision@0.4%", "recall@threshold",
            "eff_recall@threshold", "precision@threshold", "flagged"]
    print("\n## Planted hubs\n")
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in rows:
        print("| " + " | ".join(fmt(r[c]) for c in cols) + " |")
    print("\n## Clean collections, default threshold 5\n")
    cols = ["dataset", "scanner", "documents", "flagged", "share", "max_z", "seconds"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in clean_rows:
        print("| " + " | ".join(f"{r[c]:.4%}" if c == "share" else fmt(r[c]) for c in cols) + " |")


if __name__ == "__main__":
    main()
