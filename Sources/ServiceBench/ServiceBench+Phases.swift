import Dispatch
import Engine
import FirebreakAPI
import Foundation

/// The phases under load: quarantine activation, a rebuild and a rollback, each while
/// `concurrency` clients search.
extension ServiceBench {
    /// Rebuilds tenant-0's partition while `concurrency` clients search every tenant: the
    /// rebuild's duration, failed queries (must be 0) and the degraded answers' latency.
    func rebuildUnderLoad(corpus: BenchCorpus, client: APIClient, collection: String) async throws -> RebuildReport {
        let started = DispatchTime.now().uptimeNanoseconds
        let reply = try await client.send("POST", "/v1/collections/\(collection)/rebuild",
                                                   body: RebuildBody(tenant: "tenant-0", reason: "bench rebuild")).succeeded()
        let job = try reply.decoded(JobStartedBody.self).jobID
        let finished = TimeMarks()
        async let load = searchLoad(corpus: corpus, client: client, collection: collection, until: finished)
        var state: JobBody
        repeat {
            try await Task.sleep(for: .milliseconds(100))
            state = try await client.send("GET", "/v1/jobs/\(job)").succeeded().decoded(JobBody.self)
        } while !state.isFinished
        let seconds = secondsSince(started)
        finished.record("done", at: 0)
        let result = try await load
        return RebuildReport(tenant: "tenant-0", documents: documents / tenants, state: state.state,
                             error: state.error, seconds: seconds, degradedSearches: result.degraded.count,
                             otherSearches: result.other, failedQueries: result.failed,
                             degradedP50Ms: percentile(result.degraded, 50), degradedP99Ms: percentile(result.degraded, 99),
                             degradedQPS: Double(result.degraded.count) / seconds)
    }

