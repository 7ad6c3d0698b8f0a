import ArgumentParser
import Crypto
import Engine
import FirebreakAPI
import Foundation
import Hex
import Incidents
import Server
import Store

/// `firebreak incident …`: the incident record, without the HTTP service.
struct IncidentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "incident",
        abstract: "Declare incidents, move them through their lifecycle, and verify or export their hash-chained timelines.",
        discussion: """
        By default the commands work on the database directly (--data-dir or --database-url). With \
        --url (or FIREBREAK_URL) they go to a running service over HTTP instead, as the holder of \
        --token (or FIREBREAK_TOKEN), who is then the actor on the timeline.
        """,
        subcommands: [Declare.self, Show.self, Timeline_.self, Transition.self, Assign.self, Decide.self, AddEvidence.self,
                      Action.self, PostmortemCommand.self, Verify.self, Export.self]
    )

    struct Declare: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Declare an incident; prints it (with its id).")
        @OptionGroup var target: IncidentTarget
        @Option(help: "SEV-0 … SEV-4.") var severity: String
        @Option(name: .customLong("class"), help: ArgumentHelp("Taxonomy class: \(TaxonomyClass.slugs.joined(separator: ", ")).",
                                                                  discussion: "A hub in the index is corpus; a cross-tenant hit, privacy; a golden-query MRR drop, retrieval."))
        var taxonomyClass: String
        @Option(help: "One line saying what happened.") var title: String
        @Option(help: "Affected collection.") var collection: String?
        @Option(help: "Affected tenant.") var tenant: String?
        @Option(help: "Who reports it.") var reporter: String = NSUserName()
        @Option(help: "W3C traceparent of the detecting request or job.") var traceparent: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            guard let severityValue = Severity(rawValue: severity.uppercased()) else {
                throw ValidationError("--severity must be one of \(Severity.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard let taxonomy = TaxonomyClass(rawValue: taxonomyClass) else {
                throw ValidationError("--class must be one of \(TaxonomyClass.slugs.joined(separator: ", "))")
            }
            if let remote = target.remote {
                let data = try await remote.call("POST", "/v1/incidents", DeclareIncidentBody(
                    title: title, severity: severityValue.rawValue, taxonomyClass: taxonomy.rawValue, tenant: tenant,
                    collection: collection, traceparent: traceparent))
                return try remote.show(data, as: IncidentBody.self, json: json) {
                    "\($0.id) declared (\(severityValue.rawValue), \(taxonomy.rawValue))"
                }
            }
            let (incident, _) = try target.database.withConnection { c in
                try Migrator.migrate(c)
                return try IncidentService.declare(title: title, severity: severityValue, taxonomyClass: taxonomy,
                                                   reporter: reporter, tenant: tenant, collection: collection,
                                                   traceparent: traceparent, on: c)
            }
            if json { try Console.printJSON(incident) } else { print("\(incident.id) declared (\(severityValue.rawValue), \(taxonomy.rawValue))") }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print an incident as JSON.")
        @OptionGroup var target: IncidentTarget
        @Argument var id: String

        func run() async throws {
            if let remote = target.remote { return remote.print(try await remote.call("GET", "/v1/incidents/\(segment(id))")) }
            let (incident, _) = try target.database.withConnection { try IncidentRecords.load(id, on: $0) }
            try Console.printJSON(incident)
        }
    }

    struct Timeline_: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "timeline", abstract: "Print an incident's timeline as JSON.")
        @OptionGroup var target: IncidentTarget
        @Argument var id: String

        func run() async throws {
            if let remote = target.remote {
                return remote.print(try await remote.call("GET", "/v1/incidents/\(segment(id))/timeline"))
            }
            let (_, timeline) = try target.database.withConnection { try IncidentRecords.load(id, on: $0) }
            try Console.printJSON(timeline.events)
        }
    }

    struct Transition: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move an incident: declared → contained → mitigated → resolved → closed (see --help of the model).")
        @OptionGroup var target: IncidentTarget
        @Argument var id: String
        @Option(help: "contained, mitigated, resolved or closed.") var to: String
        @Option(help: "Why.") var reason: String
        @Option(help: "Who.") var actor: String = NSUserName()

        func run() async throws {
            guard let status = IncidentStatus(rawValue: to) else {
                throw ValidationError("--to must be one of \(IncidentStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if let remote = target.remote {
                let data = try await remote.call("POST", "/v1/incidents/\(segment(id))/transition",
                                                 TransitionBody(status: status.rawValue, reason: reason))
                return try remote.show(data, as: IncidentBody.self, json: false) { "\($0.id) is \($0.status)" }
            }
            let incident = try target.database.withConnection {
                try IncidentService.transition(id, to: status, reason: reason, actor: actor, on: $0)
            }
            print("\(incident.id) is \(incident.status.rawValue)")
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute an incident's hash chain; exit 2 naming the first bad event if it was edited.")
        @OptionGroup var target: IncidentTarget
        @Argument var id: String

        func run() async throws {
            if let remote = target.remote {
                let result = try decodeReply(VerifyBody.self, from: await remote.call("GET", "/v1/incidents/\(segment(id))/verify"))
                guard result.intact else {
                    Console.progress("\(id): event \(result.firstBadSequence ?? 0) does not verify: \(result.problem ?? "")")
                    throw ExitCode(2)
                }
                return print("\(id): \(result.events) events, chain intact, head \(result.head)")
            }
            let (_, timeline) = try target.database.withConnection { try IncidentRecords.load(id, on: $0) }
            let result = timeline.verify()
            guard result.intact else {
                Console.progress("\(id): event \(result.firstBadSequence ?? 0) does not verify: \(result.problem ?? "")")
                throw ExitCode(2)
            }
            print("\(id): \(timeline.events.count) events, chain intact, head \(timeline.head)")
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export an incident: a signed JSON bundle (verifiable offline) or Markdown.")
        @OptionGroup var target: IncidentTarget
        @Argument var id: String
        @Option(help: "json or markdown.") var format: String = "json"
        @Option(help: "Ed25519 signing key (raw 32 bytes; created 0600 on first use). Default: <data-dir>/incident-signing.key. With --url the server signs with its own (serve --signing-key).")
        var keyFile: String?

        func run() async throws {
            if let remote = target.remote {
                // The server signs with its own key (`serve --signing-key`).
                switch format {
                case "json": return print(String(decoding: try await remote.call("GET", "/v1/incidents/\(segment(id))/export"), as: UTF8.self))
                case "markdown":
                    return print(String(decoding: try await remote.call("GET", "/v1/incidents/\(segment(id))/postmortem"), as: UTF8.self),
                                 terminator: "")
                default: throw ValidationError("--format must be json or markdown")
                }
            }
            let (incident, timeline) = try target.database.withConnection { try IncidentRecords.load(id, on: $0) }
            switch format {
            case "json":
                let path = keyFile ?? IncidentSigningKey.defaultPath(
                    dataDirectory: target.database.dataDir ?? EmbeddedPostgres.defaultDataDirectory())
                let bundle = try ExportBundle(incident: incident, timeline: timeline, key: try IncidentSigningKey.load(at: path).key)
                print(String(decoding: try bundle.encodedJSON(), as: UTF8.self))
            case "markdown":
                print(PostmortemDocument.markdown(incident, timeline), terminator: "")
            default:
                throw ValidationError("--format must be json or markdown")
            }
        }
    }

    struct Decide: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record a decision: what, why, and the options not taken.")
        @OptionGroup var target: IncidentTarget
        @Argument var id: String
        @Option(help: "What was decided.") var what: String
        @Option(help: "Why.") var why: String
        @Option(help: "An option considered and not taken (repeatable).") var notTaken: [String] = []
        @Option(help: "Who decided.") var who: String = NSUserName()

        func run() async throws {
            if let remote = target.remote {
                _ = try await remote.call("POST", "/v1/incidents/\(segment(id))/decisions",
                                          DecisionBody(what: what, why: why, optionsNotTaken: notTaken))
                return print("\(id): decision recorded")
            }
            _ = try target.database.withConnection { c in
                try IncidentService.decide(id, Decision(who: who, what: what, why: why, optionsNotTaken: notTaken), on: c)
            }
            print("\(id): decision recorded")
        }
    }

    struct AddEvidence: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "evidence",
            abstract: "Record an evidence item by the SHA-256 of a file, and where the file is kept.")
        @OptionGroup var target: IncidentTarget
        @Argument var id: String
        @Option(help: "Kind, e.g. poisoned_document, scan_report, query_log.") var kind: String
        @Option(help: "The captured file; its SHA-256 is recorded.") var file: String
        @Option(help: "Where it is kept (default: the file's path).") var location: String?
        @Option(help: "One line about it.") var summary: String = ""
        @Option(help: "Who.") var actor: String = NSUserName()

        func run() async throws {
            guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
            let digest = SHA256.hash(data: data).hexEncoded
            if let remote = target.remote {
                _ = try await remote.call("POST", "/v1/incidents/\(segment(id))/evidence",
                                          EvidenceBody(kind: kind, sha256: digest, location: location ?? file, summary: summary))
                return print("\(id): evidence \(digest) recorded")
            }
            _ = try target.database.withConnection { c in
                try IncidentService.addEvidence(id, Evidence(kind: kind, sha256: digest, location: location ?? file, summary: summary),
                                                actor: actor, on: c)
            }
            print("\(id): evidence \(digest) recorded")
        }
    }

    struct Action: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add an action item, or close one (closing needs the evidence that it was verified).")
        @OptionGroup var target: IncidentTarget
        @Argument var id: String
        @Option(help: "Add: the action.") var title: String?
        @Option(help: "Add: who owns it.") var owner: String?
        @Option(help: "Add: due date, YYYY-MM-DD.") var due: String?
        @Option(help: "Add: how closing it will be verified.") var verification: String?
        @Option(help: "Close: the action item's number.") var close: Int?
        @Option(help: "Close: the verification evidence.") var evidence: String?
        @Option(help: "Who.") var actor: String = NSUserName()

        func run() async throws {
            if let remote = target.remote {
                let body = close.map { ActionBody(close: $0, verificationEvidence: evidence) }
                    ?? ActionBody(title: title, owner: owner, due: due, verification: verification)
                let result = try decodeReply(IncidentBody.self, from: await remote.call("POST", "/v1/incidents/\(segment(id))/actions", body))
                return print("\(id): \(close.map { "action \($0) closed" } ?? "action recorded") (\(result.events) events)")
            }
            if let close {
                _ = try target.database.withConnection { c in
                    try IncidentService.closeAction(id, number: close, verificationEvidence: evidence ?? "", actor: actor, on: c)
                }
                print("\(id): action \(close) closed")
                return
            }
            guard let title, let owner, let due, let verification else {
                throw ValidationError("to add an action give --title, --owner, --due and --verification; to close one, --close N --evidence E")
            }
            let timeline = try target.database.withConnection { c in
                try IncidentService.addAction(id, title: title, owner: owner, due: due, verification: verification, actor: actor, on: c)
            }
            print("\(id): action \(timeline.actions.count) added")
        }
    }

    struct PostmortemCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "postmortem",
            abstract: "Record the postmortem's fields; `export --format markdown` renders the document.")
        @OptionGroup var target: IncidentTarget
        @Argument var id: String
        @Option var summary: String
        @Option var failingLayer: String
        @Option var rootCause: String
        @Option var evaluationGaps: String = ""
        @Option(help: "The regression case added so it cannot recur unnoticed.") var regressionCase: String
        @Option(help: "Who.") var actor: String = NSUserName()

        func run() async throws {
            if let remote = target.remote {
                _ = try await remote.call("POST", "/v1/incidents/\(segment(id))/postmortem", PostmortemBody(
                    summary: summary, failingLayer: failingLayer, rootCause: rootCause, evaluationGaps: evaluationGaps,
                    regressionCase: regressionCase))
                return print("\(id): postmortem recorded")
            }
            _ = try target.database.withConnection { c in
                try IncidentService.recordPostmortem(id, Postmortem(summary: summary, failingLayer: failingLayer, rootCause: rootCause,
                                                                    evaluationGaps: evaluationGaps, regressionCase: regressionCase),
                                                     actor: actor, on: c)
            }
            print("\(id): postmortem recorded")
        }
    }

    struct Assign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Name the incident commander (or hand over).")
        @OptionGroup var target: IncidentTarget
        @Argument var id: String
        @Option(help: "The new incident commander.") var commander: String
        @Option(help: "Who.") var actor: String = NSUserName()

        func run() async throws {
            if let remote = target.remote {
                let data = try await remote.call("POST", "/v1/incidents/\(segment(id))/commander", CommanderBody(commander: commander))
                return try remote.show(data, as: IncidentBody.self, json: false) { "\($0.id): commander is \($0.commander ?? "")" }
            }
            let incident = try target.database.withConnection {
                try IncidentService.assignCommander(id, commander: commander, actor: actor, on: $0)
            }
            print("\(incident.id): commander is \(incident.commander ?? "")")
        }
    }
}

