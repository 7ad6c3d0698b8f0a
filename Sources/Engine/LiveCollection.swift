import HNSW
import Store
import VectorMath

/// Why a document is withheld (every kind is withheld on every search path alike).
enum QuarantineHold: Equatable, Sendable {
    /// A quarantine recorded in PostgreSQL under this incident.
    case recorded(incidentID: String)
    /// Held on arrival by the ingest screen, recorded with the ingest (under its incident, when
    /// the change names one).
    case screened(incidentID: String?)
    /// Withheld before its quarantine's transaction (fail closed): that quarantine's own change
    /// makes it `recorded`, its undo readmits it.
    case recording
}

/// One collection, served: its `ServingState` (partitions, documents, quarantine, flags)
/// behind one read-write lock. Searches take the read lock; every writer is serialised by
/// `writers` end to end (its PostgreSQL transaction and the memory update) and changes the
/// state only inside `mutate` (the change-apply path, and the fail-closed holds a writer
/// takes before its transaction), after which test builds walk `integrityProblem()`.
public final class LiveCollection: @unchecked Sendable {
    public let configuration: CollectionConfiguration
    let state = ReadWriteLock()
    let writers = Mutex()
    /// A sample of the queries answered (HubScan's real-query sample).
    let reservoir = QueryReservoir()
    /// The ingest screens the newest scans built, and whether to hold what they flag.
    let screens = ScreenBook()
    /// Where served results are logged; set once by the registry before the collection serves.
    let retrievalLog: RetrievalLog?
    /// The replica this process is, named on every change it appends.
    let origin: String
    /// Every change of this collection at or below it is applied (the apply path advances it).
    let position = CollectionPosition()

    // Guarded by `writers`: what a local writer appended in its open transaction.
    var stash: [Int64: PreparedChange] = [:]
    var appendedSeqs: [Int64] = []

    /// Why this collection refuses writes, once a write's outcome could not be learned from
    /// the record (fail closed: only a restart, which loads from PostgreSQL, clears it).
    private let refusalLock = Mutex()
    private var refusal: String?

    /// Guarded by `state`; changed only inside `mutate` (and while loading, before it serves).
    var serving = ServingState()

    // The parts of `serving`, by name (in place: no copy of the maps on a change).
    var partitions: [String: Partition] {
        _read { yield serving.partitions }
        _modify { yield &serving.partitions }
    }
    var documents: [Int64: DocumentEntry] {
        _read { yield serving.documents }
        _modify { yield &serving.documents }
    }
    var rowIDs: [DocumentKey: Int64] {
        _read { yield serving.rowIDs }
        _modify { yield &serving.rowIDs }
    }
    var quarantined: [Int64: QuarantineHold] {
        _read { yield serving.quarantined }
        _modify { yield &serving.quarantined }
    }
    var flags: FlagSet {
        _read { yield serving.flags }
        _modify { yield &serving.flags }
    }

