import ArgumentParser
import FirebreakAPI
import Foundation
import VectorMath

/// Where the service is and who is calling: shared by every client command.
struct ClientOptions: ParsableArguments {
    @Option(help: "The service's URL (or FIREBREAK_URL).") var url: String?
    @Option(help: "A bearer token (or FIREBREAK_TOKEN).") var token: String?
    @Flag(help: "Print the service's JSON response unchanged.") var json = false

    var client: APIClient {
        let environment = ProcessInfo.processInfo.environment
        return APIClient(baseURL: url ?? environment["FIREBREAK_URL"] ?? "http://127.0.0.1:7420",
                         token: token ?? environment["FIREBREAK_TOKEN"])
    }

    /// Sends a request (the body encoded as the contract encodes it) and returns the reply's
    /// bytes, printing them as received with --json.
    func call(_ method: String, _ path: String, body: (any Encodable)? = nil) async throws -> Data {
        let data = try await client.succeeded(method, path, body: body).body
        if json { print(String(decoding: data, as: UTF8.self)) }
        return data
    }

    /// Sends a request and decodes the reply as `type`.
    func call<Reply: Decodable>(_ method: String, _ path: String, body: (any Encodable)? = nil,
                                as type: Reply.Type) async throws -> Reply {
        try decodeReply(type, from: try await call(method, path, body: body))
    }

    /// Prints a value built from quiet calls: compact JSON with --json, else pretty.
    func printMerged(_ value: some Encodable) {
        let encoder = JSONEncoder.api
        if !json { encoder.outputFormatting.insert(.prettyPrinted) }
        guard let data = try? encoder.encode(value) else { return }
        print(String(decoding: data, as: UTF8.self))
    }

    /// Prints a reply for humans (laid out, every field and number as sent) unless --json
    /// already printed it.
    func show(_ data: Data) {
        guard !json else { return }
        print(JSONLayout.indented(data))
    }
}

/// Decodes a reply of the service; a reply that does not match the contract is an error that
/// names the field (a client older or newer than the service).
func decodeReply<Reply: Decodable>(_ type: Reply.Type, from data: Data) throws -> Reply {
    do {
        return try JSONDecoder.api.decode(type, from: data)
    } catch let error as DecodingError {
        throw ValidationError("the service's reply does not match \(type): \(error.fieldDescription)")
    }
}


/// Percent-encodes one path segment.
func segment(_ value: String) -> String {
    value.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? value
}

