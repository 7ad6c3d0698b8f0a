import Engine
import Foundation
import Store

extension API {
    /// The evidence stored on each active quarantine entry of a collection (captured before the
    /// quarantine: the text's and embedding's SHA-256 and any score, such as a HubScan z), by
    /// document row id. The incident event carries the digest over it, so the chain pins it.
    func quarantineEvidence(of collection: LiveCollection, caller: Caller) async throws -> [Int64: QuarantineEvidence] {
        try caller.require(.inspect)
        let id = collection.configuration.id
        return try await pool.withConnection { try QuarantineRecords.evidence(collectionID: id, on: $0) }
    }
}
