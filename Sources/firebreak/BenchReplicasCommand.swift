import ArgumentParser
import Dispatch
import FirebreakAPI
import Foundation
import ServiceBench
import Store

/// `firebreak bench replicas`: several `firebreak serve` processes over one PostgreSQL and
/// one snapshot folder, as they run in production behind a load balancer.
struct BenchReplicasCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replicas",
        abstract: "Measure replicated serving: restart from a snapshot vs a rebuild, quarantine propagation, catch-up.",
        discussion: """
        Starts a throwaway embedded PostgreSQL and --replicas `firebreak serve` processes on loopback, \
        sharing it and one snapshot folder. Replica r1 ingests seeded synthetic documents over HTTP \
        and takes a snapshot; then:
        - ready time: each other replica starts from that snapshot (spawn → /readyz 200), and one \
        more process with an empty snapshot folder rebuilds every graph from PostgreSQL;
        - propagation: r1 quarantines documents one at a time while every other replica serves a \
        search load; per quarantine and replica, the time from r1's acknowledgement to the first \
        search there without the document (p50/p99), and a search with the quarantine's min_seq \
        (must never return it);
        - catch-up: the last replica is frozen (SIGSTOP) while r1 makes --catch-up-changes changes \
        (single-document ingests and quarantines), then resumed: changes applied per second;
        - kill -9: r1 streams quarantines and ingests while r2 is searched with each quarantine's \
        min_seq; r2 is killed with SIGKILL a third of the way in and restarted; its restart ready \
        time, and quarantined documents served after their min_seq (must be 0). \
        Every replica's log is in the run folder, kept with --keep.
        """)

    @Option(help: "Serving processes (≥ 2).") var replicas = 3
    @Option(help: "Documents r1 ingests.") var documents = 100_000
    @Option(help: "Vector dimension.") var dimension = 384
    @Option(help: "Tenants (partitions) the documents are spread over.") var tenants = 4
    @Option(help: "Quarantines in the propagation run.") var quarantines = 200
    @Option(help: "Changes made while a replica is frozen.") var catchUpChanges = 2_000
    @Option(help: "Changes streamed in the kill -9 run.") var killChanges = 600
    @Option(help: "Search clients per follower during the propagation run.") var concurrency = 2
    @Option(help: "Seed of the synthetic data.") var seed: UInt64 = 42
    @Flag(help: "Keep the run folder (PostgreSQL, snapshots, replica logs).") var keep = false

    func validate() throws {
        guard replicas >= 2, documents >= 1_000, dimension >= 2, tenants >= 1, quarantines >= 1, catchUpChanges >= 1,
              killChanges >= 3, concurrency >= 1, 2 * (quarantines + catchUpChanges + killChanges) < documents else {
            throw ValidationError("need replicas ≥ 2, documents ≥ 1000 and 2·(quarantines + catch-up + kill changes) < documents")
        }
    }

    struct Report: Encodable {
        let replicas, documents, dimension, tenants: Int
        let ingestDocumentsPerSecond: Double
        let snapshotSeconds: Double
        let ready: ReadyReport
        let propagation: PropagationReport
        let catchUp: CatchUpReport
        let kill: KillReport
        let agreement: AgreementReport
    }

    struct ReadyReport: Encodable {
        /// spawn → /readyz 200 of each replica that started from the snapshot.
        let fromSnapshotSeconds: [Double]
        let rebuildSeconds: Double
        /// rebuild / from-snapshot (the median one).
        let speedup: Double
        /// Each start's own account ("loaded collection … from snapshot … in … s").
        let loadLines: [String]
    }

    func run() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("firebreak-bench-replicas-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let cluster = try EmbeddedPostgres(dataDirectory: folder + "/pg", durable: false)
        Console.progress("starting a throwaway PostgreSQL in \(folder)/pg")
        let url = try cluster.start()
        let token = TokenRecords.generate()
        let fleet = try (1...replicas).map {
            try ReplicaProcess(name: "r\($0)", databaseURL: url, snapshotDirectory: folder + "/snapshots", token: token, folder: folder)
        }
        defer {
            fleet.forEach { $0.stop() }
            try? cluster.stop()
            if keep { Console.progress("kept \(folder)") } else { try? FileManager.default.removeItem(atPath: folder) }
        }
        let report = try await measure(fleet: fleet, url: url, token: token, folder: folder)
        try Console.printJSON(report)
    }

    private func measure(fleet: [ReplicaProcess], url: String, token: String, folder: String) async throws -> Report {
        let leader = fleet[0], followers = Array(fleet.dropFirst())
        try leader.start()
        _ = try await leader.waitReady(since: DispatchTime.now().uptimeNanoseconds)
        let corpus = BenchCorpus(documents: documents, dimension: dimension, tenants: tenants, seed: seed)
        let workload = ReplicaWorkload(corpus: corpus, documents: documents)
        try await workload.create(on: leader.client)
        let ingestRate = try await workload.ingestAll(on: leader.client)
        let snapshotStarted = DispatchTime.now().uptimeNanoseconds
        try await workload.snapshot(on: leader.client)
        let snapshotSeconds = secondsSince(snapshotStarted)
        Console.progress("snapshot taken in \(String(format: "%.1f", snapshotSeconds)) s")
        let ready = try await readyTimes(followers: followers, url: url, token: token, folder: folder)
        var targets = workload.targets(count: quarantines + catchUpChanges + killChanges)
        let propagation = try await ReplicaPhases.propagation(targets: targets.take(quarantines), workload: workload,
                                                              leader: leader, followers: followers, concurrency: concurrency)
        let catchUp = try await ReplicaPhases.catchUp(changes: catchUpChanges, targets: targets.take(catchUpChanges),
                                                      workload: workload, leader: leader, frozen: fleet.last!)
        let kill = try await ReplicaPhases.kill(changes: killChanges, targets: targets.take(killChanges), workload: workload,
                                                leader: leader, victim: followers[0])
        let agreement = try await ReplicaPhases.agreement(fleet: fleet, workload: workload)
        return Report(replicas: replicas, documents: documents, dimension: dimension, tenants: tenants,
                      ingestDocumentsPerSecond: ingestRate, snapshotSeconds: snapshotSeconds, ready: ready,
                      propagation: propagation, catchUp: catchUp, kill: kill, agreement: agreement)
    }

    /// Starts every follower from the snapshot, one at a time, then one more process with an
    /// empty snapshot folder (a rebuild from PostgreSQL), which is stopped again.
    private func readyTimes(followers: [ReplicaProcess], url: String, token: String, folder: String) async throws -> ReadyReport {
        var fromSnapshot: [Double] = []
        for follower in followers {
            let started = DispatchTime.now().uptimeNanoseconds
            try follower.start()
            fromSnapshot.append(try await follower.waitReady(since: started))
            Console.progress("\(follower.name) ready from the snapshot in \(String(format: "%.2f", fromSnapshot.last!)) s")
        }
        let probe = try ReplicaProcess(name: "rebuild-probe", databaseURL: url, snapshotDirectory: folder + "/no-snapshots",
                                       token: token, folder: folder)
        let started = DispatchTime.now().uptimeNanoseconds
        try probe.start()
        let rebuild = try await probe.waitReady(since: started)
        probe.stop()
        Console.progress("a replica without snapshots was ready in \(String(format: "%.2f", rebuild)) s")
        let median = fromSnapshot.sorted()[fromSnapshot.count / 2]
        return ReadyReport(fromSnapshotSeconds: fromSnapshot, rebuildSeconds: rebuild, speedup: rebuild / median,
                           loadLines: (followers + [probe]).flatMap { replica in replica.loadLines.map { "\(replica.name): \($0)" } })
    }
}

extension Array {
    /// Removes and returns the first `count` elements.
    mutating func take(_ count: Int) -> [Element] {
        let head = Array(prefix(count))
        removeFirst(Swift.min(count, self.count))
        return head
    }
}