    /// `concurrency` clients sending hybrid searches over every tenant until `stop` holds
    /// "done": latencies of the degraded (BM25) answers, how many others, how many failed.
    func searchLoad(corpus: BenchCorpus, client: APIClient, collection: String, until stop: TimeMarks)
        async throws -> (degraded: [Double], other: Int, failed: Int) {
        try await withThrowingTaskGroup(of: ([Double], Int, Int).self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var degraded: [Double] = [], other = 0, failed = 0, index = worker
                    while !stop.contains("done") {
                        let body = corpus.query(index, mode: .hybrid)
                        index += concurrency
                        let sent = DispatchTime.now().uptimeNanoseconds
                        guard let answer = try? await client.send("POST", "/v1/collections/\(collection)/search", body: body),
                              answer.isSuccess else { failed += 1; continue }
                        if try answer.decoded(SearchResultBody.self).degraded { degraded.append(secondsSince(sent) * 1e3) } else { other += 1 }
                    }
                    return (degraded, other, failed)
                }
            }
            return try await group.reduce(into: ([], 0, 0)) { $0.0 += $1.0; $0.1 += $1.1; $0.2 += $1.2 }
        }
    }

    /// Snapshots the collection, ingests `lateDocuments` more into tenant-0, then rolls the
    /// whole collection back to the snapshot while `concurrency` clients search every tenant.
    func rollbackUnderLoad(corpus: BenchCorpus, client: APIClient, collection: String) async throws -> RollbackReport {
        let path = "/v1/collections/\(collection)"
        let snapshotStarted = DispatchTime.now().uptimeNanoseconds
        let snapshot = try await client.send("POST", path + "/snapshots").succeeded().decoded(SnapshotBody.self)
        let snapshotSeconds = secondsSince(snapshotStarted)
        let late = (0..<Self.lateDocuments).map { row -> NewDocumentBody in
            var document = corpus.document(row * tenants)
            document.id = "late-\(row)"
            return document
        }
        _ = try await client.send("POST", path + "/documents", body: IngestBody(documents: late)).succeeded()
        let finished = TimeMarks()
        async let load = searchLoad(corpus: corpus, client: client, collection: collection, until: finished)
        try await Task.sleep(for: .milliseconds(500))
        let started = DispatchTime.now().uptimeNanoseconds
        let reply = try await client.send("POST", path + "/rollback",
                                                   body: RollbackBody(snapshotID: snapshot.id, reason: "bench rollback")).succeeded()
        let clientSeconds = secondsSince(started)
        try await Task.sleep(for: .milliseconds(500))
        finished.record("done", at: 0)
        let result = try await load
        let outcome = try reply.decoded(RollbackResultBody.self)
        return RollbackReport(documents: snapshot.documents ?? 0, snapshotSeconds: snapshotSeconds,
                              rollbackServerSeconds: outcome.seconds, rollbackClientSeconds: clientSeconds, retired: outcome.retired,
                              rollbackPhases: outcome.phases, searches: result.other + result.degraded.count,
                              failedQueries: result.failed)
    }

    /// A quantile of `firebreak_quarantine_activation_seconds` from /metrics, as the upper
    /// bound of the histogram bucket that holds it, in ms.
    func serverActivation(_ client: APIClient, quantile: Double) async throws -> Double {
        let text = String(decoding: try await client.send("GET", "/metrics").body, as: UTF8.self)
        let buckets: [(bound: Double, count: Double)] = text.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("firebreak_quarantine_activation_seconds_bucket"),
                  let open = line.range(of: "le=\""), let close = line[open.upperBound...].firstIndex(of: "\""),
                  let count = Double(line.split(separator: " ").last ?? "") else { return nil }
            let bound = line[open.upperBound..<close]
            return (bound == "+Inf" ? .infinity : Double(bound) ?? .infinity, count)
        }.sorted { $0.bound < $1.bound }
        guard let total = buckets.last?.count, total > 0 else { return 0 }
        return (buckets.first { $0.count >= quantile * total }?.bound ?? .infinity) * 1e3
    }

    /// Runs `bodies` split over `clients` concurrent clients; per-request latencies in ms.
    func httpLatencies(_ bodies: [SearchBody], client: APIClient, collection: String,
                               clients: Int) async throws -> (latencies: [Double], seconds: Double) {
        let payloads = try bodies.map { try JSONEncoder.api.encode($0) }
        let started = DispatchTime.now().uptimeNanoseconds
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            for worker in 0..<clients {
                group.addTask {
                    var mine: [Double] = []
                    for index in stride(from: worker, to: payloads.count, by: clients) {
                        let sent = DispatchTime.now().uptimeNanoseconds
                        _ = try await client.send("POST", "/v1/collections/\(collection)/search", json: payloads[index]).succeeded()
                        mine.append(secondsSince(sent) * 1e3)
                    }
                    return mine
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        return (latencies, secondsSince(started))
    }

    /// Quarantines `quarantines` documents one by one while `concurrency` clients search for
    /// exactly those documents; counts answers sent after an acknowledged quarantine that
    /// still contain the document.
    func quarantineUnderLoad(corpus: BenchCorpus, client: APIClient, collection: String) async throws
        -> (idle: (activation: [Double], response: [Double]), activation: [Double], response: [Double], searches: Int, leaks: Int) {
        let targets = (0..<quarantines).map { $0 * (documents / quarantines) }
        let acknowledged = TimeMarks()
        // The first half with nothing else running, the second half under the search load.
        let idle = try await activate(Array(targets.prefix(targets.count / 2)), corpus: corpus, client: client,
                                      collection: collection, acknowledged: acknowledged)
        let stop = TimeMarks()
        let path = "/v1/collections/\(collection)/search"
        async let loadResult: (Int, Int) = withThrowingTaskGroup(of: (Int, Int).self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var searches = 0, leaks = 0, index = worker
                    while !stop.contains("stop") {
                        let row = targets[index % targets.count]
                        index += concurrency
                        let id = corpus.id(row)
                        let sent = DispatchTime.now().uptimeNanoseconds
                        let reply = try await client.send("POST", path, body: corpus.probe(row)).succeeded()
                        searches += 1
                        if let ackedAt = acknowledged.time(id), ackedAt < sent, try replyIDs(reply).contains(id) { leaks += 1 }
                    }
                    return (searches, leaks)
                }
            }
            return try await group.reduce(into: (0, 0)) { $0.0 += $1.0; $0.1 += $1.1 }
        }
        let (activation, response) = try await activate(Array(targets.dropFirst(targets.count / 2)), corpus: corpus,
                                                        client: client, collection: collection, acknowledged: acknowledged)
        stop.record("stop", at: 0)
        let (searches, leaks) = try await loadResult
        return (idle, activation, response, searches, leaks)
    }

    /// Quarantines each row's document, then searches for it at once: per row, the time to
    /// the acknowledgement and to the first answer without the document.
    func activate(_ rows: [Int], corpus: BenchCorpus, client: APIClient, collection: String,
                          acknowledged: TimeMarks) async throws -> (activation: [Double], response: [Double]) {
        var activation: [Double] = []
        var response: [Double] = []
        for row in rows {
            let id = corpus.id(row)
            let started = DispatchTime.now().uptimeNanoseconds
            _ = try await client.send("POST", "/v1/collections/\(collection)/quarantine",
                                               body: QuarantineBody(ids: [id], reason: "bench", tenant: corpus.tenant(row))).succeeded()
            acknowledged.record(id, at: DispatchTime.now().uptimeNanoseconds)
            response.append(secondsSince(started) * 1e3)
            let reply = try await client.send("POST", "/v1/collections/\(collection)/search", body: corpus.probe(row)).succeeded()
            guard try !replyIDs(reply).contains(id) else { throw CallError.unexpectedReply(request: "POST /v1/collections/\(collection)/search", field: "results: quarantined \(id) returned by the next search") }
            activation.append(secondsSince(started) * 1e3)
        }
        return (activation, response)
    }
}

