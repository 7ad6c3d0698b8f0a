#!/usr/bin/env python3
"""Firebreak's BM25 beside tantivy and bm25s on the same corpus and queries, in one run.

    pip install -r Benchmarks/requirements.txt && swift build -c release
    python3 Benchmarks/bm25_compare.py [--packages all] [--rounds 3]

Builds the man-page passage corpus (Benchmarks/manpage_corpus.py) unless it exists, then:
  * firebreak bench bm25 --analyzer english   (Firebreak's own analyzer)
  * firebreak bench bm25 --analyzer bm25s     (bm25s's tokens, for one-to-one agreement)
  * bm25s, method="lucene", k1=1.2, b=0.75, stopwords="en", PyStemmer English
  * tantivy, tokenizer "en_stem" (lower case + Snowball English), default BM25
QPS is single-threaded with one query per call, query analysis included, best of --rounds
interleaved rounds. Firebreak times inside its process; the peers are timed around their
Python call, which is how a user of those libraries calls them. tantivy is timed without
fetching stored ids (only search); bm25s with n_threads=1.

Agreement (firebreak --analyzer bm25s vs bm25s): a query agrees when the top-10 score
lists match to 1e-4 relative (bm25s leaves out Lucene's constant factor k1+1, so its scores
are multiplied by it first) and the id sets match apart from documents tied with the 10th
score. Queries where bm25s finds fewer than 10 matching documents compare only the matches.
"""
import argparse, json, math, os, re, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
K1, B, K = 1.2, 0.75, 10


def load_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def quality(results, queries):
    mrr = recall = 0.0
    for ids, q in zip(results, queries):
        relevant = set(q["relevant"])
        top = ids[:10]
        for rank, doc in enumerate(top):
            if doc in relevant:
                mrr += 1 / (rank + 1)
                break
        recall += len([d for d in top if d in relevant]) / max(1, len(relevant))
    return mrr / len(queries), recall / len(queries)


def run_firebreak(binary, data, analyzer, dump=None, repetitions=3):
    command = [binary, "bench", "bm25", "--corpus", f"{data}/corpus.jsonl", "--queries", f"{data}/queries.jsonl",
               "--k", str(K), "--analyzer", analyzer, "--repetitions", str(repetitions)]
    if dump:
        command += ["--dump-results", dump]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


class BM25S:
    def __init__(self, docs):
        import bm25s, Stemmer
        self.bm25s = bm25s
        self.stemmer = Stemmer.Stemmer("english")
        self.ids = [d["id"] for d in docs]
        start = time.perf_counter()
        tokens = bm25s.tokenize([d["text"] for d in docs], stopwords="en", stemmer=self.stemmer, show_progress=False)
        self.retriever = bm25s.BM25(method="lucene", k1=K1, b=B)
        self.retriever.index(tokens, show_progress=False)
        self.build_seconds = time.perf_counter() - start
        self.vocab = self.retriever.vocab_dict

    def search(self, text):
        terms = self.bm25s.tokenize(text, stopwords="en", stemmer=self.stemmer, return_ids=False, show_progress=False)[0]
        terms = [t for t in terms if t in self.vocab]
        if not terms:
            return [], []
        docs, scores = self.retriever.retrieve([terms], k=K, n_threads=1, show_progress=False)
        pairs = [(int(d), float(s)) for d, s in zip(docs[0], scores[0]) if s > 0]
        return [self.ids[d] for d, _ in pairs], [s * (K1 + 1) for _, s in pairs]


class Tantivy:
    def __init__(self, docs):
        import tantivy
        builder = tantivy.SchemaBuilder()
        builder.add_text_field("text", stored=False, tokenizer_name="en_stem")
        builder.add_integer_field("row", stored=True, indexed=False)
        schema = builder.build()
        self.index = tantivy.Index(schema)
        self.ids = [d["id"] for d in docs]
        start = time.perf_counter()
        writer = self.index.writer(heap_size=500_000_000, num_threads=1)
        for row, d in enumerate(docs):
            writer.add_document(tantivy.Document(text=d["text"], row=row))
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()
        self.build_seconds = time.perf_counter() - start
        self.searcher = self.index.searcher()

    @staticmethod
    def sanitize(text):
        # The query parser's syntax characters carry no words; the tokenizer drops them anyway.
        return re.sub(r"[^\w\s]", " ", text)

    def search(self, text):
        return self.searcher.search(self.index.parse_query(self.sanitize(text), ["text"]), K, count=False)

    def ids_of(self, result):
        return [self.ids[self.searcher.doc(address)["row"][0]] for _, address in result.hits]


