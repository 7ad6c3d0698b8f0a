extension ServiceBench {
    public struct ModeReport: Encodable {
        public let inProcessP50Ms, inProcessP99Ms, httpP50Ms, httpP99Ms, overheadP50Ms: Double
        public let concurrentP50Ms, concurrentP99Ms, concurrentQPS: Double
    }

    public struct Report: Encodable {
        public let documents, dimension, tenants, concurrency: Int
        public let ingestDocumentsPerSecond: Double
        public let search: [String: ModeReport]
        /// Client-observed, with nothing else running: request sent → answer without the document.
        public let quarantineActivationIdleP50Ms, quarantineActivationIdleP99Ms: Double
        /// The same under the concurrent search load.
        public let quarantineActivationP50Ms, quarantineActivationP99Ms: Double
        public let quarantineResponseP50Ms, quarantineResponseP99Ms: Double
        /// Server-side, request arrival → filters cleared, from the Prometheus histogram
        /// (upper bucket bounds, all quarantines of the run).
        public let serverActivationP50MsAtMost, serverActivationP99MsAtMost: Double
        public let quarantines: Int
        public let searchesUnderLoad: Int
        public let quarantinedReturnedUnderLoad: Int
        public let rebuild: RebuildReport
        public let rollback: RollbackReport
    }

    /// Snapshot of the whole collection, then a rollback to it under search load.
    public struct RollbackReport: Encodable {
        public let documents: Int
        public let snapshotSeconds: Double
        /// Request arrival → restored partitions serving (the service's own measure).
        public let rollbackServerSeconds: Double
        public let rollbackClientSeconds: Double
        public let retired: Int
        /// The service's own breakdown: load (verify + load files), commit, swap.
        public let rollbackPhases: [String: Double]
        public let searches, failedQueries: Int
    }

    public struct RebuildReport: Encodable {
        public let tenant: String
        public let documents: Int
        public let state: String
        public let error: String?
        public let seconds: Double
        /// Searches of the rebuilding tenant (answered by BM25) and of the others, during it.
        public let degradedSearches, otherSearches, failedQueries: Int
        public let degradedP50Ms, degradedP99Ms, degradedQPS: Double
    }
}
