import Foundation
import Store

/// Runs each collection's scheduled scan every `every_seconds` and applies its policy.
/// One task per collection; replacing a schedule cancels the old task.
public final class ScanScheduler: @unchecked Sendable {
    private let collections: LiveCollections
    private let report: @Sendable (String) -> Void
    private let lock = Mutex()
    private var tasks: [Int64: Task<Void, Never>] = [:]
    public static let actor = "scheduler"

    public init(collections: LiveCollections, report: @escaping @Sendable (String) -> Void = { _ in }) {
        self.collections = collections
        self.report = report
    }

    /// Starts the stored schedules.
    public func start() async throws {
        for record in try await collections.pool.withConnection({ try ScheduleRecords.all(on: $0) }) { apply(record) }
    }

    /// Validates, stores and (re)starts a collection's schedule.
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
        apply(record)
    }

    public func stop() {
        lock.locked { for task in tasks.values { task.cancel() }; tasks.removeAll() }
    }

    private func apply(_ record: ScheduleRecord) {
        collections.all.first { $0.configuration.id == record.collectionID }?.screens.holdOnArrival =
            record.enabled && record.policy == ScanPolicy.autoContain.rawValue
        lock.locked {
            tasks.removeValue(forKey: record.collectionID)?.cancel()
            guard record.enabled else { return }
            tasks[record.collectionID] = Task.detached { [self] in await loop(record) }
        }
    }

    private func loop(_ record: ScheduleRecord) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(record.everySeconds))
            guard !Task.isCancelled,
                  let collection = collections.all.first(where: { $0.configuration.id == record.collectionID }),
                  let policy = ScanPolicy(rawValue: record.policy) else { continue }
            do {
                let scan = try await collections.scan(collection, tenant: nil, options: try Self.settings(record).options())
                if let outcome = try await collections.respond(to: scan, in: collection, policy: policy, actor: Self.actor) {
                    report("scheduled scan \(scan.id) of \(collection.configuration.name): \(policy.rawValue) under \(outcome.incidentID), quarantined \(outcome.quarantined.count)")
                }
            } catch {
                report("scheduled scan of \(collection.configuration.name) failed: \(error)")
            }
        }
    }

    static func settings(_ record: ScheduleRecord) throws(EngineError) -> ScanSettings {
        guard let settings = try? JSONDecoder().decode(ScanSettings.self, from: Data(record.optionsJSON.utf8)) else {
            throw EngineError(.invalidInput, "scan options must be an object of sample, sample_size, k, threshold, budget, seed")
        }
        return settings
    }
}