struct CollectionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collections", abstract: "Create, list and show collections.",
        subcommands: [List.self, Show.self, Create.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List collections with their mode and counts.")
        @OptionGroup var client: ClientOptions
        func run() async throws {
            let reply = try await client.call("GET", "/v1/collections", as: CollectionListBody.self)
            guard !client.json else { return }
            for c in reply.collections {
                print("\(c.name)\t\(c.mode)\t\(c.documents) documents\t\(c.quarantined) quarantined")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one collection's status.")
        @Argument var name: String
        @OptionGroup var client: ClientOptions
        func run() async throws { client.show(try await client.call("GET", "/v1/collections/\(segment(name))")) }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a collection.")
        @Argument var name: String
        @Option(help: "Vector dimension.") var dimension: Int
        @Option(help: "cosine, ip or l2.") var metric = "cosine"
        @Option var m = 16
        @Option var efConstruction = 200
        @Option var efSearch = 64
        @OptionGroup var client: ClientOptions
        func run() async throws {
            client.show(try await client.call("POST", "/v1/collections", body: CreateCollectionBody(
                name: name, dimension: dimension, metric: metric,
                hnsw: HNSWBody(m: m, efConstruction: efConstruction, efSearch: efSearch))))
        }
    }
}

struct IngestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest", abstract: "Ingest documents from JSONL or .npy, in batches, with progress.",
        discussion: """
        FILE.jsonl: one {"id","tenant","text","embedding":[…],"metadata":{}} per line.
        FILE.npy: one embedding per row; ids are row numbers, texts come from --texts (JSONL of \
        {"text"} or plain lines) when given. Each batch is all or nothing; two are in flight at \
        once; a failed batch (or a malformed line) stops the run and says which rows were \
        already ingested. A JSONL file is streamed: memory is bounded by the batches in \
        flight, not by the file (an .npy matrix is read whole).
        """)
    @Argument var file: String
    @Option(help: "Collection to ingest into.") var collection: String
    @Option(help: "Tenant for documents that do not name one.") var tenant: String?
    @Option(help: "For .npy: a file with one text per row.") var texts: String?
    @Option(help: "Documents per request (1...1000).") var batch = 500
    @OptionGroup var client: ClientOptions

    func validate() throws {
        guard (1...1_000).contains(batch) else { throw ValidationError("--batch must be in 1...1000") }
    }

    /// Batches sent before the first answers: the server parses one while it indexes another.
    static let batchesInFlightMax = 2

    func run() async throws {
        var source = try open()
        let api = client.client, path = "/v1/collections/\(segment(collection))/documents"
        var progress = IngestProgress(total: source.total)
        var lastSeq: Int64?
        var failure: (rows: Range<Int>, error: any Error)?
        await withTaskGroup(of: (Range<Int>, Result<Int64?, any Error>).self) { group in
            var next = 0
            /// Reads and sends the next batch; false once the file is done or unreadable.
            func sendNext() -> Bool {
                let documents: [NewDocumentBody]
                do {
                    documents = try source.nextBatch(batch)
                } catch {
                    failure = failure ?? (next..<next + batch, error)
                    return false
                }
                guard !documents.isEmpty else { return false }
                let rows = next..<next + documents.count
                next = rows.upperBound
                let body = IngestBody(documents: documents.map(Self.base64))
                group.addTask {
                    do {
                        let data = try await api.succeeded("POST", path, body: body).body
                        return (rows, .success(try decodeReply(Sequenced<IngestResultBody>.self, from: data).seq))
                    } catch {
                        return (rows, .failure(error))
                    }
                }
                return true
            }
            var more = true
            for _ in 0..<Self.batchesInFlightMax where more { more = sendNext() }
            for await (rows, result) in group {
                switch result {
                case .success(let seq):
                    progress.record(rows)
                    lastSeq = [lastSeq, seq].compactMap { $0 }.max()
                case .failure(let error):
                    if failure == nil { failure = (rows, error) }
                }
                FileHandle.standardError.write(Data(progress.line().utf8))
                if failure == nil, more { more = sendNext() }
            }
        }
        FileHandle.standardError.write(Data("\n".utf8))
        if let failure {
            throw ValidationError("rows \(failure.rows.lowerBound)..<\(failure.rows.upperBound) failed "
                                  + "(rows ingested: \(progress.ingestedRows)): \(failure.error)")
        }
        let seq = lastSeq.map(String.init) ?? "null"
        if client.json { print(#"{"ingested":\#(progress.done),"seq":\#(seq)}"#) } else {
            print("ingested \(progress.done) documents into \(collection) (visible from seq \(seq))")
        }
    }

    /// Sent as `embedding_b64`: a third of the bytes, and nothing to format or parse.
    static func base64(_ document: NewDocumentBody) -> NewDocumentBody {
        var document = document
        document.embeddingEncoding = .base64
        return document
    }

    private func open() throws -> IngestSource {
        guard file.hasSuffix(".npy") || file.hasSuffix(".fvecs") else { return try IngestSource(jsonl: file, tenant: tenant) }
        let matrix = try MatrixFile.readFloats(file)
        let lines = try texts.map { try String(contentsOfFile: $0, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false) }
        guard let tenant else { throw ValidationError("--tenant is required for .npy input") }
        return IngestSource(documents: (0..<matrix.rows).map { row in
            let line = lines.flatMap { row < $0.count ? String($0[row]) : nil } ?? ""
            return NewDocumentBody(id: String(row), tenant: tenant, text: Self.text(of: line), embedding: matrix.row(row))
        })
    }

    /// A --texts line: `{"text": …}` or the plain text itself.
    static func text(of line: String) -> String {
        struct TextLine: Decodable { var text: String }
        guard line.hasPrefix("{"), let parsed = try? JSONDecoder.api.decode(TextLine.self, from: Data(line.utf8)) else { return line }
        return parsed.text
    }
}

extension ClientOptions {
    /// The same options without --json echoing (for batch loops).
    static func quiet(_ options: ClientOptions) -> ClientOptions {
        var copy = options
        copy.json = false
        return copy
    }
}

