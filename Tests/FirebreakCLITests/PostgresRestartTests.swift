import FirebreakAPI
import Foundation
import XCTest

/// PostgreSQL restarted under two serving replicas (issue 17), first as a held outage (stop,
/// then start) and then as `pg_ctl restart -m fast` under a stream of writes: while it is down,
/// writes are answered 503 within the pool's wait (none hangs) and searches go on from memory;
/// once it is back, each replica reconnects by itself, and a quarantine made on one replica
/// reaches the other through its change listener, which had to resynchronise.
final class PostgresRestartTests: XCTestCase {
    static let dimension = 8
    static let poolWaitSeconds = 2.0
    /// A request during the outage must be answered within this (the pool's wait, plus slack
    /// for a 2-core CI machine).
    static let outageAnswerSecondsMax = 8.0
    static let reconnectSecondsMax = 30.0

    func testRequestsDuringAnOutageOrARestartGet503AndBothReplicasRecoverByThemselves() async throws {
        let data = "/tmp/firebreak-pgrestart-\(getpid())"
        let token = "fbk_pgrestart_admin"
        defer {
            _ = try? firebreak(["db", "stop", "--data-dir", data])
            try? FileManager.default.removeItem(atPath: data)
        }
        let started = try firebreak(["db", "start", "--data-dir", data])
        XCTAssertEqual(started.status, 0, started.stderr)
        let url = started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        var replicas: [(Child, APIClient)] = []
        defer { for (child, _) in replicas { kill(child.pid, SIGKILL); _ = child.wait() } }
        for name in ["a", "b"] {
            let (child, base) = try serve(data: data + "-" + name, token: token,
                                          arguments: ["--database-url", url, "--snapshot-dir", data + "-snapshots",
                                                      "--replica-id", name, "--pool-wait-seconds", String(Self.poolWaitSeconds)])
            replicas.append((child, APIClient(baseURL: base, token: token)))
        }
        let (a, b) = (replicas[0].1, replicas[1].1)
        try await a.succeeded("POST", "/v1/collections", body: CreateCollectionBody(name: "docs", dimension: Self.dimension, metric: "cosine"))
        let documents = (0..<40).map { i in
            NewDocumentBody(id: "d\(i)", tenant: "acme", text: "passage \(i)",
                            embedding: (0..<Self.dimension).map { Float(($0 * 7 + i * 13) % 17) + ($0 == i % Self.dimension ? 9 : 0) })
        }
        try await a.succeeded("POST", "/v1/collections/docs/documents", body: IngestBody(documents: documents))
        try await waitUntilServed("d3", by: b, vector: documents[3].embedding, served: true, within: 15)

        XCTAssertEqual(try firebreak(["db", "stop", "--data-dir", data]).status, 0)
        for client in [a, b] {
            let clock = Date()
            let write = try await client.send("POST", "/v1/collections/docs/documents",
                                              body: IngestBody(documents: [NewDocumentBody(id: "late-\(UUID().uuidString.prefix(6))", tenant: "acme",
                                                                                           text: "late", embedding: documents[0].embedding)]))
            XCTAssertEqual(write.status, 503, String(decoding: write.body, as: UTF8.self))
            XCTAssertTrue(["store_failed", "store_unavailable"].contains(write.problem?.code ?? ""), "\(write.problem?.code ?? "no problem body")")
            XCTAssertLessThan(Date().timeIntervalSince(clock), Self.outageAnswerSecondsMax, "a write during the outage hung")
            let search = try await client.send("POST", "/v1/collections/docs/search",
                                               body: SearchBody(vector: documents[5].embedding, k: 3, tenant: "acme"))
            XCTAssertEqual(search.status, 200, "searches are answered from memory while the database is down")
        }

        let restarted = try firebreak(["db", "start", "--data-dir", data])
        XCTAssertEqual(restarted.status, 0, restarted.stderr)
        // Each replica takes writes again without a restart of its own.
        for client in [a, b] {
            let deadline = Date().addingTimeInterval(Self.reconnectSecondsMax)
            var status = 0
            repeat {
                status = try await client.send("POST", "/v1/collections/docs/quarantine",
                                               body: QuarantineBody(ids: ["d0"], reason: "after the restart")).status
                if status != 200 { try await Task.sleep(for: .milliseconds(250)) }
            } while status != 200 && Date() < deadline
            XCTAssertEqual(status, 200, "\(client.baseURL) did not reconnect to PostgreSQL")
        }
        // A quarantine on a reaches b: b's change listener is listening again.
        try await a.succeeded("POST", "/v1/collections/docs/quarantine", body: QuarantineBody(ids: ["d3"], reason: "hub after the restart"))
        try await waitUntilServed("d3", by: b, vector: documents[3].embedding, served: false, within: 15)

        // `pg_ctl restart -m fast` under a stream of writes to both replicas: each write is
        // answered 200 or 503 in bounded time (never a 500, never a hang), and both recover.
        let writers = [a, b].enumerated().map { index, client in
            Task { await Self.writeUntilCancelled(client, prefix: "stream-\(index)", embedding: documents[1].embedding) }
        }
        try await Task.sleep(for: .milliseconds(500))
        let restartedFast = try firebreak(["db", "restart", "--data-dir", data])
        XCTAssertEqual(restartedFast.status, 0, restartedFast.stderr)
        try await Task.sleep(for: .seconds(Self.poolWaitSeconds + 1))
        var recovered = Set<Int>()
        for (index, writer) in writers.enumerated() {
            try await Task.sleep(for: .seconds(1))
            writer.cancel()
            let answers = await writer.value
            XCTAssertFalse(answers.isEmpty)
            for answer in answers {
                XCTAssertTrue([200, 201, 503].contains(answer.status), "replica \(index): a write around the restart answered \(answer.status) \(answer.code ?? "")")
                XCTAssertLessThan(answer.seconds, Self.outageAnswerSecondsMax, "replica \(index): a write around the restart hung")
            }
            if answers.last?.status == 201 { recovered.insert(index) }
        }
        XCTAssertEqual(recovered, [0, 1], "each replica takes writes again after pg_ctl restart")
        try await a.succeeded("POST", "/v1/collections/docs/quarantine", body: QuarantineBody(ids: ["d5"], reason: "hub after pg_ctl restart"))
        try await waitUntilServed("d5", by: b, vector: documents[5].embedding, served: false, within: 15)
    }

