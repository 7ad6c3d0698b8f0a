import Foundation

// `/readyz` and `/v1/replicas`.

public struct ReadinessBody: Codable, Sendable {
    public var ready: Bool
    public var appliedSeq: Int64
    public var headSeq: Int64
    public var replica: String
    public var database: Bool
    public var collectionsLoaded: Bool
    public var problem: String?

    enum CodingKeys: String, CodingKey {
        case ready, appliedSeq = "applied_seq", headSeq = "head_seq", replica, database
        case collectionsLoaded = "collections_loaded", problem
    }

    public init(ready: Bool, appliedSeq: Int64, headSeq: Int64, replica: String, database: Bool, collectionsLoaded: Bool,
                problem: String? = nil) {
        self.ready = ready
        self.appliedSeq = appliedSeq
        self.headSeq = headSeq
        self.replica = replica
        self.database = database
        self.collectionsLoaded = collectionsLoaded
        self.problem = problem
    }
}

public struct ReplicaBody: Codable, Sendable {
    public var name: String
    public var appliedSeq: Int64
    public var silentSeconds: Double
    public var live: Bool
    public var problem: String?

    enum CodingKeys: String, CodingKey {
        case name, appliedSeq = "applied_seq", silentSeconds = "silent_seconds", live, problem
    }

    public init(name: String, appliedSeq: Int64, silentSeconds: Double, live: Bool, problem: String? = nil) {
        self.name = name
        self.appliedSeq = appliedSeq
        self.silentSeconds = silentSeconds
        self.live = live
        self.problem = problem
    }
}

public struct ReplicasBody: Codable, Sendable {
    public var replicas: [ReplicaBody]

    public init(replicas: [ReplicaBody]) {
        self.replicas = replicas
    }
}
