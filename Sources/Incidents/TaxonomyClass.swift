/// The runbooks' incident taxonomy: sixteen classes, each with the layer that fails and the
/// indicator that detects it. An incident is declared with one of them; a class slug written
/// before the taxonomy was fixed still reads back (as `unlisted`), so old incidents load.
public enum TaxonomyClass: Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    case semantic, grounding, citation, retrieval, corpus, tool, routing, policy, uiTrust, governance, model, agentLoop
    case cost, security, privacy, humanReview
    /// A slug stored before the taxonomy was fixed: read back as written, never declared anew.
    case unlisted(String)

    public static let allCases: [TaxonomyClass] = [
        .semantic, .grounding, .citation, .retrieval, .corpus, .tool, .routing, .policy, .uiTrust, .governance, .model, .agentLoop,
        .cost, .security, .privacy, .humanReview,
    ]

    /// The slugs a new incident may be declared with.
    public static var slugs: [String] { allCases.map(\.rawValue) }

    /// A class of the taxonomy by its slug (`ui-trust`), or nil: what a declaration accepts.
    public init?(rawValue: String) {
        guard let known = Self.allCases.first(where: { $0.rawValue == rawValue }) else { return nil }
        self = known
    }

    /// A class as stored: one of the taxonomy's, or the slug an older declaration wrote.
    public init(stored slug: String) {
        self = TaxonomyClass(rawValue: slug) ?? .unlisted(slug)
    }

    public var rawValue: String {
        switch self {
        case .semantic: "semantic"
        case .grounding: "grounding"
        case .citation: "citation"
        case .retrieval: "retrieval"
        case .corpus: "corpus"
        case .tool: "tool"
        case .routing: "routing"
        case .policy: "policy"
        case .uiTrust: "ui-trust"
        case .governance: "governance"
        case .model: "model"
        case .agentLoop: "agent-loop"
        case .cost: "cost"
        case .security: "security"
        case .privacy: "privacy"
        case .humanReview: "human-review"
        case .unlisted(let slug): slug
        }
    }

    public var description: String { rawValue }

    /// The layer that fails.
    public var layer: String {
        switch self {
        case .semantic: "cognitive / inference"
        case .grounding: "retrieval context"
        case .citation: "document parser"
        case .retrieval: "index / search"
        case .corpus: "ingestion / storage"
        case .tool: "agent executor"
        case .routing: "gateway"
        case .policy: "guardrail"
        case .uiTrust: "interface"
        case .governance: "compliance / audit"
        case .model: "inference serving"
        case .agentLoop: "orchestration"
        case .cost: "billing"
        case .security: "boundary / access"
        case .privacy: "isolation / cache"
        case .humanReview: "operational queue"
        case .unlisted: "not in the taxonomy"
        }
    }

    /// The indicator that detects it.
    public var indicator: String {
        switch self {
        case .semantic: "grounding score below 0.70"
        case .grounding: "answers from prior knowledge instead of the retrieved text"
        case .citation: "citations that do not map to source coordinates"
        case .retrieval: "MRR@k below 0.50, empty or irrelevant results"
        case .corpus: "attacker-controlled documents in the index"
        case .tool: "malformed tool calls"
        case .routing: "silent model downgrades"
        case .policy: "over- or under-blocking"
        case .uiTrust: "hidden uncertainty"
        case .governance: "unsigned mutations"
        case .model: "silent quality regressions"
        case .agentLoop: "repeated plans"
        case .cost: "runaway spend"
        case .security: "unapproved egress"
        case .privacy: "cross-tenant hits"
        case .humanReview: "saturated review"
        case .unlisted: "none recorded"
        }
    }

    public init(from decoder: any Decoder) throws {
        self.init(stored: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
