import Dispatch
import FirebreakAPI
import ServiceBench

/// The search load `bench ingest` keeps on a partition while it is rebuilt: vector-only
/// searches (as a RAG client sends them), one after another from each client, with the
/// documents' own embeddings as queries. A vector-only search during a rebuild is answered by
/// an exact scan, marked degraded; it must never fail nor come back empty.
struct RebuildSearchLoad {
    let client: APIClient
    let collection: String
    let queries: [[Float]]
    let clients: Int
    static let k = 10

    /// What the clients saw, from the rebuild's start (`started`) to `stop`.
    struct Outcome: Encodable {
        var clients: Int
        var searches: Int
        var failed: Int
        var empty: Int
        var degraded: Int
        var degradedP50Ms: Double
        var degradedP99Ms: Double
        var graphP50Ms: Double
        var graphP99Ms: Double
        /// From the rebuild's request to the first answer from the rebuilt graph (a search sent
        /// after the last degraded answer came back): how long clients were served degraded.
        var degradedForSeconds: Double?
    }

    private struct Answer {
        var sent: UInt64
        var received: UInt64
        var degraded: Bool
        var empty: Bool
    }

    func run(started: UInt64, until stop: TimeMarks) async -> Outcome {
        let answers: ([Answer], Int) = await withTaskGroup(of: ([Answer], Int).self) { group in
            for worker in 0..<clients {
                group.addTask { await searchUntil(stop, worker: worker) }
            }
            return await group.reduce(into: ([], 0)) { $0.0 += $1.0; $0.1 += $1.1 }
        }
        return outcome(answers.0, failed: answers.1, started: started)
    }

    private func searchUntil(_ stop: TimeMarks, worker: Int) async -> ([Answer], Int) {
        var answers: [Answer] = [], failed = 0, index = worker
        let path = "/v1/collections/\(collection)/search"
        while stop.time("done") == nil {
            let body = SearchBody(vector: queries[index % queries.count], k: Self.k, tenant: BenchIngestCommand.tenant)
            index += clients
            let sent = DispatchTime.now().uptimeNanoseconds
            guard let reply = try? await client.send("POST", path, body: body), reply.isSuccess,
                  let result = try? reply.decoded(SearchResultBody.self) else { failed += 1; continue }
            answers.append(Answer(sent: sent, received: DispatchTime.now().uptimeNanoseconds,
                                  degraded: result.degraded, empty: result.results.isEmpty))
        }
        return (answers, failed)
    }

    private func outcome(_ answers: [Answer], failed: Int, started: UInt64) -> Outcome {
        let milliseconds = { (answer: Answer) in Double(answer.received - answer.sent) / 1e6 }
        let degraded = answers.filter(\.degraded).map(milliseconds)
        let graph = answers.filter { !$0.degraded }.map(milliseconds)
        let lastDegraded = answers.filter(\.degraded).map(\.received).max()
        let servingAgain = lastDegraded.flatMap { last in answers.filter { !$0.degraded && $0.sent >= last }.map(\.sent).min() }
        return Outcome(clients: clients, searches: answers.count + failed, failed: failed, empty: answers.filter(\.empty).count,
                       degraded: degraded.count, degradedP50Ms: percentile(degraded, 50), degradedP99Ms: percentile(degraded, 99),
                       graphP50Ms: percentile(graph, 50), graphP99Ms: percentile(graph, 99),
                       degradedForSeconds: servingAgain.map { Double($0 - started) / 1e9 })
    }
}