    struct Answer { let status: Int; let code: String?; let seconds: Double }

    /// Ingests one new document after another until cancelled; the answers, in order.
    static func writeUntilCancelled(_ client: APIClient, prefix: String, embedding: [Float]) async -> [Answer] {
        var answers: [Answer] = []
        var next = 0
        while !Task.isCancelled {
            next += 1
            let clock = Date()
            let body = IngestBody(documents: [NewDocumentBody(id: "\(prefix)-\(next)", tenant: "acme", text: "streamed", embedding: embedding)])
            let reply: APIClient.Reply
            do { reply = try await client.send("POST", "/v1/collections/docs/documents", body: body) } catch {
                if Task.isCancelled { break }  // the cancellation itself cut the request short
                answers.append(Answer(status: 0, code: "no answer: \(error)", seconds: Date().timeIntervalSince(clock)))
                continue
            }
            answers.append(Answer(status: reply.status, code: reply.problem?.code, seconds: Date().timeIntervalSince(clock)))
            if reply.status != 200 { try? await Task.sleep(for: .milliseconds(50)) }
        }
        return answers
    }

    /// Waits until `client`'s search by `vector` does (or does not) serve `id`.
    private func waitUntilServed(_ id: String, by client: APIClient, vector: [Float], served: Bool, within seconds: Double) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let answer = try await client.call("POST", "/v1/collections/docs/search",
                                               body: SearchBody(vector: vector, k: 5, tenant: "acme"), as: SearchResultBody.self)
            let found = answer.results.contains { $0.id == id }
            if found == served { return }
            guard Date() < deadline else {
                return XCTFail("\(client.baseURL): \(id) is \(found ? "still" : "not") served after \(seconds) s")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }
}
