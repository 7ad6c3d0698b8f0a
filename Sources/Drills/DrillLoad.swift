import FirebreakAPI
import Foundation

/// Concurrent clients that query the drill's collection from start to end: golden queries
/// (their answer is known, for MRR) and probes aimed at the hubs. Every answer is kept, with
/// the wall-clock time its request was sent, so the drill can judge each phase afterwards.
final class DrillLoad: @unchecked Sendable {
    struct Query: Sendable {
        let body: Data
        /// The document that answers it (golden queries), nil for probes.
        let relevant: String?
    }

    struct Answer: Sendable {
        let sent: Date
        let ok: Bool
        let degraded: Bool
        let ids: [String]
        let relevant: String?
    }

    /// Answers kept at most (the drill stops recording beyond it).
    static let answersMax = 2_000_000

    private let lock = NSLock()
    private var answers: [Answer] = []
    private var stopped = false
    private var tasks: [Task<Void, Never>] = []

    func start(client: APIClient, path: String, queries: [Query], clients: Int) {
        precondition(!queries.isEmpty && clients >= 1, "validated by the drill")
        for worker in 0..<clients {
            let task = Task.detached { [self] in
                var next = worker
                while !isStopped {
                    let query = queries[next % queries.count]
                    next += clients
                    let sent = Date()
                    let reply = try? await client.send("POST", path, json: query.body)
                    record(Self.answer(reply, sent: sent, relevant: query.relevant))
                }
            }
            lock.withLock { tasks.append(task) }
        }
    }

    func stop() async {
        let running = lock.withLock { () -> [Task<Void, Never>] in
            stopped = true
            return tasks
        }
        for task in running { await task.value }
    }

    var recorded: [Answer] { lock.withLock { answers } }

    private var isStopped: Bool { lock.withLock { stopped } }

    private func record(_ answer: Answer) {
        lock.withLock { if answers.count < Self.answersMax { answers.append(answer) } }
    }

    private static func answer(_ reply: APIClient.Reply?, sent: Date, relevant: String?) -> Answer {
        guard let reply, reply.status == 200, let result = try? reply.decoded(SearchResultBody.self) else {
            return Answer(sent: sent, ok: false, degraded: false, ids: [], relevant: relevant)
        }
        return Answer(sent: sent, ok: true, degraded: result.degraded, ids: result.results.map(\.id), relevant: relevant)
    }
}
