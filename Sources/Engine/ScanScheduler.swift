import Foundation
import Store

/// Runs each collection's scheduled scan every `every_seconds` and applies its policy, on
/// exactly one replica per period: every replica checks the stored schedules every
/// `tickSeconds` and runs the ones whose due run it claims (`ScheduleRecords.claimDueRun`).
/// A schedule set on any replica is therefore run by whichever replica claims it first.
public final class ScanScheduler: @unchecked Sendable {
    public static let actor = "scheduler"
    public static let tickSeconds = 1.0

    private let collections: LiveCollections
    private let report: @Sendable (String) -> Void
    private let lock = Mutex()
    private var task: Task<Void, Never>?

    public init(collections: LiveCollections, report: @escaping @Sendable (String) -> Void = { _ in }) {
        self.collections = collections
        self.report = report
    }

    /// Arms the ingest screen's hold where an auto-contain schedule is enabled (later changes
    /// arrive through the change log), then starts checking the stored schedules.
    public func start() async throws {
        for record in try await collections.pool.withConnection({ try ScheduleRecords.all(on: $0) }) {
            collections.all.first { $0.configuration.id == record.collectionID }?.screens.holdOnArrival =
                record.enabled && record.policy == ScanPolicy.autoContain.rawValue
        }
        let task = Task.detached { [self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(Self.tickSeconds))
                await tick()
            }
        }
        lock.locked { self.task = task }
    }

    /// Validates and stores a collection's schedule; its first run is `every_seconds` away.
    public func put(_ record: ScheduleRecord, actor: String) async throws(EngineError) {
        guard ScheduleRecords.everySecondsRange.contains(record.everySeconds) else {
            throw EngineError(.invalidInput, "every_seconds must be in \(ScheduleRecords.everySecondsRange)")
        }
        guard ScanPolicy(rawValue: record.policy) != nil else { throw EngineError(.invalidInput, "policy must be alert or auto-contain") }
        _ = try Self.settings(record).options()
        guard let collection = collections.all.first(where: { $0.configuration.id == record.collectionID }) else {
            throw EngineError(.unknownCollection, "no collection with id \(record.collectionID)")
        }
        try await collections.write(collection) { connection throws(EngineError) in
            do { try ScheduleRecords.put(record, actor: actor, on: connection) } catch { throw LiveCollection.mapped(error) }
            try collection.append(.scanScheduleChanged(policy: record.policy, enabled: record.enabled), on: connection)
        }
    }

    public func stop() {
        lock.locked { task?.cancel(); task = nil }
    }

    /// Runs every schedule whose due run this replica claims.
    func tick() async {
        guard let records = try? await collections.pool.withConnection({ try ScheduleRecords.all(on: $0) }) else { return }
        for record in records where record.enabled {
            guard !Task.isCancelled,
                  let collection = collections.all.first(where: { $0.configuration.id == record.collectionID }),
                  let policy = ScanPolicy(rawValue: record.policy),
                  (try? await collections.pool.withConnection({ try ScheduleRecords.claimDueRun(collectionID: record.collectionID, on: $0) }))
                    == true else { continue }
            await run(record, on: collection, policy: policy)
        }
    }

    private func run(_ record: ScheduleRecord, on collection: LiveCollection, policy: ScanPolicy) async {
        do {
            let scan = try await collections.scan(collection, tenant: nil, options: try Self.settings(record).options())
            if let outcome = try await collections.respond(to: scan, in: collection, policy: policy, actor: Self.actor) {
                report("scheduled scan \(scan.id) of \(collection.configuration.name): \(policy.rawValue) under \(outcome.incidentID), quarantined \(outcome.quarantined.count)")
            }
        } catch {
            report("scheduled scan of \(collection.configuration.name) failed: \(error)")
        }
    }

    static func settings(_ record: ScheduleRecord) throws(EngineError) -> ScanSettings {
        guard let settings = try? JSONDecoder().decode(ScanSettings.self, from: Data(record.optionsJSON.utf8)) else {
            throw EngineError(.invalidInput, "scan options must be an object of sample, sample_size, k, threshold, budget, seed")
        }
        return settings
    }
}
