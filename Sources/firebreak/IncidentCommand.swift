import ArgumentParser
import Crypto
import Foundation
import Incidents
import Store

/// `firebreak incident …`: the incident record, without the HTTP service.
struct IncidentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "incident",
        abstract: "Declare incidents, move them through their lifecycle, and verify or export their hash-chained timelines.",
        subcommands: [Declare.self, Show.self, Timeline_.self, Transition.self, Verify.self, Export.self]
    )

    struct Declare: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Declare an incident; prints it (with its id).")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "SEV-0 … SEV-4.") var severity: String
        @Option(name: .customLong("class"), help: "Taxonomy class, e.g. corpus, retrieval, privacy.") var taxonomyClass: String
        @Option(help: "One line saying what happened.") var title: String
        @Option(help: "Affected collection.") var collection: String?
        @Option(help: "Affected tenant.") var tenant: String?
        @Option(help: "Who reports it.") var reporter: String = NSUserName()
        @Option(help: "W3C traceparent of the detecting request or job.") var traceparent: String?
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            guard let severityValue = Severity(rawValue: severity.uppercased()) else {
                throw ValidationError("--severity must be one of \(Severity.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard let taxonomy = TaxonomyClass(rawValue: taxonomyClass) else {
                throw ValidationError("--class must be a lower-case slug such as corpus, retrieval or privacy")
            }
            let (incident, _) = try database.withConnection { c in
                try Migrator.migrate(c)
                return try IncidentRecords.declare(title: title, severity: severityValue, taxonomyClass: taxonomy,
                                                   reporter: reporter, detectedAt: Date(), tenant: tenant,
                                                   collection: collection, traceparent: traceparent, on: c)
            }
            if json { try Console.printJSON(incident) } else { print("\(incident.id) declared (\(severityValue.rawValue), \(taxonomy.rawValue))") }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print an incident as JSON.")
        @OptionGroup var database: DatabaseOptions
        @Argument var id: String

        func run() throws {
            let (incident, _) = try database.withConnection { try IncidentRecords.load(id, on: $0) }
            try Console.printJSON(incident)
        }
    }

    struct Timeline_: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "timeline", abstract: "Print an incident's timeline as JSON.")
        @OptionGroup var database: DatabaseOptions
        @Argument var id: String

        func run() throws {
            let (_, timeline) = try database.withConnection { try IncidentRecords.load(id, on: $0) }
            try Console.printJSON(timeline.events)
        }
    }

    struct Transition: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move an incident: declared → contained → mitigated → resolved → closed (see --help of the model).")
        @OptionGroup var database: DatabaseOptions
        @Argument var id: String
        @Option(help: "contained, mitigated, resolved or closed.") var to: String
        @Option(help: "Why.") var reason: String
        @Option(help: "Who.") var actor: String = NSUserName()

        func run() throws {
            guard let status = IncidentStatus(rawValue: to) else {
                throw ValidationError("--to must be one of \(IncidentStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let incident = try database.withConnection {
                try IncidentRecords.transition(id, to: status, reason: reason, actor: actor, on: $0)
            }
            print("\(incident.id) is \(incident.status.rawValue)")
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute an incident's hash chain; exit 2 naming the first bad event if it was edited.")
        @OptionGroup var database: DatabaseOptions
        @Argument var id: String

        func run() throws {
            let (_, timeline) = try database.withConnection { try IncidentRecords.load(id, on: $0) }
            let result = timeline.verify()
            guard result.intact else {
                Console.progress("\(id): event \(result.firstBadSequence ?? 0) does not verify: \(result.problem ?? "")")
                throw ExitCode(2)
            }
            print("\(id): \(timeline.events.count) events, chain intact, head \(timeline.head)")
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export an incident: a signed JSON bundle (verifiable offline) or Markdown.")
        @OptionGroup var database: DatabaseOptions
        @Argument var id: String
        @Option(help: "json or markdown.") var format: String = "json"
        @Option(help: "Ed25519 signing key (raw 32 bytes; created on first use). Default: <data-dir>/incident-signing.key.")
        var keyFile: String?

        func run() throws {
            let (incident, timeline) = try database.withConnection { try IncidentRecords.load(id, on: $0) }
            switch format {
            case "json":
                let path = keyFile ?? (database.dataDir ?? EmbeddedPostgres.defaultDataDirectory()) + "/incident-signing.key"
                try Console.printJSON(ExportBundle(incident: incident, timeline: timeline, key: try Self.signingKey(at: path)))
            case "markdown":
                print(Self.markdown(incident, timeline))
            default:
                throw ValidationError("--format must be json or markdown")
            }
        }

        static func signingKey(at path: String) throws -> Curve25519.Signing.PrivateKey {
            if let data = FileManager.default.contents(atPath: path) {
                return try Curve25519.Signing.PrivateKey(rawRepresentation: data)
            }
            let key = Curve25519.Signing.PrivateKey()
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            guard FileManager.default.createFile(atPath: path, contents: key.rawRepresentation,
                                                 attributes: [.posixPermissions: 0o600]) else {
                throw ValidationError("cannot write the signing key to \(path)")
            }
            return key
        }

        static func markdown(_ incident: Incident, _ timeline: Timeline) -> String {
            var lines = ["# \(incident.id): \(incident.title)", "",
                         "- Severity: \(incident.severity.rawValue) (\(incident.severity.meaning))",
                         "- Class: \(incident.taxonomyClass.rawValue)", "- Status: \(incident.status.rawValue)",
                         "- Detected: \(incident.detectedAt)", "- Reporter: \(incident.reporter)"]
            if let collection = incident.collection { lines.append("- Collection: \(collection)") }
            if let tenant = incident.tenant { lines.append("- Tenant: \(tenant)") }
            let check = timeline.verify()
            lines += ["", "## Timeline", "",
                      check.intact ? "Hash chain intact; head `\(timeline.head)`." : "**Hash chain broken at event \(check.firstBadSequence ?? 0): \(check.problem ?? "")**",
                      "", "| # | at (UTC) | actor | event | details |", "|---:|---|---|---|---|"]
            for event in timeline.events {
                let details = event.payload.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; ")
                lines.append("| \(event.sequence) | \(event.at) | \(event.actor) | \(event.kind) | \(details.replacingOccurrences(of: "|", with: "\\|")) |")
            }
            return lines.joined(separator: "\n")
        }
    }
}
