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
    static let listSeparator = "\n"

    @discardableResult
    public mutating func record(_ decision: Decision) throws(IncidentError) -> IncidentEvent {
        try Self.require(["what": decision.what, "why": decision.why])
        return try append(kind: .decision, actor: decision.who, payload: [
            "what": decision.what, "why": decision.why,
            "options_not_taken": decision.optionsNotTaken.joined(separator: Self.listSeparator),
        ])
    }

    @discardableResult
    public mutating func record(_ evidence: Evidence, actor: String) throws(IncidentError) -> IncidentEvent {
        guard evidence.sha256.range(of: "^[0-9a-f]{64}$", options: .regularExpression) != nil else {
            throw IncidentError(.invalidInput, "evidence sha256 must be 64 lower-case hex digits")
        }
        try Self.require(["kind": evidence.kind, "location": evidence.location])
        return try append(kind: .evidence, actor: actor, payload: [
            "kind": evidence.kind, "sha256": evidence.sha256, "location": evidence.location, "summary": evidence.summary,
        ])
    }

    /// Adds an action item; its number is one more than the last.
    @discardableResult
    public mutating func addAction(title: String, owner: String, due: String, verification: String,
                                   actor: String) throws(IncidentError) -> ActionItem {
        try Self.require(["title": title, "owner": owner, "verification": verification])
        guard due.range(of: "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", options: .regularExpression) != nil else {
            throw IncidentError(.invalidInput, "due must be a date, YYYY-MM-DD")
        }
        let number = actions.count + 1
        try append(kind: .actionAdded, actor: actor, payload: [
            "number": String(number), "title": title, "owner": owner, "due": due, "verification": verification,
        ])
        return actions[number - 1]
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
        try append(kind: .actionClosed, actor: actor,
                   payload: ["number": String(number), "verification_evidence": verificationEvidence])
    }

    @discardableResult
    public mutating func record(_ postmortem: Postmortem, actor: String) throws(IncidentError) -> IncidentEvent {
        try Self.require(["summary": postmortem.summary, "root_cause": postmortem.rootCause,
                          "failing_layer": postmortem.failingLayer, "regression_case": postmortem.regressionCase])
        return try append(kind: .postmortem, actor: actor, payload: [
            "summary": postmortem.summary, "failing_layer": postmortem.failingLayer, "root_cause": postmortem.rootCause,
            "evaluation_gaps": postmortem.evaluationGaps, "regression_case": postmortem.regressionCase,
        ])
    }

    // MARK: Views folded from the events

    public var decisions: [Decision] {
        events.filter { $0.kind == .decision }.map {
            Decision(who: $0.actor, what: $0.payload["what"] ?? "", why: $0.payload["why"] ?? "",
                     optionsNotTaken: ($0.payload["options_not_taken"] ?? "").split(separator: "\n").map(String.init))
        }
    }

    public var evidence: [Evidence] {
        events.filter { $0.kind == .evidence }.map {
            Evidence(kind: $0.payload["kind"] ?? "", sha256: $0.payload["sha256"] ?? "",
                     location: $0.payload["location"] ?? "", summary: $0.payload["summary"] ?? "")
        }
    }

    public var actions: [ActionItem] {
        var items: [ActionItem] = []
        for event in events {
            if event.kind == .actionAdded {
                items.append(ActionItem(number: items.count + 1, title: event.payload["title"] ?? "",
                                        owner: event.payload["owner"] ?? "", due: event.payload["due"] ?? "",
                                        verification: event.payload["verification"] ?? "", verificationEvidence: nil))
            } else if event.kind == .actionClosed, let number = Int(event.payload["number"] ?? ""),
                      number >= 1, number <= items.count {
                items[number - 1].verificationEvidence = event.payload["verification_evidence"]
            }
        }
        return items
    }

    /// The latest postmortem recorded, if any.
    public var postmortem: Postmortem? {
        events.last { $0.kind == .postmortem }.map {
            Postmortem(summary: $0.payload["summary"] ?? "", failingLayer: $0.payload["failing_layer"] ?? "",
                       rootCause: $0.payload["root_cause"] ?? "", evaluationGaps: $0.payload["evaluation_gaps"] ?? "",
                       regressionCase: $0.payload["regression_case"] ?? "")
        }
    }

    private static func require(_ fields: [String: String]) throws(IncidentError) {
        if let empty = fields.sorted(by: { $0.key < $1.key }).first(where: { $0.value.trimmingCharacters(in: .whitespaces).isEmpty }) {
            throw IncidentError(.invalidInput, "\(empty.key) is required")
        }
    }
}
