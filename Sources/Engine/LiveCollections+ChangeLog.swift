import Foundation
import Store

/// The write path and the apply path. A writer validates, appends its change in the write
/// transaction and, after the commit, applies it by catching its collection up with the log;
/// the change listener catches every collection up when woken. Nothing else changes memory.
extension LiveCollections {
    /// Runs a writer on a connection's thread, under the collection's writer mutex, in one
    /// transaction that first takes the collection's advisory lock (writers of one collection
    /// are serialised across every replica) and catches the collection up, so the writer
    /// decides on a state that includes every earlier change. After the commit, the rows it
    /// appended are applied; their seq goes into the request's `WriteReceipt`.
    ///
    /// `before` runs under the mutex before the transaction starts and returns an undo for
    /// when the transaction fails (a quarantine withholds its documents there: fail closed).
    func write<T: Sendable>(_ collection: LiveCollection,
                            before: @escaping @Sendable () throws(EngineError) -> (@Sendable () -> Void)? = { nil },
                            _ body: @escaping @Sendable (Connection) throws(EngineError) -> T) async throws(EngineError) -> T {
        let attempt: WriteAttempt<T>
        let receipt = WriteReceipt.current
        do {
            attempt = try await pool.withConnection { connection in
                try collection.writers.locked { () throws -> WriteAttempt<T> in
                    try self.requireApplying()
                    try collection.requireWritable()
                    let undo = try before()
                    let value: T
                    var computed: T?  // what the body returned, in case COMMIT's answer is lost
                    do {
                        EngineFaults.armCommit(on: connection)
                        value = try connection.transaction { c in
                            try ChangeLog.lockCollection(collection.configuration.id, on: c)
                            try self.catchUp(collection, on: c)
                            let value = try body(c)
                            try receipt?.willCommit(on: c, seq: collection.appendedSeqs.max())
                            computed = value
                            return value
                        }
                        receipt?.markCommitted()
                    } catch let error as StoreError where error.code == .commitUnknown && !collection.appendedSeqs.isEmpty {
                        // Maybe committed: keep the holds (fail closed) and what was prepared,
                        // and find out from the record on another connection.
                        let seqs = collection.appendedSeqs
                        collection.appendedSeqs.removeAll()
                        return .unknown(value: computed, seqs: seqs, undo: undo, error: error)
                    } catch {
                        collection.discardAppended()
                        undo?()
                        throw error
                    }
                    let seqs = collection.appendedSeqs
                    collection.appendedSeqs.removeAll()
                    if !seqs.isEmpty { try self.catchUp(collection, on: connection) }
                    return .committed(value, seqs)
                }
            }
        } catch {
            throw LiveCollection.mapped(error)
        }
        switch attempt {
        case let .committed(value, seqs):
            if let last = seqs.max() { WriteReceipt.current?.record(last) }
            return value
        case let .unknown(value, seqs, undo, error):
            try await resolveUnknownCommit(collection, seqs: seqs, undo: undo, error: error)
            guard let value else {
                throw EngineError(.storeFailed, "the write committed (seq \(seqs.max()!)) but its answer was lost: read the resource for its outcome")
            }
            return value  // it committed, and is applied: the write succeeded after all
        }
    }

    /// What one attempt at a write came to: committed, or a COMMIT whose answer was lost.
    private enum WriteAttempt<T: Sendable>: Sendable {
        case committed(T, [Int64])
        case unknown(value: T?, seqs: [Int64], undo: (@Sendable () -> Void)?, error: StoreError)
    }