    /// The one way to change the serving state once the collection serves: under the write
    /// lock, then (FIREBREAK_INVARIANTS builds) the integrity walk over the result.
    func mutate<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        let result = try state.writing(body)
        #if FIREBREAK_INVARIANTS
        if let problem = integrityProblem() { preconditionFailure("collection \(configuration.name) after a change: \(problem)") }
        #endif
        return result
    }

    init(configuration: CollectionConfiguration, retrievalLog: RetrievalLog? = nil, origin: String = "local") {
        precondition(configuration.id > 0, "a live collection is backed by a stored row")
        self.configuration = configuration
        self.retrievalLog = retrievalLog
        self.origin = origin
    }

    /// Builds the serving state from the system of record: every live document into its
    /// tenant's partition, then the active quarantine and the flags.
    static func load(_ configuration: CollectionConfiguration, retrievalLog: RetrievalLog?, origin: String,
                     on connection: Connection) throws -> LiveCollection {
        let collection = LiveCollection(configuration: configuration, retrievalLog: retrievalLog, origin: origin)
        let rows = try DocumentRecords.loadLive(collectionID: configuration.id, on: connection)
        let byTenant = Dictionary(grouping: rows, by: \.record.tenant)
        for (tenant, tenantRows) in byTenant {
            let partition = try Partition(tenant: tenant, parameters: configuration.hnswParameters)
            try partition.add(tenantRows.map { ($0.rowID, $0.record.text, $0.record.embedding) })
            collection.partitions[tenant] = partition
        }
        for row in rows {
            collection.documents[row.rowID] = DocumentEntry(rowID: row.rowID, externalID: row.record.externalID,
                                                            tenant: row.record.tenant, text: row.record.text)
            collection.rowIDs[DocumentKey(tenant: row.record.tenant, externalID: row.record.externalID)] = row.rowID
        }
        try collection.loadContainment(on: connection)
        return collection
    }

    /// The active quarantine and the flags, from the record (start-up).
    func loadContainment(on connection: Connection) throws {
        let collection = self
        for entry in try QuarantineRecords.entries(collectionID: configuration.id, on: connection) {
            collection.applyQuarantine(rowID: entry.documentID, hold: .recorded(incidentID: entry.incidentID))
        }
        for flag in try FlagRecords.all(collectionID: configuration.id, on: connection) {
            guard let known = FeatureFlag(rawValue: flag.name) else { continue }
            if known == .tenantBlock && flag.tenant.isEmpty { continue }
            collection.flags.set(known, enabled: flag.enabled, tenant: flag.tenant)
        }
    }

    /// What `GET /v1/collections/{name}` shows.
    public struct Status: Sendable {
        public let mode: CollectionMode
        public let documents: Int
        public let quarantined: Int
        public let tenants: [String]
        public let flags: [(flag: FeatureFlag, tenant: String?)]
    }

    /// The collection's status; with `scope`, counted over that tenant's partition only (a
    /// tenant-scoped caller learns nothing about other tenants).
    public func status(scope: String? = nil) -> Status {
        state.reading {
            let visible = scope.map { tenant in partitions[tenant].map { [$0] } ?? [] } ?? Array(partitions.values)
            let frozen = scope.map { flags.isFrozen(tenant: $0) } ?? flags.collectionFrozen
            let inScope = { (tenant: String?) in scope == nil || tenant == nil || tenant == scope }
            return Status(mode: CollectionMode.of(frozen: frozen, rebuilding: visible.contains { $0.rebuilding }),
                          documents: visible.reduce(0) { $0 + $1.liveCount },
                          quarantined: quarantined.keys.filter { scope == nil || documents[$0]?.tenant == scope }.count,
                          tenants: visible.map(\.tenant).sorted(),
                          flags: flags.enabled.filter { inScope($0.tenant) })
        }
    }

    /// Why the collection refuses writes (nil while it takes them).
    public var writeRefusal: String? { refusalLock.locked { refusal } }

    /// From now on every write is refused with `reason` (the first reason is kept).
    func refuseWrites(because reason: String) { refusalLock.locked { refusal = refusal ?? reason } }

    func requireWritable() throws(EngineError) {
        guard let reason = writeRefusal else { return }
        throw EngineError(.storeFailed, "\(configuration.name) refuses writes until a restart repairs it from PostgreSQL: \(reason)")
    }

    /// The mode one tenant's partition is in.
    public func mode(tenant: String) -> CollectionMode {
        state.reading {
            CollectionMode.of(frozen: flags.isFrozen(tenant: tenant), rebuilding: partitions[tenant]?.rebuilding ?? false)
        }
    }

    /// Looks up a live document by its external id, as seen from `scope` (a tenant-scoped
    /// caller never learns that another tenant's document exists).
    func entry(externalID: String, scope: String?) throws(EngineError) -> DocumentEntry? {
        try state.reading { () throws(EngineError) -> DocumentEntry? in
            guard let rowID = try serving.rowID(externalID: externalID, scope: scope, collection: configuration.name) else { return nil }
            return documents[rowID]
        }
    }

    /// Whether a document is withheld. (Guarded by the caller holding `state`.)
    func applyQuarantine(rowID: Int64, hold: QuarantineHold) {
        guard let entry = documents[rowID], let partition = partitions[entry.tenant] else { return }
        quarantined[rowID] = hold
        partition.setWithheld(true, rowID: rowID)
    }

    func applyRelease(rowID: Int64) {
        guard quarantined.removeValue(forKey: rowID) != nil,
              let entry = documents[rowID], let partition = partitions[entry.tenant] else { return }
        partition.setWithheld(false, rowID: rowID)
    }

    /// Checks the module invariants (tests and FIREBREAK_INVARIANTS builds).
    public func integrityProblem() -> String? {
        state.reading { serving.integrityProblem() }
    }
}

extension LiveCollection {
    /// The row id and tenant of a live document, if `scope` may see it. Quarantined documents
    /// are not located: no fetch path returns them.
    public func locate(externalID: String, scope: String?) throws(EngineError) -> (rowID: Int64, tenant: String)? {
        try state.reading { () throws(EngineError) -> (rowID: Int64, tenant: String)? in
            guard let rowID = try serving.rowID(externalID: externalID, scope: scope, collection: configuration.name),
                  let entry = documents[rowID], quarantined[rowID] == nil else { return nil }
            return (rowID, entry.tenant)
        }
    }
}
