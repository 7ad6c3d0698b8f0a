import Crypto
import Foundation
import Store

/// A document arriving through the API.
public struct NewDocument: Sendable {
    public var externalID: String
    public var tenant: String
    public var text: String
    public var embedding: [Float]
    /// A JSON object, as text.
    public var metadataJSON: String

    public init(externalID: String, tenant: String, text: String, embedding: [Float], metadataJSON: String = "{}") {
        self.externalID = externalID
        self.tenant = tenant
        self.text = text
        self.embedding = embedding
        self.metadataJSON = metadataJSON
    }
}

extension LiveCollection {
    public static let ingestBatchMax = 1_000
    /// Tenants one collection may hold. Each has a partition (graph, BM25 index, query
    /// sample); past this, a batch that would add a tenant is refused.
    public static let tenantsMax = 1_000

    /// Ingests a batch, all or nothing, in the writer's transaction: validated, screened,
    /// stored, and (with hold-on-arrival) the documents the screen flags quarantined in the
    /// same transaction; then one `documents_ingested` change names the rows and the held
    /// ones. Applying it after the commit indexes the batch with the held documents already
    /// withheld, in one write section: they are never served. Any failure rolls the whole
    /// transaction back, so there is nothing to take back. Caller holds `writers`.
    ///
    /// The batch's row ids are reserved first, so its vectors link into their partitions'
    /// graphs (tombstoned, `StagedVectors`) while PostgreSQL stores it; the apply publishes them.
    func ingest(_ batch: [NewDocument], on connection: Connection) throws(EngineError) -> IngestOutcome {
        try validate(batch)
        let screened = try screen(batch)
        let holding = screens.holdOnArrival ? screened.keys.sorted() : []
        let rowIDs = try reserveRowIDs(batch.count, on: connection)
        let staged = try stageVectors(batch, rowIDs: rowIDs)
        do {
            try store(batch, rowIDs: rowIDs, on: connection)
            try EngineFaults.check(.ingestIndex)
            var incidentID: String?
            let heldRows = holding.map { rowIDs[$0] }
            if !holding.isEmpty {
                let entries = holding.map { DocumentEntry(rowID: rowIDs[$0], externalID: batch[$0].externalID,
                                                          tenant: batch[$0].tenant, text: batch[$0].text) }
                incidentID = try recordHeld(holding.map { screened[$0]! }, entries: entries, on: connection)
            }
            let prepared = Dictionary(uniqueKeysWithValues: zip(rowIDs, batch))
            // From here the stash owns the staged vectors: the apply publishes them, a failed
            // commit abandons them (`discardPrepared`).
            try append(.documentsIngested(rowIDs: rowIDs, held: heldRows, incidentID: incidentID),
                       prepared: .documents(prepared, staged: staged), on: connection)
            return IngestOutcome(rowIDs: rowIDs, screened: screened.keys.sorted().map { screened[$0]! },
                                 held: holding.map { batch[$0].externalID }, incidentID: incidentID)
        } catch {
            abandon(staged)
            throw error
        }
    }

    private func reserveRowIDs(_ count: Int, on connection: Connection) throws(EngineError) -> [Int64] {
        do { return try DocumentRecords.reserveRowIDs(count, on: connection) } catch { throw Self.mapped(error) }
    }

    private func store(_ batch: [NewDocument], rowIDs: [Int64], on connection: Connection) throws(EngineError) {
        do {
            _ = try DocumentRecords.insert(
                batch.map { DocumentRecord(tenant: $0.tenant, externalID: $0.externalID, text: $0.text, embedding: $0.embedding,
                                           metadataJSON: $0.metadataJSON) },
                rowIDs: rowIDs, collectionID: configuration.id, dimension: configuration.dimension, createTenants: true,
                on: connection)
        } catch let error as StoreError where error.code == .constraintViolation {
            throw EngineError(.duplicateDocument, "a document id of this batch already exists for its tenant in \(configuration.name)")
        } catch let error as StoreError where error.code == .invalidInput || error.code == .invalidData {
            throw EngineError(.invalidInput, error.message)
        } catch {
            throw EngineError(.storeFailed, "\(error)")
        }
    }

