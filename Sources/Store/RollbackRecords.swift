import Incidents

/// The stored half of a rollback, in one transaction: documents the restored snapshot never
/// held are retired (kept as evidence, no longer live), and the rollback is an event on its
/// incident. Either both are stored or neither is, so a crash at any point leaves the
/// collection's live documents either before or after the rollback.
public enum RollbackRecords {
    public static func commit(collectionID: Int64, retiring rowIDs: [Int64], incidentID: String, actor: String,
                              event: RolledBack, on connection: Connection) throws -> Int {
        try connection.transaction { c in
            let retired = try DocumentRecords.retire(rowIDs: rowIDs, collectionID: collectionID, on: c)
            guard retired == rowIDs.count else {
                throw StoreError(.invalidInput, "\(rowIDs.count - retired) of the documents to retire are no longer live; retry the rollback")
            }
            var event = event
            event.documentsRetired = retired
            try IncidentRecords.appendEvent(event, to: incidentID, actor: actor, on: c)
            return retired
        }
    }
}
