import Foundation
import VectorMath

extension HNSWIndex {
    /// A new index with the same parameters and labels holding only the live vectors: the graph
    /// rebuilt without tombstones. The receiver is untouched, so the owner can keep serving it
    /// and swap in the result atomically.
    public func compacted(threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                          progress: Progress? = nil) throws(HNSWError) -> HNSWIndex {
        let live = liveCount
        let d = parameters.dimension
        var vectors = [Float](repeating: 0, count: live * d)
        var labels = [UInt64]()
        labels.reserveCapacity(live)
        let view = storage.view
        vectors.withUnsafeMutableBufferPointer { out in
            var row = 0
            for node in 0..<count where !view.isDeleted(UInt32(node)) {
                (out.baseAddress! + row * d).update(from: view.vector(UInt32(node)), count: d)
                labels.append(storage.labels[node])
                row += 1
            }
        }
        let fresh = try HNSWIndex(parameters: parameters, capacity: max(1, live))
        let matrix: Matrix
        do { matrix = try Matrix(rows: live, dimension: d, storage: vectors) } catch {
            preconditionFailure("live vectors always form a matrix: \(error)")
        }
        try fresh.add(matrix, labels: labels, threads: threads, progress: progress)
        return fresh
    }
}