    /// After a COMMIT whose answer was lost: asks the record (on another connection) whether
    /// the change is there. Committed: the collection catches up, so it is applied. Not
    /// committed: the holds are undone, and the original error is thrown. When the record
    /// cannot be asked, the holds stay (fail closed) and the collection refuses writes until a
    /// restart repairs it from PostgreSQL.
    private func resolveUnknownCommit(_ collection: LiveCollection, seqs: [Int64], undo: (@Sendable () -> Void)?,
                                      error: StoreError) async throws(EngineError) {
        let committed: Bool
        do {
            committed = try await pool.withConnection { connection in
                try collection.writers.locked { () throws -> Bool in
                    try EngineFaults.check(.commitCheck)
                    let committed = try ChangeLog.contains(seq: seqs.max()!, on: connection)
                    if committed {
                        try self.catchUp(collection, on: connection)
                    } else {
                        collection.discardPrepared(seqs)
                        undo?()
                    }
                    return committed
                }
            }
        } catch let failure {
            let reason = "a write's COMMIT got no answer (\(error.message)) and the record could not be asked whether it took effect (\(failure)); what it withheld stays withheld"
            collection.refuseWrites(because: reason)
            throw EngineError(.storeFailed, "\(collection.configuration.name) refuses writes until a restart repairs it from PostgreSQL: \(reason)")
        }
        if !committed { throw LiveCollection.mapped(error) }
        WriteReceipt.current?.markCommitted()
        WriteReceipt.current?.record(seqs.max()!)
    }

    /// The position up to which `collection`'s served state reflects every change: its own
    /// position or the replica's, whichever is further.
    public func appliedSeq(of collection: LiveCollection) -> Int64 {
        max(collection.position.value, replica.appliedSeq)
    }

    /// Refuses writes once this replica has stopped applying (its memory is behind the record).
    private func requireApplying() throws(EngineError) {
        if let problem = replica.problem {
            throw EngineError(.storeFailed, "replica \(replica.name) stopped applying the change log and refuses writes: \(problem)")
        }
    }

    /// Applies every committed change of `collection` after its position. Caller holds the
    /// collection's `writers`. A row that cannot be applied stops the replica (fail-stop).
    func catchUp(_ collection: LiveCollection, on connection: Connection) throws(EngineError) {
        let id = collection.configuration.id
        do {
            let head = try ChangeLog.head(on: connection)
            try requireReplayable(after: appliedSeq(of: collection), on: connection)
            while true {
                let rows = try ChangeLog.read(after: collection.position.value, collectionID: id, on: connection)
                if !rows.isEmpty { try apply(rows, to: collection, on: connection) }
                if rows.count < ChangeLog.readRowsMax { break }
            }
            // Every row of the collection at or below `head` was committed before it was read.
            collection.position.advance(to: head)
        } catch let error as EngineError where error.code == .indexFailed {
            replica.fail(error.message)
            throw error
        } catch let error as StoreError where error.code == .decodingFailed {
            replica.fail(error.message)
            throw EngineError(.indexFailed, error.message)
        } catch {
            throw LiveCollection.mapped(error)
        }
    }

    /// Reads the log after this replica's position and applies each collection's rows under
    /// its writer mutex; returns how many rows it read. Called by the change listener.
    @discardableResult
    public func pump(on connection: Connection) throws -> Int {
        guard replica.problem == nil else { return 0 }
        let head = try ChangeLog.head(on: connection)
        replica.sawHead(head)
        try requireReplayable(after: replica.appliedSeq, on: connection)
        var read = 0
        while true {
            let rows: [ChangeRow]
            do {
                rows = try ChangeLog.read(after: replica.appliedSeq, on: connection)
            } catch let error as StoreError where error.code == .decodingFailed {
                replica.fail(error.message)
                throw EngineError(.indexFailed, error.message)
            }
            read += rows.count
            var order: [Int64] = []
            var byCollection: [Int64: [ChangeRow]] = [:]
            for row in rows {
                if byCollection[row.collectionID] == nil { order.append(row.collectionID) }
                byCollection[row.collectionID, default: []].append(row)
            }
            for id in order {
                let mine = byCollection[id]!
                guard let collection = try collection(id: id, creating: mine[0], on: connection) else { continue }
                try collection.writers.locked { () throws -> Void in
                    let fresh = mine.filter { $0.seq > collection.position.value }
                    do {
                        if !fresh.isEmpty { try apply(fresh, to: collection, on: connection) }
                    } catch let error as EngineError where error.code == .indexFailed {
                        replica.fail(error.message)
                        throw error
                    }
                    collection.position.advance(to: mine.last!.seq)
                }
            }
            if let last = rows.last { replica.advance(to: last.seq) }
            if rows.count < ChangeLog.readRowsMax { break }
        }
        replica.advance(to: head)
        return read
    }

