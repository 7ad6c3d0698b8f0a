import Dispatch
import FirebreakAPI
import Foundation
import ServiceBench

extension ReplicaPhases {
    /// Streams `changes` quarantines and ingests on `leader` while `victim` is searched with
    /// each acknowledged quarantine's min_seq; a third of the way in, `victim` is killed with
    /// SIGKILL and restarted at once. Afterwards every acknowledged quarantine is checked on
    /// `victim` once more.
    static func kill(changes: Int, targets: [Int], workload: ReplicaWorkload, leader: ReplicaProcess,
                     victim: ReplicaProcess) async throws -> KillReport {
        let acks = QuarantineAcks()
        async let head = stream(changes: changes, targets: targets, workload: workload, on: leader) { acks.append($0, $1) }
        async let checked = minSeqChecks(workload: workload, on: victim, acks: acks)
        while acks.count < changes / 6 { try await Task.sleep(for: .milliseconds(5)) }
        victim.crash()
        let killed = DispatchTime.now().uptimeNanoseconds
        Console.progress("kill -9: \(victim.name) killed after \(acks.count) quarantines; restarting it")
        try victim.start()
        let ready = try await victim.waitReady(since: killed)
        let position = try await victim.readiness()
        let last = try await head
        acks.finish()
        var (checks, unavailable, leaks) = try await checked
        for (row, _) in acks.all {
            let reply = try await expectSuccess(workload.probe(row, minSeq: last, on: victim.client))
            checks += 1
            if try replyIDs(reply).contains(workload.corpus.id(row)) { leaks += 1 }
        }
        Console.progress("kill -9: \(victim.name) ready again in \(String(format: "%.2f", ready)) s; \(leaks) leaks in \(checks) checks")
        return KillReport(changes: changes, restartReadySeconds: ready, appliedSeqAtReady: position.applied,
                          headSeqAtReady: position.head, checks: checks, unavailableChecks: unavailable,
                          quarantinedServedAfterMinSeq: leaks, loadLine: victim.loadLines.last)
    }

    /// Until `acks` is finished: searches `replica` for a random acknowledged quarantine at its
    /// min_seq. Counts checks, unanswered ones (down, restarting or behind) and leaks.
    private static func minSeqChecks(workload: ReplicaWorkload, on replica: ReplicaProcess,
                                     acks: QuarantineAcks) async throws -> (Int, Int, Int) {
        var checks = 0, unavailable = 0, leaks = 0
        while !acks.finished {
            guard let (row, seq) = acks.random() else { try await Task.sleep(for: .milliseconds(5)); continue }
            checks += 1
            guard let reply = try? await workload.probe(row, minSeq: seq, on: replica.client), reply.isSuccess else {
                unavailable += 1
                try await Task.sleep(for: .milliseconds(10))
                continue
            }
            if try replyIDs(reply).contains(workload.corpus.id(row)) { leaks += 1 }
        }
        return (checks, unavailable, leaks)
    }

    /// Waits until every replica has applied the leader's position, then compares what they
    /// serve: document and quarantine counts, and vector top-10 of the same queries.
    static func agreement(fleet: [ReplicaProcess], workload: ReplicaWorkload) async throws -> AgreementReport {
        let head = try await fleet[0].readiness().applied
        var documents: [String: Int] = [:], quarantined: [String: Int] = [:]
        var answers: [[Set<String>]] = []
        for replica in fleet {
            while try await replica.readiness().applied < head { try await Task.sleep(for: .milliseconds(10)) }
            let status = try await expectSuccess(replica.client.send("GET", workload.path)).decoded(CollectionBody.self)
            documents[replica.name] = status.documents
            quarantined[replica.name] = status.quarantined
            var mine: [Set<String>] = []
            for query in 0..<agreementQueries {
                mine.append(Set(try replyIDs(try await expectSuccess(workload.search(query, minSeq: head, on: replica.client)))))
            }
            answers.append(mine)
        }
        let overlaps = answers.dropFirst().flatMap { other in
            zip(answers[0], other).map { Double($0.intersection($1).count) / Double(max($0.count, 1)) }
        }
        return AgreementReport(documents: documents, quarantined: quarantined, top10OverlapMin: overlaps.min() ?? 1,
                               top10OverlapMean: overlaps.reduce(0, +) / Double(max(overlaps.count, 1)),
                               agree: Set(documents.values).count == 1 && Set(quarantined.values).count == 1)
    }
}

/// The quarantines a stream has acknowledged (row, seq), shared with its checkers.
final class QuarantineAcks: @unchecked Sendable {
    private let lock = NSLock()
    private var acks: [(Int, Int64)] = []
    private var done = false

    func append(_ row: Int, _ seq: Int64) { lock.withLock { acks.append((row, seq)) } }
    func finish() { lock.withLock { done = true } }
    var finished: Bool { lock.withLock { done } }
    var count: Int { lock.withLock { acks.count } }
    var all: [(Int, Int64)] { lock.withLock { acks } }
    func random() -> (Int, Int64)? { lock.withLock { acks.randomElement() } }
}
