/// What one collection serves, as one value: its tenant partitions, its documents (by row id
/// and by external id), why each withheld document is withheld, and its flags. `LiveCollection`
/// keeps it behind its lock and changes it only inside `mutate`.
///
/// Invariants (`integrityProblem()` checks them; test builds run it after every change):
/// - every document has its tenant's partition, and the two id maps agree, one to one;
/// - a document is withheld by its partition (vector and keyword filters) exactly when it
///   is quarantined, and only documents are quarantined;
/// - the partitions hold exactly the documents, live (no more, no fewer);
/// - each partition is keyed by its own tenant.
struct ServingState {
    var partitions: [String: Partition] = [:]
    var documents: [Int64: DocumentEntry] = [:]
    /// (tenant, external id) → row id: ids are unique per tenant.
    var rowIDs: [DocumentKey: Int64] = [:]
    /// Quarantined row id → why it is withheld.
    var quarantined: [Int64: QuarantineHold] = [:]
    var flags = FlagSet()

    /// The first invariant that does not hold, in words; nil when all hold. Walks every
    /// document: O(documents).
    func integrityProblem() -> String? {
        for (tenant, partition) in partitions where partition.tenant != tenant {
            return "partition \(partition.tenant) is filed under tenant \(tenant)"
        }
        for (rowID, entry) in documents {
            guard let partition = partitions[entry.tenant] else { return "document \(rowID) has no partition" }
            let withheld = !partition.admits(rowID: rowID)
            if withheld != (quarantined[rowID] != nil) {
                return "document \(rowID): withheld \(withheld) but quarantined \(quarantined[rowID] != nil)"
            }
            if rowIDs[entry.key] != rowID { return "document \(rowID): external id map disagrees" }
        }
        if rowIDs.count != documents.count {
            return "\(rowIDs.count) external ids map to \(documents.count) documents"
        }
        if let stray = quarantined.keys.first(where: { documents[$0] == nil }) {
            return "row \(stray) is quarantined but is not a document"
        }
        let live = partitions.values.reduce(0) { $0 + $1.liveCount }
        return live == documents.count ? nil : "partitions hold \(live) live documents, the map \(documents.count)"
    }

    /// The row id of `externalID` as `scope` sees it. A tenant-scoped caller finds only its own
    /// tenant's; an unscoped one, the only tenant that uses the id (an id used by several
    /// tenants must be named with its tenant: `invalidInput` lists them).
    func rowID(externalID: String, scope: String?, collection: String) throws(EngineError) -> Int64? {
        if let scope { return rowIDs[DocumentKey(tenant: scope, externalID: externalID)] }
        let found = partitions.keys.sorted().compactMap { tenant in
            rowIDs[DocumentKey(tenant: tenant, externalID: externalID)].map { (tenant, $0) }
        }
        guard found.count <= 1 else {
            throw EngineError(.invalidInput, "document \"\(externalID.prefix(128))\" exists in tenants \(found.map(\.0).joined(separator: ", ")) of \(collection): name the tenant")
        }
        return found.first?.1
    }
}
