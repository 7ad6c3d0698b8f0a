import Foundation

/// What `firebreak ingest` has done so far, and the line it draws on stderr: a bar, the
/// documents, the rate since the start and the time left at that rate.
///
/// Batches may finish out of order (several are in flight), so what is ingested is kept as
/// ranges of rows, and a failed run names exactly the rows that are in.
struct IngestProgress {
    let total: Int
    let started: Date
    private(set) var ingested: [Range<Int>] = []
    private(set) var done = 0
    static let barWidth = 30

    init(total: Int, started: Date = Date()) {
        self.total = total
        self.started = started
    }

    mutating func record(_ rows: Range<Int>) {
        ingested.append(rows)
        done += rows.count
    }

    /// The ingested rows as sorted, merged ranges, for a message: "0..<1500, 2000..<2500".
    var ingestedRows: String {
        var merged: [Range<Int>] = []
        for rows in ingested.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = merged.last, last.upperBound == rows.lowerBound {
                merged[merged.count - 1] = last.lowerBound..<rows.upperBound
            } else {
                merged.append(rows)
            }
        }
        return merged.isEmpty ? "none" : merged.map { "\($0.lowerBound)..<\($0.upperBound)" }.joined(separator: ", ")
    }

    func line(now: Date = Date()) -> String {
        let seconds = max(now.timeIntervalSince(started), 1e-6)
        let rate = Double(done) / seconds
        let filled = Self.barWidth * done / max(total, 1)
        let eta = rate > 0 ? Self.duration(Double(total - done) / rate) : "?"
        return String(format: "\r[%@%@] %d/%d documents, %.0f/s, %@ left",
                      String(repeating: "#", count: filled), String(repeating: ".", count: Self.barWidth - filled),
                      done, total, rate, eta)
    }

    /// "42s", "3m07s", "1h02m".
    static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded(.up))
        if whole < 60 { return "\(whole)s" }
        if whole < 3_600 { return String(format: "%dm%02ds", whole / 60, whole % 60) }
        return String(format: "%dh%02dm", whole / 3_600, whole % 3_600 / 60)
    }
}
