import Foundation

/// An incident: what happened, how bad, where, and where it stands. Every change to it is
/// also an event on its `Timeline`, which is the record; this value is its current summary.
public struct Incident: Codable, Sendable, Equatable {
    public static let titleCharactersMax = 300

    public let id: String
    public var title: String
    public var severity: Severity
    public var taxonomyClass: TaxonomyClass
    public private(set) var status: IncidentStatus
    public var reporter: String
    public var commander: String?
    public var tenant: String?
    public var collection: String?
    /// W3C `traceparent` of the request or job that detected it.
    public var traceparent: String?
    /// Root hash of the snapshot that was serving when it was declared.
    public var snapshotRootHash: String?
    public private(set) var contained = false
    /// ISO 8601, UTC.
    public var detectedAt: String

    /// An incident as stored (Store restores it from its row; the timeline is the record).
    public init(restoring id: String, title: String, severity: Severity, taxonomyClass: TaxonomyClass,
                status: IncidentStatus, reporter: String, commander: String?, tenant: String?, collection: String?,
                traceparent: String?, snapshotRootHash: String?, contained: Bool, detectedAt: String) {
        self.id = id
        self.title = title
        self.severity = severity
        self.taxonomyClass = taxonomyClass
        self.status = status
        self.reporter = reporter
        self.commander = commander
        self.tenant = tenant
        self.collection = collection
        self.traceparent = traceparent
        self.snapshotRootHash = snapshotRootHash
        self.contained = contained
        self.detectedAt = detectedAt
    }

    /// Declares an incident and records the `declared` event as timeline entry 1.
    public static func declare(id: String, title: String, severity: Severity, taxonomyClass: TaxonomyClass,
                               reporter: String, detectedAt: Date, at now: Date = Date(), tenant: String? = nil,
                               collection: String? = nil, traceparent: String? = nil,
                               snapshotRootHash: String? = nil) throws(IncidentError) -> (Incident, Timeline) {
        guard id.range(of: "^INC-[0-9]{6,}$", options: .regularExpression) != nil else {
            throw IncidentError(.invalidInput, "incident id \"\(id)\" must look like INC-000001")
        }
        guard !title.isEmpty, title.count <= titleCharactersMax else {
            throw IncidentError(.invalidInput, "title must be 1...\(titleCharactersMax) characters")
        }
        guard !reporter.isEmpty else { throw IncidentError(.invalidInput, "an incident needs a reporter") }
        if let traceparent, !isValidTraceparent(traceparent) {
            throw IncidentError(.invalidInput, "traceparent \"\(traceparent)\" is not W3C version-00 format")
        }
        let incident = Incident(restoring: id, title: title, severity: severity, taxonomyClass: taxonomyClass,
                                status: .declared, reporter: reporter, commander: nil, tenant: tenant,
                                collection: collection, traceparent: traceparent, snapshotRootHash: snapshotRootHash,
                                contained: false, detectedAt: Timeline.format(detectedAt))
        var timeline = Timeline(incidentID: id)
        try timeline.append(Declared(title: title, severity: severity, taxonomyClass: taxonomyClass, detectedAt: incident.detectedAt,
                                     tenant: tenant, collection: collection, traceparent: traceparent,
                                     snapshotRootHash: snapshotRootHash), actor: reporter, at: now)
        return (incident, timeline)
    }

    /// Moves the status along the lifecycle and records the move. A forbidden move is a
    /// typed error and changes nothing.
    public mutating func transition(to next: IncidentStatus, reason: String, actor: String, at now: Date = Date(),
                                    timeline: inout Timeline) throws(IncidentError) {
        precondition(timeline.incidentID == id, "the timeline belongs to this incident")
        guard status.allowedNext.contains(next) else {
            let allowed = status.allowedNext.map(\.rawValue).sorted().joined(separator: ", ")
            throw IncidentError(.transitionNotAllowed, "\(id) is \(status.rawValue); it may move to \(allowed.isEmpty ? "nothing (closed)" : allowed), not \(next.rawValue)")
        }
        guard !reason.isEmpty else { throw IncidentError(.invalidInput, "a transition needs a reason") }
        try timeline.append(Transitioned(from: status, to: next, reason: reason), actor: actor, at: now)
        status = next
        if next == .contained { contained = true }
    }

    /// Names the incident commander (or hands over to a new one) and records it.
    public mutating func assignCommander(_ name: String, actor: String, at now: Date = Date(),
                                         timeline: inout Timeline) throws(IncidentError) {
        precondition(timeline.incidentID == id, "the timeline belongs to this incident")
        guard !name.isEmpty else { throw IncidentError(.invalidInput, "a commander needs a name") }
        guard status.isOpen else { throw IncidentError(.transitionNotAllowed, "\(id) is closed") }
        try timeline.append(CommanderAssigned(commander: name, previous: commander), actor: actor, at: now)
        commander = name
    }

    static func isValidTraceparent(_ value: String) -> Bool {
        value.range(of: "^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$", options: .regularExpression) != nil
            && !value.contains("-00000000000000000000000000000000-") && !value.contains("-0000000000000000-")
    }
}
