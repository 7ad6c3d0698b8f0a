import Crypto
import Foundation
import Hex

/// One entry of an incident's timeline. `payload` is flat text so that its canonical form
/// is unambiguous; structured evidence is stored elsewhere and referenced by its SHA-256.
public struct IncidentEvent: Codable, Sendable, Equatable {
    public var incidentID: String
    public var sequence: Int
    public var kind: EventKind
    public var actor: String
    /// ISO 8601, UTC, as recorded.
    public var at: String
    public var payload: [String: String]
    public var previousHash: String
    public var hash: String

    public init(incidentID: String, sequence: Int, kind: EventKind, actor: String, at: String,
                payload: [String: String], previousHash: String, hash: String) {
        self.incidentID = incidentID
        self.sequence = sequence
        self.kind = kind
        self.actor = actor
        self.at = at
        self.payload = payload
        self.previousHash = previousHash
        self.hash = hash
    }

    /// Canonical JSON (sorted keys, no whitespace) of everything but `hash`.
    public func canonicalJSON() -> Data {
        var unsigned = self
        unsigned.hash = ""
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(unsigned)) ?? Data()
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

    @discardableResult
    public mutating func append(kind: EventKind, actor: String, at date: Date = Date(),
                                payload: [String: String] = [:]) throws(IncidentError) -> IncidentEvent {
        guard !kind.slug.isEmpty, !actor.isEmpty else { throw IncidentError(.invalidInput, "an event needs a kind and an actor") }
        let payload = TraceContext.current?.stamped(payload) ?? payload
        let bytes = payload.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count }
        guard bytes <= Self.payloadBytesMax else {
            throw IncidentError(.invalidInput, "event payload has \(bytes) bytes; the limit is \(Self.payloadBytesMax)")
        }
        var event = IncidentEvent(incidentID: incidentID, sequence: (base?.sequence ?? 0) + events.count + 1, kind: kind, actor: actor,
                                  at: Self.format(date), payload: payload, previousHash: head, hash: "")
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

    static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}
