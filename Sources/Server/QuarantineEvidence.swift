import Engine
import Foundation
import Store

extension API {
    /// The evidence stored on each active quarantine entry of a collection (captured before the
    /// quarantine: the text's and embedding's SHA-256 and any score, such as a HubScan z), by
    /// document row id. The incident event carries the digest over it, so the chain pins it.
    ///
    /// Read-only; the query belongs in `Store.QuarantineRecords` beside `entries` and is here
    /// only because the console's change was kept out of the Store module.
    func quarantineEvidence(of collection: LiveCollection, caller: Caller) async throws -> [Int64: [String: Any]] {
        try caller.require(.inspect)
        let id = collection.configuration.id
        let rows = try await pool.withConnection { connection in
            try connection.query("""
                SELECT document_id, scores::text AS evidence FROM quarantine_entries
                WHERE collection_id = $1 AND released_at IS NULL
                """, [.integer(id)]).map { (try $0.integer("document_id"), try $0.string("evidence")) }
        }
        var evidence: [Int64: [String: Any]] = [:]
        for (document, json) in rows {
            evidence[document] = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any] ?? [:]
        }
        return evidence
    }
}
