#!/usr/bin/env python3
"""Writes the seeded sample of the real-embedding dev set that the HubScan calibration tests
read (Tests/HubScanTests/Data/minilm-sample/): whole man pages drawn at random until about
DOCUMENTS passages (so each passage keeps its neighbours), and the known-item queries whose
relevant passages are all in the sample.

    python3 Tests/HubScanTests/Data/make_minilm_sample.py [--devset ../shared/devsets/manpages-minilm]

Files: doc_emb.f16.npy [n, 384] and query_emb.f16.npy [m, 384] (float16, unit length, rows as
in the dev set), sections.txt (one manual section per passage: the domain label).
"""
import argparse, json, os
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DOCUMENTS = 2_500
SEED = 18


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devset", default=os.path.join(HERE, "..", "..", "..", "..", "shared", "devsets", "manpages-minilm"))
    parser.add_argument("--out", default=os.path.join(HERE, "minilm-sample"))
    args = parser.parse_args()
    ids = [json.loads(l)["id"] for l in open(os.path.join(args.devset, "corpus.jsonl"))]
    queries = [json.loads(l) for l in open(os.path.join(args.devset, "queries.jsonl"))]
    docs = np.load(os.path.join(args.devset, "doc_emb.f16.npy"))
    qemb = np.load(os.path.join(args.devset, "query_emb.f16.npy"))
    page = [i.split("/")[0] for i in ids]
    pages = sorted(set(page))
    rng = np.random.default_rng(SEED)
    chosen, count = set(), 0
    by_page = {}
    for row, p in enumerate(page):
        by_page.setdefault(p, []).append(row)
    for p in rng.permutation(pages):
        if count >= DOCUMENTS:
            break
        chosen.add(p)
        count += len(by_page[p])
    rows = [r for r, p in enumerate(page) if p in chosen]
    kept = {ids[r] for r in rows}
    qrows = [i for i, q in enumerate(queries) if q["relevant"] and all(r in kept for r in q["relevant"])]
    os.makedirs(args.out, exist_ok=True)
    np.save(os.path.join(args.out, "doc_emb.f16.npy"), docs[rows].astype(np.float16))
    np.save(os.path.join(args.out, "query_emb.f16.npy"), qemb[qrows].astype(np.float16))
    with open(os.path.join(args.out, "sections.txt"), "w") as f:
        f.write("\n".join(ids[r].split("/")[0].rsplit(".", 1)[-1][:1] for r in rows) + "\n")
    print(f"{len(rows)} passages from {len(chosen)} pages, {len(qrows)} queries -> {args.out}")


if __name__ == "__main__":
    main()
