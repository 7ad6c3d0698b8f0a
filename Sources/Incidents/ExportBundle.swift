import Crypto
import Foundation
import Hex

/// An incident, its timeline and the chain head, signed with the instance's Ed25519 key, so
/// that an auditor holding only this bundle can check that the history is intact and that
/// this instance vouched for it.
public struct ExportBundle: Codable, Sendable, Equatable {
    public static let formatVersion = 1

    public var formatVersion = ExportBundle.formatVersion
    public var incident: Incident
    public var events: [IncidentEvent]
    public var chainHead: String
    /// Raw Ed25519 public key, hex.
    public var publicKey: String
    /// Ed25519 signature over `signedMessage`, hex.
    public var signature: String

    /// The bundle's own fields in snake_case; `incident` and `events` keep their types' keys
    /// (the events' are the ones their hashes cover), so a decoded bundle verifies.
    enum CodingKeys: String, CodingKey {
        case incident, events, signature
        case formatVersion = "format_version", chainHead = "chain_head", publicKey = "public_key"
    }

    /// The bundle's one JSON form, written by `firebreak incident export` and served by
    /// `GET /v1/incidents/{id}/export`: sorted keys, no key strategy (one would rename the
    /// events' fields and payload keys, and the chain would no longer recompute).
    public func encodedJSON(pretty: Bool = true) throws(IncidentError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        do {
            return try encoder.encode(self)
        } catch {
            throw IncidentError(.invalidInput, "the export bundle does not encode: \(error)")
        }
    }

    /// What is signed: the format, the incident id and the chain head.
    public var signedMessage: Data { Data("firebreak-incident-export-v\(formatVersion)\n\(incident.id)\n\(chainHead)".utf8) }

    public init(incident: Incident, timeline: Timeline, key: Curve25519.Signing.PrivateKey) throws(IncidentError) {
        guard timeline.incidentID == incident.id, timeline.verify().intact else {
            throw IncidentError(.invalidInput, "refusing to sign a timeline that does not verify")
        }
        self.incident = incident
        events = timeline.events
        chainHead = timeline.head
        publicKey = key.publicKey.rawRepresentation.hexEncoded
        signature = ""
        do {
            signature = try key.signature(for: signedMessage).hexEncoded
        } catch {
            throw IncidentError(.signatureInvalid, "signing failed: \(error)")
        }
    }

    /// Offline check: the chain recomputes to `chainHead`, and the signature over it verifies
    /// under `publicKey` (compare that key with the one the instance publishes).
    public func verify() throws(IncidentError) {
        let check = Timeline(incidentID: incident.id, events: events).verify()
        guard check.intact else {
            throw IncidentError(.signatureInvalid, "event \(check.firstBadSequence ?? 0): \(check.problem ?? "")")
        }
        guard (events.last?.hash ?? Timeline.genesisHash) == chainHead else {
            throw IncidentError(.signatureInvalid, "the chain head does not match the last event")
        }
        guard let keyBytes = Self.bytes(hex: publicKey), let signatureBytes = Self.bytes(hex: signature),
              let key = try? Curve25519.Signing.PublicKey(rawRepresentation: keyBytes),
              key.isValidSignature(signatureBytes, for: signedMessage) else {
            throw IncidentError(.signatureInvalid, "the signature does not verify under the bundle's public key")
        }
    }

    static func bytes(hex: String) -> Data? {
        guard hex.count % 2 == 0 else { return nil }
        var data = Data()
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            data.append(byte)
            index = next
        }
        return data
    }
}
