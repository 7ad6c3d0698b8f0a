import Store

/// The rebuilding mode on every replica: a partition enters it with a `rebuild_started` change
/// and leaves it with `rebuild_ended`, whoever ends the job (the job itself, a restart of its
/// replica, or another replica that finds it orphaned); a booting replica takes it from the
/// open jobs in the record.
extension LiveCollections {
    /// Every replica's partitions leave the rebuilding mode through one `rebuild_ended` change.
    /// If it cannot be recorded, this replica's leave it anyway (the job is over here) and the
    /// others stay degraded until their restart; it says so.
    func recordRebuildEnded(_ job: Int64, collection: LiveCollection, tenants: [String], state: String) async {
        do {
            try await write(collection) { connection throws(EngineError) in
                try collection.append(.rebuildEnded(tenants: tenants, jobID: job, state: state), on: connection)
            }
        } catch {
            collection.setRebuilding(false, tenants: tenants)
            report("rebuild job \(job): its end could not be recorded (\(error)); other replicas keep \(tenants) rebuilding until they restart")
        }
    }

    /// A job that ended without its replica (orphaned, or interrupted by a restart): its
    /// partitions leave the rebuilding mode on every replica.
    public func recordRebuildEnded(orphanedJob job: Int64) async {
        guard let record = try? await pool.withConnection({ try JobRecords.load(job, on: $0) }),
              let collection = all.first(where: { $0.configuration.id == record.collectionID }) else { return }
        let tenants = record.tenant.map { [$0] } ?? collection.partitionTenants
        await recordRebuildEnded(job, collection: collection, tenants: tenants, state: record.state)
    }

    /// At start-up: partitions another replica is rebuilding (open jobs, read from the record)
    /// serve in the rebuilding mode here too; the jobs this replica's previous process left
    /// were failed, and their end is recorded so that every replica's partitions leave the mode.
    func resumeRebuildState(interrupted: [Int64]) async throws {
        for job in interrupted { await recordRebuildEnded(orphanedJob: job) }
        for record in try await pool.withConnection({ try JobRecords.open(on: $0) }) {
            guard let collection = all.first(where: { $0.configuration.id == record.collectionID }) else { continue }
            collection.setRebuilding(true, tenants: record.tenant.map { [$0] } ?? collection.partitionTenants)
        }
    }
}
