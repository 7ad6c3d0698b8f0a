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
    /// Collections on this replica that refuse writes until it is restarted (searches are still
    /// served, so `ready` does not depend on them).
    public var writeRefusals: [WriteRefusalBody]
    /// Collections start-up could not load: not served (503 `collection_unavailable`) until a
    /// restart loads them; the others serve, so `ready` does not depend on them either.
    public var unloadedCollections: [UnloadedCollectionBody]

    enum CodingKeys: String, CodingKey {
        case ready, appliedSeq = "applied_seq", headSeq = "head_seq", replica, database
        case collectionsLoaded = "collections_loaded", problem, writeRefusals = "write_refusals"
        case unloadedCollections = "unloaded_collections"
    }

    public init(ready: Bool, appliedSeq: Int64, headSeq: Int64, replica: String, database: Bool, collectionsLoaded: Bool,
                problem: String? = nil, writeRefusals: [WriteRefusalBody] = [], unloadedCollections: [UnloadedCollectionBody] = []) {
        self.ready = ready
        self.appliedSeq = appliedSeq
        self.headSeq = headSeq
        self.replica = replica
        self.database = database
        self.collectionsLoaded = collectionsLoaded
        self.problem = problem
        self.writeRefusals = writeRefusals
        self.unloadedCollections = unloadedCollections
    }
}

public struct UnloadedCollectionBody: Codable, Sendable, Equatable {
    public var collection: String
    public var reason: String

    public init(collection: String, reason: String) {
        self.collection = collection
        self.reason = reason
    }
}

public struct WriteRefusalBody: Codable, Sendable, Equatable {
    public var collection: String
    public var reason: String

    public init(collection: String, reason: String) {
        self.collection = collection
        self.reason = reason
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
