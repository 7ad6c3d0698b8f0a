import Foundation
import HubScan
import Store
import VectorMath

/// A scan of a collection (or one tenant partition) as served: the report, the documents
/// its flagged rows are, and the stored report's id.
public struct CollectionScan: Sendable {
    public let id: Int64
    public let tenant: String?
    /// The report with its flagged rows named by external id and tenant.
    public let labelled: LabelledScanReport
    /// The report as stored (the bytes the incident's evidence digest covers).
    public let reportJSON: String

    public var report: ScanReport { labelled.report }
    /// External ids, one per `report.flagged` entry, in the same order.
    public var flaggedIDs: [String] { labelled.documentIDs }
    public var flaggedTenants: [String] { labelled.documentTenants }
}

extension LiveCollection {
    /// The served documents of `tenant` (all tenants when nil) and their vectors as the graph
    /// holds them (unit length for cosine), quarantined documents left out.
    func servedVectors(tenant: String?) -> (entries: [DocumentEntry], matrix: Matrix) {
        state.reading {
            let targets = tenant.map { partitions[$0].map { [$0] } ?? [] } ?? partitions.keys.sorted().compactMap { partitions[$0] }
            let served = Dictionary(grouping: documents.values.filter { quarantined[$0.rowID] == nil }, by: \.tenant)
            var entries: [DocumentEntry] = []
            var values: [Float] = []
            for partition in targets {
                for entry in (served[partition.tenant] ?? []).sorted(by: { $0.rowID < $1.rowID }) {
                    guard let vector = partition.graph.vector(forLabel: UInt64(entry.rowID)) else { continue }
                    entries.append(entry)
                    values += vector
                }
            }
            let matrix = (try? Matrix(rows: entries.count, dimension: configuration.dimension, storage: values))
                ?? Matrix(zeroRows: 0, dimension: configuration.dimension)
            return (entries, matrix)
        }
    }

    /// The reservoir of answered queries for `tenant` (every tenant's when nil): part of every
    /// scan's sample whenever the service has answered queries, and the whole sample for
    /// `queries`, which is refused until some have been answered.
    func realQueries(tenant: String?, options: HubScanner.Options) throws(EngineError) -> Matrix? {
        let queries = reservoir.queries(tenant: tenant, dimension: configuration.dimension)
        if options.sample == .queries && queries == nil {
            throw EngineError(.invalidInput, "sample \"queries\" uses the queries this service answered\(tenant.map { " for \($0)" } ?? ""); none yet")
        }
        return queries
    }

    /// Runs HubScan over the served documents (off every lock: the copy is taken first).
    /// `domains`, when given, labels each served document (by row id) for the domain-scoped
    /// detector; documents without a label form the domain `unlabelledDomain`.
    func scan(tenant: String?, options: HubScanner.Options, domains: [Int64: String]? = nil)
        throws(EngineError) -> (ScanReport, [DocumentEntry], IngestScreen) {
        let (entries, matrix) = servedVectors(tenant: tenant)
        let queries = try realQueries(tenant: tenant, options: options)
        let labels = domains.map { byRow in entries.map { byRow[$0.rowID] ?? Self.unlabelledDomain } }
        do {
            let domainLabels = try labels.map { labels throws(HubScanError) in try DomainLabels(labels, rows: entries.count) }
            let (report, screen) = try HubScanner.scanWithScreen(matrix, metric: configuration.metric, realQueries: queries,
                                                                 domains: domainLabels, options: options)
            return (report, entries, screen)
        } catch {
            throw EngineError(.invalidInput, "scan: \(error.message)")
        }
    }
}

extension LiveCollection {
    /// The domain of documents whose metadata lacks the scan's `domain_field`.
    public static let unlabelledDomain = "(none)"
}

extension LiveCollections {
    public static let scanDocumentsMin = 20