/// Where an incident command acts: the database (default) or a running service (--url).
struct IncidentTarget: ParsableArguments {
    @OptionGroup var database: DatabaseOptions
    @Option(help: "Send the command to a running service instead (or FIREBREAK_URL).") var url: String?
    @Option(help: "Bearer token for --url (or FIREBREAK_TOKEN).") var token: String?

    var remote: RemoteIncidents? {
        let environment = ProcessInfo.processInfo.environment
        guard let base = url ?? environment["FIREBREAK_URL"] else { return nil }
        return RemoteIncidents(client: APIClient(baseURL: base, token: token ?? environment["FIREBREAK_TOKEN"]))
    }
}

/// The incident routes of the HTTP API, for the incident commands with --url.
struct RemoteIncidents {
    let client: APIClient

    /// Sends a request; a refusal is `CallError.refused` (status, code and detail).
    func call(_ method: String, _ path: String, _ body: (any Encodable)? = nil) async throws -> Data {
        try await client.succeeded(method, path, body: body).body
    }

    /// Prints the JSON as received.
    func print(_ data: Data) {
        Swift.print(String(decoding: data, as: UTF8.self))
    }

    /// Prints the JSON as received (with `json`), or one line made from the typed reply.
    func show<Reply: Decodable>(_ data: Data, as type: Reply.Type, json: Bool, line: (Reply) -> String) throws {
        if json { return print(data) }
        Swift.print(line(try decodeReply(type, from: data)))
    }
}
