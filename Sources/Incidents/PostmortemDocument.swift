/// The postmortem as Markdown: the facts, the recorded postmortem fields, a chronology
/// linked to the trace that detected the incident, evidence with hashes, decisions with the
/// options not taken, action items with their verification, and the chain's integrity.
public enum PostmortemDocument {
    public static func markdown(_ incident: Incident, _ timeline: Timeline) -> String {
        var lines = ["# \(incident.id): \(incident.title)", ""]
        lines += facts(incident)
        let postmortem = timeline.postmortem
        lines += section("Summary", postmortem?.summary)
        lines += section("Failing layer", postmortem?.failingLayer)
        lines += section("Root cause", postmortem?.rootCause)
        lines += chronology(incident, timeline)
        lines += ["", "## Evidence", ""]
        lines += timeline.evidence.isEmpty ? ["_None recorded._"]
            : timeline.evidence.map { "- **\($0.kind)** `\($0.sha256)` at \($0.location): \(cell($0.summary))" }
        lines += ["", "## Decisions", ""]
        lines += timeline.decisions.isEmpty ? ["_None recorded._"] : timeline.decisions.map { decision in
            "- \(decision.who): **\(cell(decision.what))** because \(cell(decision.why))"
                + (decision.optionsNotTaken.isEmpty ? "" : " (not taken: \(decision.optionsNotTaken.map(cell).joined(separator: "; ")))")
        }
        lines += section("Evaluation gaps", postmortem?.evaluationGaps)
        lines += ["", "## Action items", ""]
        lines += timeline.actions.isEmpty ? ["_None recorded._"] : ["| # | action | owner | due | verification | status |",
                                                                   "|---:|---|---|---|---|---|"]
            + timeline.actions.map { action in
                "| \(action.number) | \(cell(action.title)) | \(cell(action.owner)) | \(action.due) | \(cell(action.verification)) | "
                    + (action.verificationEvidence.map { "closed: \(cell($0))" } ?? "open") + " |"
            }
        lines += section("Regression case added", postmortem?.regressionCase)
        return lines.joined(separator: "\n") + "\n"
    }

    private static func facts(_ incident: Incident) -> [String] {
        var lines = ["- Severity: \(incident.severity.rawValue) (\(incident.severity.meaning))",
                     "- Class: \(incident.taxonomyClass.rawValue)", "- Status: \(incident.status.rawValue)",
                     "- Detected: \(incident.detectedAt) UTC", "- Reporter: \(incident.reporter)"]
        if let commander = incident.commander { lines.append("- Incident commander: \(commander)") }
        if let collection = incident.collection { lines.append("- Collection: \(collection)") }
        if let tenant = incident.tenant { lines.append("- Tenant: \(tenant)") }
        if let root = incident.snapshotRootHash { lines.append("- Serving snapshot root: `\(root)`") }
        return lines
    }

    private static func chronology(_ incident: Incident, _ timeline: Timeline) -> [String] {
        let check = timeline.verify()
        var lines = ["", "## Chronology", ""]
        if let trace = incident.traceparent { lines.append("Detected in trace `\(trace)`.\n") }
        lines.append(check.intact ? "Hash chain intact; head `\(timeline.head)`."
                     : "**Hash chain broken at event \(check.firstBadSequence ?? 0): \(check.problem ?? "")**")
        lines += ["", "| # | at (UTC) | actor | event | details |", "|---:|---|---|---|---|"]
        for event in timeline.events {
            let details = event.payload.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; ")
            lines.append("| \(event.sequence) | \(event.at) | \(cell(event.actor)) | \(event.kind) | \(cell(details)) |")
        }
        return lines
    }

    private static func section(_ title: String, _ text: String?) -> [String] {
        ["", "## \(title)", "", (text?.isEmpty == false ? text! : "_Not recorded yet._")]
    }

    /// Text safe inside a Markdown table cell or list item.
    private static func cell(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }
}