struct SearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search", abstract: "Search a collection (vector, lexical or hybrid).")
    @Option(help: "Collection to search.") var collection: String
    @Option(help: "Query text (lexical and hybrid).") var query: String?
    @Option(help: "Query vector as comma-separated numbers.") var vector: String?
    @Option(help: "Take the query vector from this .npy …") var vectorFile: String?
    @Option(help: "… at this row.") var row = 0
    @Option(help: "vector, lexical or hybrid (default: from what is given).") var mode: String?
    @Option var k = 10
    @Option(help: "Tenant whose partition is searched.") var tenant: String?
    @Option(help: "Answer only once this replica has applied this change-log seq (from a write's answer).") var minSeq: Int64?
    @OptionGroup var client: ClientOptions

    func run() async throws {
        var body = SearchBody(mode: mode, query: query, k: k, tenant: tenant, minSeq: minSeq)
        if let vector {
            body.vector = try vector.split(separator: ",").map { part -> Float in
                guard let value = Float(part.trimmingCharacters(in: .whitespaces)) else {
                    throw ValidationError("--vector: \"\(part)\" is not a number")
                }
                return value
            }
        } else if let vectorFile {
            let matrix = try MatrixFile.readFloats(vectorFile)
            guard row < matrix.rows else { throw ValidationError("--row \(row) is past the \(matrix.rows) rows of \(vectorFile)") }
            body.vector = matrix.row(row)
        }
        let result = try await client.call("POST", "/v1/collections/\(segment(collection))/search", body: body,
                                           as: SearchResultBody.self)
        guard !client.json else { return }
        if let notice = result.notice { print("notice: \(notice)") }
        print("mode \(result.modeUsed)\(result.degraded ? " (degraded)" : ""), \(result.tookMs) ms")
        for (rank, hit) in result.results.enumerated() {
            let text = hit.text.prefix(80).replacingOccurrences(of: "\n", with: " ")
            print(String(format: "%3d  %9.4f  ", rank + 1, hit.score) + "\(hit.id)  \(text)")
        }
    }
}

struct QuarantineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quarantine", abstract: "Withhold documents from every search path at once, on an incident.",
        discussion: """
        Without --incident, an incident is declared from the reason. --list shows the active entries. \
        The answer's "seq" is the change-log position at which the quarantine is in effect; a search \
        with "min_seq" set to it never returns the documents on any replica. --wait-all waits until \
        every live replica reports it applied that position (a replica silent for 10 s is not waited \
        for and is named under "silent").
        """)
    @Option(help: "Collection.") var collection: String
    @Argument(help: "Document ids.") var ids: [String] = []
    @Option(help: "Why (recorded on the incident).") var reason: String?
    @Option(help: "Incident id (INC-nnnnnn).") var incident: String?
    @Flag(help: "List active quarantine entries instead.") var list = false
    @Flag(help: "Wait until every live replica has applied the quarantine.") var waitAll = false
    @Option(help: "How long --wait-all waits before it fails (seconds).") var waitSeconds = 30.0
    @OptionGroup var client: ClientOptions

    func validate() throws {
        guard waitSeconds > 0, waitSeconds <= 3_600 else { throw ValidationError("--wait-seconds must be in (0, 3600]") }
    }

    func run() async throws {
        if list { return client.show(try await client.call("GET", "/v1/collections/\(segment(collection))/quarantine")) }
        guard !ids.isEmpty, let reason else { throw ValidationError("give document ids and --reason (or --list)") }
        let body = QuarantineBody(ids: ids, reason: reason, incidentID: incident)
        let path = "/v1/collections/\(segment(collection))/quarantine"
        guard waitAll else { return client.show(try await client.call("POST", path, body: body)) }
        let result = try await ClientOptions.quiet(client).call("POST", path, body: body, as: Sequenced<QuarantineResultBody>.self)
        guard let seq = result.seq else { throw ValidationError("the service answered without a seq") }
        let replicas = try await ReplicaWait(client: client.client, seq: seq, seconds: waitSeconds).run()
        client.printMerged(WaitedQuarantine(seq: seq, result: result.body, replicas: replicas))
    }
}

/// `quarantine --wait-all`'s answer: the quarantine's, and which replicas applied it.
struct WaitedQuarantine: Encodable {
    var seq: Int64
    var result: QuarantineResultBody
    var replicas: ReplicaWait.Outcome

    enum CodingKeys: String, CodingKey { case seq, replicas }

