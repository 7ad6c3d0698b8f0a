import Dispatch
import FirebreakAPI
import Foundation
import ServiceBench

struct PropagationReport: Encodable {
    let quarantines, followers: Int
    /// r1's acknowledgement → the first search on a follower without the document.
    let p50Ms, p99Ms, maxMs: Double
    /// Searches with the quarantine's min_seq that still returned it (must be 0).
    let quarantinedServedAfterMinSeq: Int
    let searchesUnderLoad, failedSearches: Int
}

struct CatchUpReport: Encodable {
    let changes: Int
    /// How fast r1 made them (four clients, one change per request).
    let writesPerSecond: Double
    /// SIGCONT → the frozen replica's applied position reaches the head.
    let seconds, changesPerSecond: Double
}

struct KillReport: Encodable {
    let changes: Int
    /// SIGKILL → the restarted replica's /readyz answers 200.
    let restartReadySeconds: Double
    let appliedSeqAtReady, headSeqAtReady: Int64
    let checks, unavailableChecks: Int
    /// Searches of the victim with a quarantine's min_seq that returned the document.
    let quarantinedServedAfterMinSeq: Int
    let loadLine: String?
}

struct AgreementReport: Encodable {
    let documents: [String: Int]
    let quarantined: [String: Int]
    /// Vector top-10 of the same queries on every replica at one min_seq: the smallest overlap
    /// of any replica's answer with r1's, and the mean.
    let top10OverlapMin, top10OverlapMean: Double
    let agree: Bool
}

/// The timed phases of `bench replicas`, each on replicas that `BenchReplicasCommand` started.
enum ReplicaPhases {
    static let pollSecondsMax = 10.0
    static let agreementQueries = 100

    /// Quarantines each target on `leader` while every follower serves `concurrency` search
    /// clients; per target and follower, polls until the document is gone.
    static func propagation(targets: [Int], workload: ReplicaWorkload, leader: ReplicaProcess, followers: [ReplicaProcess],
                            concurrency: Int) async throws -> PropagationReport {
        let stop = TimeMarks()
        async let load = searchLoad(workload: workload, followers: followers, concurrency: concurrency, until: stop)
        var delays: [Double] = []
        var leaks = 0
        for (index, row) in targets.enumerated() {
            let seq = try await workload.quarantine(row, on: leader.client)
            let acknowledged = DispatchTime.now().uptimeNanoseconds
            let id = workload.corpus.id(row)
            let outcomes = try await withThrowingTaskGroup(of: (Double, Bool).self) { group in
                for follower in followers {
                    group.addTask {
                        async let checked = workload.probe(row, minSeq: seq, on: follower.client)
                        let delay = try await pollUntilGone(id, row: row, workload: workload, on: follower, since: acknowledged)
                        let reply = try await checked
                        let leaked = try reply.isSuccess && replyIDs(reply).contains(id)
                        return (delay, leaked)
                    }
                }
                return try await group.reduce(into: [(Double, Bool)]()) { $0.append($1) }
            }
            delays += outcomes.map(\.0)
            leaks += outcomes.filter(\.1).count
            if index % 50 == 49 { Console.progress("propagation: \(index + 1)/\(targets.count), p50 \(percentile(delays, 50)) ms") }
        }
        stop.record("stop", at: 0)
        let (searches, failed) = try await load
        return PropagationReport(quarantines: targets.count, followers: followers.count, p50Ms: percentile(delays, 50),
                                 p99Ms: percentile(delays, 99), maxMs: delays.max() ?? 0, quarantinedServedAfterMinSeq: leaks,
                                 searchesUnderLoad: searches, failedSearches: failed)
    }

    /// Searches `replica` for `id` (no min_seq) until an answer lacks it; ms since `since`.
    private static func pollUntilGone(_ id: String, row: Int, workload: ReplicaWorkload, on replica: ReplicaProcess,
                                      since: UInt64) async throws -> Double {
        while secondsSince(since) < pollSecondsMax {
            let reply = try await expectSuccess(workload.probe(row, on: replica.client))
            if try !replyIDs(reply).contains(id) { return secondsSince(since) * 1e3 }
        }
        throw BenchFailure("\(replica.name) still served \(id) \(pollSecondsMax) s after its quarantine was acknowledged")
    }

    /// `concurrency` vector-search clients per follower until `stop` holds "stop".
    private static func searchLoad(workload: ReplicaWorkload, followers: [ReplicaProcess], concurrency: Int,
                                   until stop: TimeMarks) async throws -> (Int, Int) {
        try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for (f, follower) in followers.enumerated() {
                for worker in 0..<concurrency {
                    group.addTask {
                        var searches = 0, failed = 0, index = f * concurrency + worker
                        while !stop.contains("stop") {
                            let reply = try? await workload.search(index, on: follower.client)
                            if reply?.isSuccess == true { searches += 1 } else { failed += 1 }
                            index += followers.count * concurrency
                        }
                        return (searches, failed)
                    }
                }
            }
            return try await group.reduce(into: (0, 0)) { $0.0 += $1.0; $0.1 += $1.1 }
        }
    }

    /// Freezes `frozen`, makes `changes` changes on `leader` (half quarantines of `targets`,
    /// half single-document ingests), resumes it and times its catch-up.
    static func catchUp(changes: Int, targets: [Int], workload: ReplicaWorkload, leader: ReplicaProcess,
                        frozen: ReplicaProcess) async throws -> CatchUpReport {
        frozen.signal(SIGSTOP)
        Console.progress("catch-up: \(frozen.name) frozen; making \(changes) changes on \(leader.name)")
        let streamed = DispatchTime.now().uptimeNanoseconds
        let head = try await stream(changes: changes, targets: targets, workload: workload, on: leader) { _, _ in }
        let writesPerSecond = Double(changes) / secondsSince(streamed)
        let resumed = DispatchTime.now().uptimeNanoseconds
        frozen.signal(SIGCONT)
        while try await frozen.readiness().applied < head {
            guard secondsSince(resumed) < 600 else { throw BenchFailure("\(frozen.name) did not catch up in 600 s") }
            try await Task.sleep(for: .milliseconds(5))
        }
        let seconds = secondsSince(resumed)
        Console.progress("catch-up: \(changes) changes applied in \(String(format: "%.2f", seconds)) s")
        return CatchUpReport(changes: changes, writesPerSecond: writesPerSecond, seconds: seconds,
                             changesPerSecond: Double(changes) / seconds)
    }

    /// Makes `changes` changes on `replica` from 4 clients: even ones quarantine the next
    /// target, odd ones ingest a document. `acknowledged` hears each quarantine (row, seq).
    /// Returns the largest seq.
    static func stream(changes: Int, targets: [Int], workload: ReplicaWorkload, on replica: ReplicaProcess,
                       acknowledged: @escaping @Sendable (Int, Int64) -> Void) async throws -> Int64 {
        let clients = 4
        return try await withThrowingTaskGroup(of: Int64.self) { group in
            for worker in 0..<clients {
                group.addTask {
                    var last: Int64 = 0
                    for change in stride(from: worker, to: changes, by: clients) {
                        let row = targets[change % targets.count]
                        if change % 2 == 0 {
                            let seq = try await workload.quarantine(row, on: replica.client)
                            last = max(last, seq)
                            acknowledged(row, seq)
                        } else {
                            last = max(last, try await workload.ingestLate(like: row, on: replica.client))
                        }
                    }
                    return last
                }
            }
            return try await group.reduce(0) { max($0, $1) }
        }
    }
}
