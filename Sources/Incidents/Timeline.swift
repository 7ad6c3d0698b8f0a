import Crypto
import Foundation
import Hex

/// One entry of an incident's timeline. `payload` holds the fields of its kind's typed
/// `EventPayload` (read them with `decoded(_:)`); `payloadVersion` says which shape wrote
/// them (`EventPayloadVersion`). The hash covers the canonical JSON of all of it.
public struct IncidentEvent: Codable, Sendable, Equatable {
    public var incidentID: String
    public var sequence: Int
    public var kind: EventKind
    public var actor: String
    /// ISO 8601, UTC, as recorded.
    public var at: String
    public var payload: PayloadFields
    public var payloadVersion: Int
    public var previousHash: String
    public var hash: String

    public init(incidentID: String, sequence: Int, kind: EventKind, actor: String, at: String,
                payload: PayloadFields, payloadVersion: Int, previousHash: String, hash: String) {
        self.incidentID = incidentID
        self.sequence = sequence
        self.kind = kind
        self.actor = actor
        self.at = at
        self.payload = payload
        self.payloadVersion = payloadVersion
        self.previousHash = previousHash
        self.hash = hash
    }

    /// The payload as its kind's typed value (a version-1 payload upgraded on the way).
    public func decoded<P: EventPayload>(_ type: P.Type) throws(IncidentError) -> P {
        try EventPayloadUpgrade.decode(type, kind: kind, version: payloadVersion, fields: payload)
    }

    /// The trace of the request or job that appended it, if one was current.
    public var traceID: String? { payload[TraceContext.traceIDKey]?.string }

    // The keys are the property names, as round 1 wrote them; `payloadVersion` is left out at
    // version 1, so a version-1 event's canonical bytes (and hash) are what they always were.
    enum CodingKeys: String, CodingKey {
        case incidentID, sequence, kind, actor, at, payload, payloadVersion, previousHash, hash
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(incidentID: try c.decode(String.self, forKey: .incidentID), sequence: try c.decode(Int.self, forKey: .sequence),
                  kind: try c.decode(EventKind.self, forKey: .kind), actor: try c.decode(String.self, forKey: .actor),
                  at: try c.decode(String.self, forKey: .at), payload: try c.decode(PayloadFields.self, forKey: .payload),
                  payloadVersion: try c.decodeIfPresent(Int.self, forKey: .payloadVersion) ?? EventPayloadVersion.legacyText,
                  previousHash: try c.decode(String.self, forKey: .previousHash), hash: try c.decode(String.self, forKey: .hash))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(incidentID, forKey: .incidentID)
        try c.encode(sequence, forKey: .sequence)
        try c.encode(kind, forKey: .kind)
        try c.encode(actor, forKey: .actor)
        try c.encode(at, forKey: .at)
        try c.encode(payload, forKey: .payload)
        if payloadVersion != EventPayloadVersion.legacyText { try c.encode(payloadVersion, forKey: .payloadVersion) }
        try c.encode(previousHash, forKey: .previousHash)
        try c.encode(hash, forKey: .hash)
    }

    /// Canonical JSON (sorted keys, no whitespace) of everything but `hash`.
    public func canonicalJSON() -> Data {
        var unsigned = self
        unsigned.hash = ""
        return (try? Timeline.canonicalEncoder.encode(unsigned)) ?? Data()
    }

    public func computedHash() -> String {
        SHA256.hash(data: canonicalJSON()).hexEncoded
    }
}

/// An append-only, hash-chained list of events.
public struct Timeline: Sendable, Equatable {
    /// What event 1 records as its predecessor's hash.
    public static let genesisHash = String(repeating: "0", count: 64)
    public static let payloadBytesMax = 64 << 10

    public let incidentID: String
    public private(set) var events: [IncidentEvent] = []
    /// For a tail (`continuing`): the sequence and hash of the last stored event, which
    /// `events` continues; nil for a whole timeline.
    private let base: (sequence: Int, hash: String)?

    public init(incidentID: String) {
        self.incidentID = incidentID
        self.base = nil
    }

