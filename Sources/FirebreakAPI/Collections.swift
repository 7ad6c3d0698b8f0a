import Foundation

// `/v1/collections`: create, describe, list.

public struct HNSWBody: Codable, Sendable {
    public var m: Int?
    public var efConstruction: Int?
    public var efSearch: Int?
    enum CodingKeys: String, CodingKey { case m, efConstruction = "ef_construction", efSearch = "ef_search" }

    public init(m: Int? = nil, efConstruction: Int? = nil, efSearch: Int? = nil) {
        self.m = m
        self.efConstruction = efConstruction
        self.efSearch = efSearch
    }
}

public struct CreateCollectionBody: Codable, Sendable {
    public var name: String
    public var dimension: Int
    public var metric: String
    public var hnsw: HNSWBody?

    public init(name: String, dimension: Int, metric: String, hnsw: HNSWBody? = nil) {
        self.name = name
        self.dimension = dimension
        self.metric = metric
        self.hnsw = hnsw
    }
}

public struct FlagBody: Codable, Sendable {
    public var flag: String
    public var tenant: String?

    public init(flag: String, tenant: String? = nil) {
        self.flag = flag
        self.tenant = tenant
    }
}

public struct LastScanBody: Codable, Sendable {
    public var at: String
    public var maxZ: Double
    enum CodingKeys: String, CodingKey { case at, maxZ = "max_z" }

    public init(at: String, maxZ: Double) {
        self.at = at
        self.maxZ = maxZ
    }
}

public struct CollectionBody: Codable, Sendable {
    public var name: String
    public var dimension: Int
    public var metric: String
    public var hnsw: HNSWBody
    public var mode: String
    public var activeSnapshot: String?
    public var documents: Int
    public var quarantined: Int
    public var tenants: [String]
    public var flags: [FlagBody]
    public var lastScan: LastScanBody?
    /// Why the collection refuses writes until a restart repairs it from PostgreSQL (a
    /// compensation failed, or a commit's outcome could not be learnt); absent while it takes them.
    public var writeRefusal: String?
    enum CodingKeys: String, CodingKey {
        case name, dimension, metric, hnsw, mode, documents, quarantined, tenants, flags
        case activeSnapshot = "active_snapshot", lastScan = "last_scan", writeRefusal = "write_refusal"
    }

    public init(name: String, dimension: Int, metric: String, hnsw: HNSWBody, mode: String, activeSnapshot: String? = nil,
                documents: Int, quarantined: Int, tenants: [String], flags: [FlagBody], lastScan: LastScanBody? = nil,
                writeRefusal: String? = nil) {
        self.name = name
        self.dimension = dimension
        self.metric = metric
        self.hnsw = hnsw
        self.mode = mode
        self.activeSnapshot = activeSnapshot
        self.documents = documents
        self.quarantined = quarantined
        self.tenants = tenants
        self.flags = flags
        self.lastScan = lastScan
        self.writeRefusal = writeRefusal
    }
}

public struct CollectionListBody: Codable, Sendable {
    public var collections: [CollectionBody]

    public init(collections: [CollectionBody]) {
        self.collections = collections
    }
}

