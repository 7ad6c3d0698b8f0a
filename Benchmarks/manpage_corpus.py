#!/usr/bin/env python3
"""Builds a passage-retrieval corpus from the manual pages Debian installs.

Pages come from the Debian packages `manpages`, `manpages-dev` (and `manpages-posix*` where
installed), or with --packages all from every English page under /usr/share/man/man[1-8];
`.so` redirect pages are skipped. Each page's roff source is reduced
to plain text with a small macro stripper (no groff needed), split by section, and each
section cut into passages of 40-180 words (a section of n > 180 words becomes ceil(n/180)
passages of equal size; sections under 40 words are folded into the next one).

Known-item queries:
  * the one-line description from each page's NAME section ("read from a file
    descriptor"), whose relevant passages are every passage of that page (the NAME section
    itself is not indexed, so the answer is never a verbatim copy of the query);
  * "<page> <section title>" (e.g. "read errors"), relevant: that section's passages.

Writes corpus.jsonl ({"id","title","text"}) and queries.jsonl ({"qid","query","relevant"}).
"""
import argparse, glob, gzip, json, os, random, re, subprocess

WORDS_MIN, WORDS_MAX = 40, 180
ESCAPES = [
    (re.compile(r"\\f(\[[^\]]*\]|\(..|.)"), ""),      # font changes
    (re.compile(r"\\\*(\[[^\]]*\]|\(..|.)"), ""),      # strings
    (re.compile(r"\\\((..)"), " "),                     # special characters
    (re.compile(r"\\\[[^\]]*\]"), " "),
    (re.compile(r"\\[-e]"), lambda m: "-" if m.group(0) == "\\-" else "\\"),
    (re.compile(r"\\[&|^%:)]"), ""),
    (re.compile(r"\\s[-+]?\d"), ""),
    (re.compile(r"\\(.)"), r"\1"),
]
TEXT_MACROS = {"B", "I", "BR", "BI", "IB", "IR", "RB", "RI", "SM", "SB", "IP", "TP", "UR", "MT", "OP", "Nm", "Nd", "Xr"}


def unescape(text):
    for pattern, replacement in ESCAPES:
        text = pattern.sub(replacement, text)
    return text


def macro_text(arguments):
    """The visible words of a font macro's arguments (quotes removed)."""
    parts = re.findall(r'"([^"]*)"|(\S+)', arguments)
    return " ".join(a or b for a, b in parts)


def parse_page(source):
    """Returns (name, section, description, [(section title, text)])."""
    name, number, description = None, None, ""
    sections, title, lines = [], None, []
    for raw in source.splitlines():
        if raw.startswith(('.\\"', "'\\\"", '.\\\"')):
            continue
        if raw.startswith((".", "'")):
            macro, _, arguments = raw[1:].strip().partition(" ")
            if macro == "TH":
                fields = macro_text(arguments).split()
                if len(fields) >= 2:
                    name, number = unescape(fields[0]).lower(), unescape(fields[1])
            elif macro in ("SH", "SS", "Sh", "Ss"):
                if title is not None:
                    sections.append((title, " ".join(lines)))
                title, lines = unescape(macro_text(arguments)).strip() or "untitled", []
            elif macro in TEXT_MACROS:
                lines.append(unescape(macro_text(arguments)))
            continue
        lines.append(unescape(raw))
    if title is not None:
        sections.append((title, " ".join(lines)))
    body = []
    for section_title, text in sections:
        if section_title.upper() == "NAME":
            _, dash, rest = text.partition(" - ")
            description = rest.strip() if dash else ""
        else:
            body.append((section_title, text))
    return name, number, description, body


def passages(words):
    if len(words) <= WORDS_MAX:
        return [words]
    pieces = -(-len(words) // WORDS_MAX)
    size = -(-len(words) // pieces)
    return [words[i:i + size] for i in range(0, len(words), size)]


def manual_pages(packages):
    """The English manual pages of `packages` (installed ones), or of every package."""
    if not packages:
        return sorted(glob.glob("/usr/share/man/man[1-8]/*.gz"))
    paths = []
    for package in packages:
        listing = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True)
        paths += [p for p in listing.stdout.split() if re.match(r"/usr/share/man/man[1-8]/.*\.gz$", p)]
    return sorted(set(paths))


def build(out_dir, packages, pages_max, queries_max, seed):
    paths = manual_pages(packages)
    corpus, page_queries, section_queries = [], [], []
    for path in paths:
        try:
            source = gzip.open(path, "rt", errors="replace").read()
        except OSError:
            continue
        if source.lstrip().startswith(".so ") or len(source) < 200:
            continue
        name, number, description, body = parse_page(source)
        if not name:
            continue
        page = f"{name}.{number}"
        page_ids, carry, carry_title = [], [], None
        for section_title, text in body:
            words = carry + text.split()
            if len(words) < WORDS_MIN:
                carry, carry_title = words, carry_title or section_title
                continue
            section_ids = []
            label = carry_title or section_title
            for i, chunk in enumerate(passages(words)):
                pid = f"{page}/{label}/{i}".replace(" ", "_")
                corpus.append({"id": pid, "title": f"{name}({number}) {label}", "text": " ".join(chunk)})
                section_ids.append(pid)
            carry, carry_title = [], None
            page_ids += section_ids
            if re.fullmatch(r"[A-Za-z ]{3,30}", section_title):
                section_queries.append({"query": f"{name} {section_title.lower()}", "relevant": section_ids})
        if page_ids and len(description.split()) >= 2:
            page_queries.append({"query": description, "relevant": page_ids})
        if pages_max and len({q["relevant"][0].split("/")[0] for q in page_queries}) >= pages_max:
            break
    rng = random.Random(seed)
    rng.shuffle(page_queries)
    rng.shuffle(section_queries)
    queries = page_queries[: queries_max * 3 // 4] + section_queries[: queries_max // 4]
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "corpus.jsonl"), "w") as f:
        for doc in corpus:
            f.write(json.dumps(doc) + "\n")
    with open(os.path.join(out_dir, "queries.jsonl"), "w") as f:
        for i, q in enumerate(queries):
            f.write(json.dumps({"qid": str(i), **q}) + "\n")
    return len(corpus), len(queries)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="Benchmarks/data/manpages")
    parser.add_argument("--packages", default="manpages,manpages-dev,manpages-posix,manpages-posix-dev",
                        help="Debian packages whose pages to use (comma-separated); 'all' for every installed page")
    parser.add_argument("--pages-max", type=int, default=0, help="stop after this many pages (0: all)")
    parser.add_argument("--queries-max", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=20261123)
    args = parser.parse_args()
    packages = [] if args.packages == "all" else args.packages.split(",")
    documents, queries = build(args.out, packages, args.pages_max, args.queries_max, args.seed)
    print(f"{documents} passages, {queries} queries -> {args.out}")
