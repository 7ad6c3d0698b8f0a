import FirebreakAPI
import Foundation
import HTTPTypes
import Incidents

extension API {
    static let contentDispositionHeader = HTTPField.Name("Content-Disposition")!

    /// The incident's signed export bundle (`firebreak incident export --format json` makes the
    /// same), for a caller who may inspect it (a tenant-scoped caller: its tenant's incidents
    /// only, else 404). 503 `signing_key_unavailable` when the server has no key; 409
    /// `signature_invalid` when the timeline does not verify (nothing broken is signed).
    func exportBundle(_ id: String, caller: Caller) async throws -> ExportBundle {
        try caller.require(.inspect)
        let (incident, timeline) = try await incident(id, visibleTo: caller)
        guard let signingKey else {
            throw Problem(.serviceUnavailable, .signingKeyUnavailable,
                          "this server has no incident signing key (firebreak serve --signing-key), so it cannot sign an export")
        }
        let check = timeline.verify()
        guard check.intact else {
            throw Problem(.conflict, .signatureInvalid,
                          "the timeline of \(incident.id) does not verify at event \(check.firstBadSequence ?? 0); refusing to sign it")
        }
        return try ExportBundle(incident: incident, timeline: timeline, key: signingKey.key)
    }

    /// `attachment; filename="INC-….json"`: a browser following a link downloads the answer.
    /// The name is an incident id (`INC-` and digits, checked before any lookup), so it needs no escaping.
    static func attachment(_ filename: String) -> String {
        precondition(filename.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-._".contains($0)) }, "a plain file name")
        return "attachment; filename=\"\(filename)\""
    }
}