    /// A tail for appending only: it holds none of the stored events, just the last one's
    /// sequence and hash, so an append costs the same on an incident of 10 events or 10,000.
    /// Its `events` are the new ones; `verify` is for whole timelines.
    public init(incidentID: String, continuing last: (sequence: Int, hash: String)?) {
        self.incidentID = incidentID
        self.base = last
    }

    public static func == (a: Timeline, b: Timeline) -> Bool {
        a.incidentID == b.incidentID && a.events == b.events && a.base?.sequence == b.base?.sequence && a.base?.hash == b.base?.hash
    }

    /// Rebuilds a timeline from stored events, as they are; `verify` says whether to trust it.
    public init(incidentID: String, events: [IncidentEvent]) {
        self.incidentID = incidentID
        self.events = events
        self.base = nil
    }

    public var head: String { events.last?.hash ?? base?.hash ?? Self.genesisHash }

    /// Appends an event of the payload's kind (payload version `EventPayloadVersion.current`).
    @discardableResult
    public mutating func append(_ payload: some EventPayload, actor: String, at date: Date = Date()) throws(IncidentError) -> IncidentEvent {
        let fields: PayloadFields
        do { fields = try PayloadFields(encoding: payload) } catch {
            throw IncidentError(.invalidInput, "a \(payload.kind) payload does not encode (a number that is not finite?): \(error)")
        }
        return try append(kind: payload.kind, actor: actor, at: date, fields: fields, version: EventPayloadVersion.current)
    }

    /// Appends an event with a version-1 payload (flat text), as round 1 wrote every event:
    /// for the tests that keep such events verifying, and for kinds this build does not name.
    @discardableResult
    public mutating func append(kind: EventKind, actor: String, at date: Date = Date(),
                                text payload: [String: String] = [:]) throws(IncidentError) -> IncidentEvent {
        try append(kind: kind, actor: actor, at: date, fields: PayloadFields(text: payload), version: EventPayloadVersion.legacyText)
    }

    private mutating func append(kind: EventKind, actor: String, at date: Date, fields: PayloadFields,
                                 version: Int) throws(IncidentError) -> IncidentEvent {
        guard !kind.slug.isEmpty, !actor.isEmpty else { throw IncidentError(.invalidInput, "an event needs a kind and an actor") }
        let fields = TraceContext.current?.stamped(fields) ?? fields
        guard fields.values.allSatisfy(\.isFinite) else { throw IncidentError(.invalidInput, "a \(kind) payload holds a number that is not finite") }
        let bytes = fields.encodedBytes
        guard bytes <= Self.payloadBytesMax else {
            throw IncidentError(.invalidInput, "event payload has \(bytes) bytes; the limit is \(Self.payloadBytesMax)")
        }
        var event = IncidentEvent(incidentID: incidentID, sequence: (base?.sequence ?? 0) + events.count + 1, kind: kind, actor: actor,
                                  at: Self.format(date), payload: fields, payloadVersion: version, previousHash: head, hash: "")
        event.hash = event.computedHash()
        events.append(event)
        return event
    }

    public struct Verification: Sendable, Equatable {
        public let intact: Bool
        /// The first event that does not verify, and why.
        public let firstBadSequence: Int?
        public let problem: String?
    }

    /// Recomputes the chain. Any edited, deleted, inserted or reordered event is found.
    public func verify() -> Verification {
        precondition(base == nil, "a tail timeline holds only new events; verify the whole one")
        var previous = Self.genesisHash
        for (index, event) in events.enumerated() {
            let problem: String?
            if event.incidentID != incidentID { problem = "belongs to incident \(event.incidentID)" }
            else if event.sequence != index + 1 { problem = "sequence \(event.sequence) where \(index + 1) was expected" }
            else if event.previousHash != previous { problem = "its previous-hash does not match event \(index)'s hash" }
            else if event.hash != event.computedHash() { problem = "its content does not match its hash (edited)" }
            else { problem = nil }
            if let problem { return Verification(intact: false, firstBadSequence: index + 1, problem: problem) }
            previous = event.hash
        }
        return Verification(intact: true, firstBadSequence: nil, problem: nil)
    }

    /// Sorted keys, no whitespace, slashes as they are: the bytes an event's hash covers.
    static var canonicalEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}
