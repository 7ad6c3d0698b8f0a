import Foundation

/// Decisions, evidence, action items and the postmortem are timeline events too: the
/// hash-chained timeline is the one record, and these views are folded from it.
public struct Decision: Sendable, Equatable {
    public var who: String
    public var what: String
    public var why: String
    public var optionsNotTaken: [String]

    public init(who: String, what: String, why: String, optionsNotTaken: [String] = []) {
        self.who = who
        self.what = what
        self.why = why
        self.optionsNotTaken = optionsNotTaken
    }
}

public struct Evidence: Sendable, Equatable {
    /// e.g. "poisoned_document", "scan_report", "query_log".
    public var kind: String
    /// SHA-256 (hex) of the captured bytes.
    public var sha256: String
    /// Where the bytes are kept (a path, a table row, an object key).
    public var location: String
    public var summary: String

    public init(kind: String, sha256: String, location: String, summary: String) {
        self.kind = kind
        self.sha256 = sha256
        self.location = location
        self.summary = summary
    }
}

public struct ActionItem: Sendable, Equatable {
    public var number: Int
    public var title: String
    public var owner: String
    /// ISO 8601 date.
    public var due: String
    /// How closing it will be verified.
    public var verification: String
    /// The evidence that it was verified; required to close.
    public var verificationEvidence: String?
    public var isClosed: Bool { verificationEvidence != nil }
}

public struct Postmortem: Sendable, Equatable {
    public var summary: String
    public var failingLayer: String
    public var rootCause: String
    public var evaluationGaps: String
    /// The regression case added so this cannot recur unnoticed.
    public var regressionCase: String

    public init(summary: String, failingLayer: String, rootCause: String, evaluationGaps: String, regressionCase: String) {
        self.summary = summary
        self.failingLayer = failingLayer
        self.rootCause = rootCause
        self.evaluationGaps = evaluationGaps
        self.regressionCase = regressionCase
    }
}

extension Timeline {
    @discardableResult
    public mutating func record(_ decision: Decision) throws(IncidentError) -> IncidentEvent {
        try Self.require(["what": decision.what, "why": decision.why])
        return try append(DecisionRecorded(what: decision.what, why: decision.why, optionsNotTaken: decision.optionsNotTaken),
                          actor: decision.who)
    }

    @discardableResult
    public mutating func record(_ evidence: Evidence, actor: String) throws(IncidentError) -> IncidentEvent {
        guard evidence.sha256.range(of: "^[0-9a-f]{64}$", options: .regularExpression) != nil else {
            throw IncidentError(.invalidInput, "evidence sha256 must be 64 lower-case hex digits")
        }
        try Self.require(["kind": evidence.kind, "location": evidence.location])
        return try append(EvidenceRecorded(evidenceKind: evidence.kind, sha256: evidence.sha256, location: evidence.location,
                                           summary: evidence.summary), actor: actor)
    }

    /// Adds an action item; its number is one more than the last.
    @discardableResult
    public mutating func addAction(title: String, owner: String, due: String, verification: String,
                                   actor: String) throws(IncidentError) -> ActionItem {
        try Self.require(["title": title, "owner": owner, "verification": verification])
        guard due.range(of: "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", options: .regularExpression) != nil else {
            throw IncidentError(.invalidInput, "due must be a date, YYYY-MM-DD")
        }
        let number = (actions.map(\.number).max() ?? 0) + 1
        try append(ActionAdded(number: number, title: title, owner: owner, due: due, verification: verification), actor: actor)
        return actions.last!
    }

    /// Closes an action item; refused without the evidence that it was verified.
    public mutating func closeAction(_ number: Int, verificationEvidence: String, actor: String) throws(IncidentError) {
        guard let action = actions.first(where: { $0.number == number }) else {
            throw IncidentError(.invalidInput, "no action item \(number)")
        }
        guard !action.isClosed else { throw IncidentError(.invalidInput, "action item \(number) is already closed") }
        guard !verificationEvidence.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw IncidentError(.actionNotVerified, "action item \(number) needs verification evidence (\(action.verification)) before it may close")
        }
        try append(ActionClosed(number: number, verificationEvidence: verificationEvidence), actor: actor)
    }

    @discardableResult
    public mutating func record(_ postmortem: Postmortem, actor: String) throws(IncidentError) -> IncidentEvent {
        try Self.require(["summary": postmortem.summary, "root_cause": postmortem.rootCause,
                          "failing_layer": postmortem.failingLayer, "regression_case": postmortem.regressionCase])
        return try append(PostmortemRecorded(summary: postmortem.summary, failingLayer: postmortem.failingLayer,
                                             rootCause: postmortem.rootCause, evaluationGaps: postmortem.evaluationGaps,
                                             regressionCase: postmortem.regressionCase), actor: actor)
    }

    // MARK: Views folded from the events (an event whose payload does not decode is left out)

    public var decisions: [Decision] {
        events.filter { $0.kind == .decision }.compactMap { event in
            (try? event.decoded(DecisionRecorded.self)).map {
                Decision(who: event.actor, what: $0.what, why: $0.why, optionsNotTaken: $0.optionsNotTaken)
            }
        }
    }

    public var evidence: [Evidence] {
        events.filter { $0.kind == .evidence }.compactMap { try? $0.decoded(EvidenceRecorded.self) }.map {
            Evidence(kind: $0.evidenceKind, sha256: $0.sha256, location: $0.location, summary: $0.summary)
        }
    }

    public var actions: [ActionItem] {
        var items: [ActionItem] = []
        for event in events {
            // By the number each event records, so an item that does not read cannot shift the others.
            if event.kind == .actionAdded, let added = try? event.decoded(ActionAdded.self) {
                items.append(ActionItem(number: added.number, title: added.title, owner: added.owner, due: added.due,
                                        verification: added.verification, verificationEvidence: nil))
            } else if event.kind == .actionClosed, let closed = try? event.decoded(ActionClosed.self),
                      let index = items.firstIndex(where: { $0.number == closed.number }) {
                items[index].verificationEvidence = closed.verificationEvidence
            }
        }
        return items
    }

    /// The latest postmortem recorded, if any.
    public var postmortem: Postmortem? {
        events.last { $0.kind == .postmortem }.flatMap { try? $0.decoded(PostmortemRecorded.self) }.map {
            Postmortem(summary: $0.summary, failingLayer: $0.failingLayer, rootCause: $0.rootCause,
                       evaluationGaps: $0.evaluationGaps, regressionCase: $0.regressionCase)
        }
    }

    private static func require(_ fields: [String: String]) throws(IncidentError) {
        if let empty = fields.sorted(by: { $0.key < $1.key }).first(where: { $0.value.trimmingCharacters(in: .whitespaces).isEmpty }) {
            throw IncidentError(.invalidInput, "\(empty.key) is required")
        }
    }
}