    func encode(to encoder: any Encoder) throws {
        try result.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(seq, forKey: .seq)
        try container.encode(replicas, forKey: .replicas)
    }
}

/// `--wait-all`: polls `GET /v1/replicas` until every live replica has applied `seq`.
struct ReplicaWait {
    static let pollMilliseconds = 50
    let client: APIClient
    let seq: Int64
    let seconds: Double

    struct Outcome: Encodable {
        var applied: [String]
        var silent: [String]
    }

    /// The live replicas (all at `seq` or past it) and the silent ones, once no live replica is
    /// behind; an error naming the replicas still behind after `seconds`.
    func run() async throws -> Outcome {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let replicas = try await client.call("GET", "/v1/replicas", as: ReplicasBody.self).replicas
            let live = replicas.filter(\.live)
            let behind = live.filter { $0.appliedSeq < seq }
            if behind.isEmpty {
                return Outcome(applied: live.map(\.name), silent: replicas.filter { !$0.live }.map(\.name))
            }
            guard Date() < deadline else {
                throw ValidationError("after \(seconds) s, replicas still behind seq \(seq): " +
                    behind.map { "\($0.name) at \($0.appliedSeq)" }.joined(separator: ", "))
            }
            try await Task.sleep(for: .milliseconds(Self.pollMilliseconds))
        }
    }
}

struct ReleaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release", abstract: "Release quarantined documents (incident commanders and admins).")
    @Option(help: "Collection.") var collection: String
    @Argument(help: "Document ids.") var ids: [String]
    @Option(help: "Why (recorded on the incident).") var reason: String
    @Option(help: "Incident id (INC-nnnnnn).") var incident: String?
    @OptionGroup var client: ClientOptions

    func run() async throws {
        let body = QuarantineBody(ids: ids, reason: reason, incidentID: incident)
        client.show(try await client.call("POST", "/v1/collections/\(segment(collection))/quarantine/release", body: body))
    }
}

struct FlagsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flags", abstract: "Set FF_INDEX_FREEZE or FF_TENANT_BLOCK on a collection or one tenant.")
    @Option(help: "Collection.") var collection: String
    @Argument(help: "FF_INDEX_FREEZE or FF_TENANT_BLOCK.") var flag: String
    @Flag(help: "Turn it on (--on) or off (--off).") var state: Switch
    @Option(help: "Tenant (required for FF_TENANT_BLOCK).") var tenant: String?
    @Option(help: "Incident id (INC-nnnnnn).") var incident: String?
    @Option(help: "Why (the title of an incident declared for it).") var reason: String?
    @OptionGroup var client: ClientOptions

    enum Switch: String, EnumerableFlag { case on, off }

    func run() async throws {
        let body = SetFlagBody(enabled: state == .on, incidentID: incident, tenant: tenant, reason: reason)
        client.show(try await client.call("PUT", "/v1/collections/\(segment(collection))/flags/\(segment(flag))", body: body))
    }
}

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Create an API token (admin only). The token is shown once.")
    @Option(help: "reader, retrieval_owner, incident_commander or admin.") var role: String
    @Option(help: "Scope the token to one tenant.") var tenant: String?
    @OptionGroup var client: ClientOptions

    func run() async throws {
        client.show(try await client.call("POST", "/v1/tokens", body: CreateTokenBody(role: role, tenant: tenant)))
    }
}

struct APICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api", abstract: "Send any request to the service (incidents, timelines, postmortems …).",
        discussion: """
        Examples:
          firebreak api GET /v1/incidents/INC-000001/timeline
          firebreak api POST /v1/incidents --data '{"title":"poisoned passages","severity":"SEV-1"}'
          firebreak api GET /v1/incidents/INC-000001/postmortem
        """)
    @Argument(help: "GET, POST, PUT or DELETE.") var method: String
    @Argument(help: "Path, starting with /.") var path: String
    @Option(help: "JSON body, or @FILE to read it from a file.") var data: String?
    @OptionGroup var client: ClientOptions

    func run() async throws {
        let body = try data.map { value -> Data in
            value.hasPrefix("@") ? try Data(contentsOf: URL(fileURLWithPath: String(value.dropFirst()))) : Data(value.utf8)
        }
        let reply = try await client.client.send(method.uppercased(), path, json: body)
        print(String(decoding: reply.body, as: UTF8.self))
        guard reply.isSuccess else { throw ExitCode(1) }
    }
}
