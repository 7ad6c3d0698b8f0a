import VectorMath
import HNSW
import Dispatch

func clustered(_ n: Int, _ d: Int, clusters: Int, seed: UInt64) -> Matrix {
    var rng = SplitMix64(seed: seed)
    let centers = (0..<(clusters * d)).map { _ in rng.nextGaussian() * 3 }
    var data = [Float](repeating: 0, count: n * d)
    for i in 0..<n { let c = Int(rng.next() % UInt64(clusters)); for j in 0..<d { data[i*d+j] = centers[c*d+j] + rng.nextGaussian() } }
    return try! Matrix(rows: n, dimension: d, storage: data)
}
let n = 100_000, d = 128
let base = clustered(n, d, clusters: 100, seed: 1)
let queries = clustered(1000, d, clusters: 100, seed: 1) // same centers via same seed start? no matter
let q2 = clustered(n + 1000, d, clusters: 100, seed: 1)
let qs = try! Matrix(rows: 1000, dimension: d, storage: Array(q2.storage[(n*d)...]))
let gt = try! ExactSearch.search(queries: qs, base: base, k: 10, metric: .l2)
print("exact", gt.seconds, gt.gflops)
let idx = try! HNSWIndex(parameters: HNSWParameters(dimension: d, metric: .l2, m: 16, efConstruction: 200, efSearch: 64), capacity: n)
var t = DispatchTime.now().uptimeNanoseconds
try! idx.add(base, labels: (0..<n).map { UInt64($0) }, threads: 2)
print("build", Double(DispatchTime.now().uptimeNanoseconds - t)/1e9)
if let p = idx.integrityProblem() { print("INTEGRITY", p) }
for ef in [10, 16, 32, 64, 128] {
  var hit = 0
  t = DispatchTime.now().uptimeNanoseconds
  for q in 0..<1000 {
    let r = try! idx.search(qs.row(q), k: 10, ef: ef)
    let truth = Set(gt.neighbors(ofQuery: q).map { UInt64($0.id) })
    hit += r.filter { truth.contains($0.label) }.count
  }
  let s = Double(DispatchTime.now().uptimeNanoseconds - t)/1e9
  print("ef", ef, "recall", Double(hit)/10000, "qps", 1000/s)
}