    /// Stops the replica (fail-stop) when retention deleted rows after `position`: replaying
    /// what is left would skip them. A restart starts from a snapshot and the record instead.
    private func requireReplayable(after position: Int64, on connection: Connection) throws(EngineError) {
        let floor: Int64
        do { floor = try ChangeLog.floor(on: connection) } catch { throw LiveCollection.mapped(error) }
        guard floor <= position + 1 else {
            let reason = "the change log was truncated below \(floor), past this replica's position \(position); restart it to start from a snapshot"
            replica.fail(reason)
            throw EngineError(.indexFailed, reason)
        }
    }

    /// The live collection a row belongs to; a `collection_created` row for one this replica
    /// does not hold yet creates it; nil for one start-up could not load (its rows are skipped).
    /// Rows of a collection this replica never learnt of stop it.
    private func collection(id: Int64, creating first: ChangeRow, on connection: Connection) throws -> LiveCollection? {
        if let known = lock.locked({ byID[id] }) { return known }
        // Not loaded at start-up: not served, so its changes have nothing to apply to.
        if lock.locked({ unloaded.values.contains { $0.id == id } }) { return nil }
        guard case .collectionCreated = first.change else {
            let reason = "change \(first.seq) (\(first.change.kind)) names collection \(id), which this replica does not hold"
            replica.fail(reason)
            throw EngineError(.indexFailed, reason)
        }
        guard let record = try CollectionRecords.all(on: connection).first(where: { $0.id == id }) else {
            let reason = "change \(first.seq) creates collection \(id), which the record does not hold"
            replica.fail(reason)
            throw EngineError(.indexFailed, reason)
        }
        let created = LiveCollection(configuration: try Self.configuration(of: record), retrievalLog: retrievalLog,
                                     origin: replica.name)
        created.position.advance(to: first.seq)
        return insertIfAbsent(created)
    }

    /// Prepares what each row needs that memory does not hold (the local writer's stash, else
    /// documents from PostgreSQL, restored partitions and rebuilt graphs from the snapshot
    /// store), then applies.
    private func apply(_ rows: [ChangeRow], to collection: LiveCollection, on connection: Connection) throws {
        var prepared: [Int64: PreparedChange] = [:]
        for row in rows {
            if let stashed = collection.stash.removeValue(forKey: row.seq) {
                prepared[row.seq] = stashed
                continue
            }
            switch row.change {
            case .documentsIngested(let ids, _, _):
                let loaded = try DocumentRecords.load(rowIDs: ids, collectionID: collection.configuration.id, on: connection)
                prepared[row.seq] = .documents(Dictionary(uniqueKeysWithValues: loaded.map { row in
                    (row.rowID, NewDocument(externalID: row.record.externalID, tenant: row.record.tenant, text: row.record.text,
                                            embedding: row.record.embedding, metadataJSON: row.record.metadataJSON))
                }))
            case .partitionRebuilt(_, _, let file?, let sha256?):
                if let graph = loadRebuilt(file: file, sha256: sha256, of: collection) { prepared[row.seq] = .graph(graph) }
            case .rolledBack(let snapshotID, let tenants, _):
                if let restored = restoredPartitions(snapshotID, tenants: tenants, of: collection, on: connection) {
                    prepared[row.seq] = .restored(restored)
                }
            default:
                break
            }
        }
        // A local writer's staged vectors finish linking before the write lock is taken, so
        // searches wait only for the publish, not for the graph work.
        for case .documents(_, let staged) in prepared.values { for one in staged { one.waitUntilLinked() } }
        try collection.apply(rows, prepared: prepared)
    }

    /// Another replica's rollback, loaded here from the shared snapshot store (verified first).
    /// Nil when it cannot be: the rollback is then applied as its retirement alone.
    private func restoredPartitions(_ snapshotID: String, tenants: [String], of collection: LiveCollection,
                                    on connection: Connection) -> [SnapshotLayout.Captured]? {
        guard let record = try? SnapshotRecords.load(snapshotID, on: connection) else { return nil }
        do {
            return try loadSnapshot(record, of: collection, tenants: Set(tenants))
        } catch {
            report("rollback to \(snapshotID) applied without its files on this replica (\(error)); the served documents are the same")
            return nil
        }
    }
}