    /// Adds committed documents to their partitions (under the write lock), all or nothing. A
    /// tenant's vectors the writer staged (and linked) are published; the rest are added here.
    func index(_ batch: [NewDocument], rowIDs: [Int64], staged: [StagedVectors] = []) throws(EngineError) {
        var added: [(Partition, [Int64])] = []
        var unpublished = staged
        defer { for left in unpublished { left.abandon() } }
        do {
            for (tenant, members) in Dictionary(grouping: zip(rowIDs, batch), by: { $0.1.tenant }) {
                let partition: Partition
                if let existing = partitions[tenant] { partition = existing } else {
                    partition = try Partition(tenant: tenant, parameters: configuration.hnswParameters)
                    partitions[tenant] = partition
                }
                let rows = members.map(\.0)
                if let i = unpublished.firstIndex(where: { $0.tenant == tenant && $0.graph === partition.graph && $0.rowIDs == rows }) {
                    let linked = unpublished.remove(at: i)
                    try partition.publish(linked, texts: members.map { ($0.0, $0.1.text) })
                } else {
                    // A graph holds one staged batch at a time: one that does not match (never
                    // expected) ends before the batch is added whole.
                    while let i = unpublished.firstIndex(where: { $0.graph === partition.graph }) { unpublished.remove(at: i).abandon() }
                    try partition.add(members.map { ($0.0, $0.1.text, $0.1.embedding) })
                }
                added.append((partition, rows))
            }
        } catch {
            for (partition, rows) in added { for rowID in rows { partition.delete(rowID: rowID) } }
            throw error
        }
        for (rowID, document) in zip(rowIDs, batch) {
            documents[rowID] = DocumentEntry(rowID: rowID, externalID: document.externalID, tenant: document.tenant,
                                             text: document.text)
            self.rowIDs[DocumentKey(tenant: document.tenant, externalID: document.externalID)] = rowID
        }
    }

    private func validate(_ batch: [NewDocument]) throws(EngineError) {
        guard (1...Self.ingestBatchMax).contains(batch.count) else {
            throw EngineError(.invalidInput, "give 1...\(Self.ingestBatchMax) documents per request, got \(batch.count)")
        }
        var seen = Set<DocumentKey>()
        for (index, document) in batch.enumerated() {
            let name = "documents[\(index)] (\"\(document.externalID.prefix(64))\")"
            guard CollectionConfiguration.isValidName(document.tenant) else {
                throw EngineError(.invalidInput, "\(name): tenant must be 1-63 letters, digits, '_', '.' or '-'")
            }
            guard seen.insert(DocumentKey(tenant: document.tenant, externalID: document.externalID)).inserted else {
                throw EngineError(.duplicateDocument, "\(name): the id appears twice for tenant \(document.tenant) in this batch")
            }
            try validate(vector: document.embedding, name: "\(name) embedding")
            do {
                try DocumentRecords.validate([DocumentRecord(tenant: document.tenant, externalID: document.externalID,
                                                             text: document.text, embedding: document.embedding,
                                                             metadataJSON: document.metadataJSON)],
                                             dimension: configuration.dimension)
            } catch {
                throw EngineError(.invalidInput, "\(name): \(error.message)")
            }
        }
        try state.reading { () throws(EngineError) in
            let newTenants = Set(batch.map(\.tenant)).subtracting(partitions.keys)
            guard partitions.count + newTenants.count <= Self.tenantsMax else {
                throw EngineError(.invalidInput, "\(configuration.name) holds \(partitions.count) tenants; this batch would add \(newTenants.count) more, past its maximum of \(Self.tenantsMax)")
            }
            for document in batch {
                if flags.isBlocked(tenant: document.tenant) {
                    throw EngineError(.tenantBlocked, "tenant \(document.tenant) is blocked (FF_TENANT_BLOCK)")
                }
                let mode = CollectionMode.of(frozen: flags.isFrozen(tenant: document.tenant),
                                             rebuilding: partitions[document.tenant]?.rebuilding ?? false)
                guard mode.acceptsIngest else {
                    throw EngineError(.collectionFrozen, "ingestion into \(configuration.name) for tenant \(document.tenant) is refused: the partition is \(mode.rawValue)")
                }
                if rowIDs[DocumentKey(tenant: document.tenant, externalID: document.externalID)] != nil {
                    throw EngineError(.duplicateDocument, "document \"\(document.externalID)\" already exists for tenant \(document.tenant) in \(configuration.name)")
                }
            }
        }
    }

    /// Deletes a live document (kept in PostgreSQL as evidence, marked deleted).
    func delete(externalID: String, scope: String?, on connection: Connection) throws(EngineError) {
        guard let entry = try entry(externalID: externalID, scope: scope) else {
            throw EngineError(.unknownDocument, "no document \"\(externalID)\" in \(configuration.name)")
        }
        if state.reading({ flags.isBlocked(tenant: entry.tenant) }) {
            throw EngineError(.tenantBlocked, "tenant \(entry.tenant) is blocked (FF_TENANT_BLOCK)")
        }
        do {
            guard try DocumentRecords.markDeleted(rowID: entry.rowID, collectionID: configuration.id, on: connection) else {
                throw EngineError(.unknownDocument, "no document \"\(externalID)\" in \(configuration.name)")
            }
        } catch let error as EngineError {
            throw error
        } catch let error as StoreError where error.code == .invalidInput {
            throw EngineError(.documentQuarantined, "document \"\(externalID)\" is under quarantine; release it before deleting it")
        } catch {
            throw EngineError(.storeFailed, "\(error)")
        }
        try append(.documentsDeleted(rowIDs: [entry.rowID]), on: connection)
    }
}