def timed_pass(search, queries):
    start = time.perf_counter()
    for q in queries:
        search(q["query"])
    return len(queries) / (time.perf_counter() - start)


def agreement(dump_path, peer_results, queries):
    ours = {line["qid"]: line for line in load_jsonl(dump_path)}
    agree = compared = 0
    worst = 0.0
    for q, (peer_ids, peer_scores) in zip(queries, peer_results):
        mine = ours[q["qid"]]
        compared += 1
        n = len(peer_ids)
        my_ids, my_scores = mine["ids"][:n], mine["scores"][:n]
        if len(my_ids) != n:
            continue
        if n == 0:
            agree += 1
            continue
        relative = max(abs(a - b) / max(abs(b), 1e-9) for a, b in zip(my_scores, peer_scores))
        worst = max(worst, relative)
        cut = peer_scores[-1]
        tied = lambda s: abs(s - cut) <= 1e-4 * abs(cut)
        strict_mine = {d for d, s in zip(my_ids, my_scores) if not tied(s)}
        strict_peer = {d for d, s in zip(peer_ids, peer_scores) if not tied(s)}
        if relative <= 1e-4 and strict_mine == strict_peer:
            agree += 1
    return agree / compared, worst


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--packages", default=None, help="passed to manpage_corpus.py ('all' for every page)")
    parser.add_argument("--data", default=None, help="corpus folder (default: Benchmarks/data/manpages[-all])")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/release/firebreak"))
    args = parser.parse_args()
    data = args.data or os.path.join(HERE, "data", "manpages-all" if args.packages == "all" else "manpages")
    if not os.path.exists(f"{data}/corpus.jsonl"):
        command = [sys.executable, os.path.join(HERE, "manpage_corpus.py"), "--out", data]
        if args.packages:
            command += ["--packages", args.packages]
        subprocess.run(command, check=True)
    docs, queries = load_jsonl(f"{data}/corpus.jsonl"), load_jsonl(f"{data}/queries.jsonl")
    print(f"corpus {data}: {len(docs)} passages, {len(queries)} queries", file=sys.stderr)

    bm25s_engine, tantivy_engine = BM25S(docs), Tantivy(docs)
    dump = f"{data}/firebreak-bm25s-results.jsonl"
    best = {"firebreak": None, "firebreak-bm25s": None, "bm25s": 0.0, "tantivy": 0.0}
    for round_ in range(args.rounds):
        for name, analyzer in [("firebreak", "english"), ("firebreak-bm25s", "bm25s")]:
            report = run_firebreak(args.binary, data, analyzer, dump if round_ == 0 else None)
            if best[name] is None or report["qps"] > best[name]["qps"]:
                best[name] = report
        best["tantivy"] = max(best["tantivy"], timed_pass(tantivy_engine.search, queries))
        best["bm25s"] = max(best["bm25s"], timed_pass(bm25s_engine.search, queries))
        print(f"round {round_ + 1}/{args.rounds} done", file=sys.stderr)

    bm25s_results = [bm25s_engine.search(q["query"]) for q in queries]
    tantivy_ids = [tantivy_engine.ids_of(tantivy_engine.search(q["query"])) for q in queries]
    agree, worst = agreement(dump, bm25s_results, queries)
    rows = [
        ("firebreak (english analyzer)", best["firebreak"]["qps"], best["firebreak"]["mrr_at_10"],
         best["firebreak"]["recall_at_10"], best["firebreak"]["build_seconds"]),
        ("firebreak (bm25s analyzer)", best["firebreak-bm25s"]["qps"], best["firebreak-bm25s"]["mrr_at_10"],
         best["firebreak-bm25s"]["recall_at_10"], best["firebreak-bm25s"]["build_seconds"]),
        ("tantivy (en_stem)", best["tantivy"], *quality(tantivy_ids, queries), tantivy_engine.build_seconds),
        ("bm25s (lucene)", best["bm25s"], *quality([r[0] for r in bm25s_results], queries), bm25s_engine.build_seconds),
    ]
    print(f"\n{len(docs)} passages, {len(queries)} queries, top-{K}, single thread, best of {args.rounds} rounds\n")
    print("| engine | QPS | vs tantivy | vs bm25s | MRR@10 | recall@10 | build s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, qps, mrr, recall, build in rows:
        print(f"| {name} | {qps:,.0f} | {qps / best['tantivy']:.2f}× | {qps / best['bm25s']:.2f}× "
              f"| {mrr:.4f} | {recall:.4f} | {build:.1f} |")
    print(f"\ntop-10 agreement, firebreak (bm25s analyzer) vs bm25s-lucene: {agree:.2%} of queries; "
          f"largest relative score difference {worst:.2e}")


if __name__ == "__main__":
    main()
