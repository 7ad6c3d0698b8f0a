// hnswlib, natively: the peer row of hnsw_compare.py without the Python binding's per-call
// overhead. Our own harness; it compiles against hnswlib's headers, which
// hnsw_compare.py --native fetches from hnswlib's PyPI source archive at benchmark time
// (never committed).
//
// Build (hnsw_compare.py does this):
//   g++ -O3 -march=native -std=c++17 -pthread -I <hnswlib-src> hnswlib_native.cpp -o hnswlib_native
// Run:
//   hnswlib_native <base.f32> <queries.f32> <dim> <l2|ip> <threads> <k> <ef,ef,...> <repetitions> <labels.out>
// Inputs are raw little-endian float32 rows (cosine: give unit-length rows and `ip`, as
// the binding does). Builds with M=16, efConstruction=200, random_seed=100 on `threads`
// threads (the first point alone, then the rest claimed one at a time, as the binding's
// add_items does); searches one query per call on one thread, for each ef, `repetitions`
// timed passes of which the fastest counts (as `firebreak bench hnsw` does). Writes every
// ef's labels (ef-major, query-major, k int64 each, -1 where fewer came back) to
// labels.out and the timings as JSON on stdout.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "hnswlib/hnswlib.h"

namespace {

std::vector<float> readRows(const char* path, size_t dim, size_t* rows) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) { std::fprintf(stderr, "cannot open %s\n", path); std::exit(2); }
    size_t bytes = static_cast<size_t>(in.tellg());
    if (bytes % (dim * sizeof(float)) != 0) { std::fprintf(stderr, "%s: not rows of %zu floats\n", path, dim); std::exit(2); }
    *rows = bytes / (dim * sizeof(float));
    std::vector<float> data(*rows * dim);
    in.seekg(0);
    in.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(bytes));
    return data;
}

std::vector<size_t> parseList(const std::string& text) {
    std::vector<size_t> values;
    std::stringstream stream(text);
    std::string item;
    while (std::getline(stream, item, ',')) values.push_back(std::stoul(item));
    return values;
}

double secondsSince(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 10) {
        std::fprintf(stderr, "usage: %s base.f32 queries.f32 dim l2|ip threads k ef,ef,... repetitions labels.out\n", argv[0]);
        return 2;
    }
    const size_t dim = std::stoul(argv[3]);
    const std::string metric = argv[4];
    const size_t threads = std::max<size_t>(1, std::stoul(argv[5]));
    const size_t k = std::stoul(argv[6]);
    const std::vector<size_t> efs = parseList(argv[7]);
    const size_t repetitions = std::max<size_t>(1, std::stoul(argv[8]));
    size_t n = 0, nq = 0;
    const std::vector<float> base = readRows(argv[1], dim, &n);
    const std::vector<float> queries = readRows(argv[2], dim, &nq);

    hnswlib::L2Space l2(dim);
    hnswlib::InnerProductSpace ip(dim);
    hnswlib::SpaceInterface<float>* space = metric == "l2" ? static_cast<hnswlib::SpaceInterface<float>*>(&l2) : &ip;
    hnswlib::HierarchicalNSW<float> index(space, n, 16, 200, 100);

    auto buildStart = std::chrono::steady_clock::now();
    index.addPoint(base.data(), 0);
    std::atomic<size_t> next{1};
    std::vector<std::thread> workers;
    for (size_t t = 0; t < threads; ++t) {
        workers.emplace_back([&] {
            for (size_t row = next++; row < n; row = next++) index.addPoint(base.data() + row * dim, row);
        });
    }
    for (auto& worker : workers) worker.join();
    const double buildSeconds = secondsSince(buildStart);

    const std::string indexPath = std::string(argv[9]) + ".index";
    index.saveIndex(indexPath);
    std::ifstream saved(indexPath, std::ios::binary | std::ios::ate);
    const long long indexBytes = static_cast<long long>(saved.tellg());
    std::remove(indexPath.c_str());

    std::ofstream labelsOut(argv[9], std::ios::binary);
    std::printf("{\"build_seconds\": %.6f, \"index_bytes\": %lld, \"runs\": [", buildSeconds, indexBytes);
    std::vector<long long> labels(nq * k);
    for (size_t e = 0; e < efs.size(); ++e) {
        index.setEf(efs[e]);
        double seconds = 1e300;
        for (size_t rep = 0; rep < repetitions; ++rep) {
            std::fill(labels.begin(), labels.end(), -1);
            auto start = std::chrono::steady_clock::now();
            for (size_t q = 0; q < nq; ++q) {
                auto result = index.searchKnn(queries.data() + q * dim, k);
                for (size_t i = result.size(); i > 0; --i) {  // the queue pops the farthest first
                    labels[q * k + i - 1] = static_cast<long long>(result.top().second);
                    result.pop();
                }
            }
            seconds = std::min(seconds, secondsSince(start));
        }
        labelsOut.write(reinterpret_cast<const char*>(labels.data()), static_cast<std::streamsize>(labels.size() * sizeof(long long)));
        std::printf("%s{\"ef\": %zu, \"seconds\": %.6f}", e ? ", " : "", efs[e], seconds);
    }
    std::printf("]}\n");
    return 0;
}