    /// Scans a collection or one tenant's partition and stores the report.
    /// `domainField`, when given, names a top-level metadata field: every distinct value is a
    /// domain, scanned on its own as well (a hub aimed at one domain stands out there).
    public func scan(_ collection: LiveCollection, tenant: String?, options: HubScanner.Options,
                     domainField: String? = nil) async throws(EngineError) -> CollectionScan {
        try await Spans.run("firebreak.scan", attributes: ["firebreak.collection": collection.configuration.name]) {
            () async throws(EngineError) -> CollectionScan in
            let domains = try await domainLabels(domainField, of: collection, tenant: tenant)
            let (report, entries, screen): (ScanReport, [DocumentEntry], IngestScreen)
            do {
                (report, entries, screen) = try await Task.detached {
                    try collection.scan(tenant: tenant, options: options, domains: domains)
                }.value
            } catch {
                throw LiveCollection.mapped(error)
            }
            let stored = try await store(report, entries: entries, of: collection, tenant: tenant)
            collection.screens.update(scope: tenant, screen: screen, threshold: options.threshold, scanID: stored.id)
            return stored
        }
    }

    /// Each live document's value of the metadata field `field` (nil without a field).
    private func domainLabels(_ field: String?, of collection: LiveCollection, tenant: String?) async throws(EngineError)
        -> [Int64: String]? {
        guard let field else { return nil }
        guard !field.isEmpty, field.utf8.count <= DocumentRecords.metadataFieldBytesMax,
              !field.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
            throw EngineError(.invalidInput,
                              "domain_field must be 1...\(DocumentRecords.metadataFieldBytesMax) bytes without control characters")
        }
        let collectionID = collection.configuration.id
        do {
            return try await pool.withConnection {
                try DocumentRecords.metadataField(field, collectionID: collectionID, tenant: tenant, on: $0)
            }
        } catch {
            throw LiveCollection.mapped(error)
        }
    }

    /// Stores a report with the external ids and tenants of its flagged rows (and, for a scan
    /// of a snapshot rather than of the served index, the snapshot's id).
    func store(_ report: ScanReport, entries: [DocumentEntry], of collection: LiveCollection, tenant: String?,
               snapshotID: String? = nil) async throws(EngineError) -> CollectionScan {
        let flagged = report.flagged.map { entries[$0.row] }
        let labelled = LabelledScanReport(report: report, documentIDs: flagged.map(\.externalID),
                                          documentTenants: flagged.map(\.tenant), snapshotID: snapshotID)
        let json = try Self.encode(labelled)
        let id: Int64
        do {
            id = try await pool.withConnection {
                try ScanReportRecords.insert(collectionID: collection.configuration.id, tenant: tenant, reportJSON: json,
                                             maxZ: report.distribution.maxZ.isFinite ? report.distribution.maxZ : 1e300, on: $0)
            }
        } catch {
            throw LiveCollection.mapped(error)
        }
        return CollectionScan(id: id, tenant: tenant, labelled: labelled, reportJSON: json)
    }

    static func encode(_ report: LabelledScanReport) throws(EngineError) -> String {
        guard let data = try? JSONEncoder.sorted.encode(report) else {
            throw EngineError(.indexFailed, "the scan report could not be encoded (a score that is not finite?)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}

extension ScanReportRecords.Stored {
    /// The stored report, typed: a report that no longer decodes is an error, never an empty one
    /// (the resolution gate reads it, and must not open on a renamed field).
    public func labelled() throws(EngineError) -> LabelledScanReport {
        do {
            return try JSONDecoder().decode(LabelledScanReport.self, from: Data(reportJSON.utf8))
        } catch {
            let field: String
            switch error as? DecodingError {
            case .keyNotFound(let key, let context)?: field = "missing " + (context.codingPath + [key]).map(\.stringValue).joined(separator: ".")
            case .typeMismatch(_, let context)?, .valueNotFound(_, let context)?, .dataCorrupted(let context)?:
                field = context.codingPath.map(\.stringValue).joined(separator: ".") + ": " + context.debugDescription
            default: field = "\(error)"
            }
            throw EngineError(.scanReportUnreadable, "scan report \(id) was stored in a shape this build does not read (\(field)); run a new scan of the collection")
        }
    }
}
