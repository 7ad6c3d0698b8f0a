/// A collection row: its shape and graph parameters.
public struct CollectionRecord: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var dimension: Int
    /// "cosine", "ip" or "l2".
    public var metric: String
    public var m: Int
    public var efConstruction: Int
    public var efSearch: Int

    public init(id: Int64 = 0, name: String, dimension: Int, metric: String, m: Int, efConstruction: Int, efSearch: Int) {
        self.id = id
        self.name = name
        self.dimension = dimension
        self.metric = metric
        self.m = m
        self.efConstruction = efConstruction
        self.efSearch = efSearch
    }
}

/// Collections and tenants.
public enum CollectionRecords {
    /// Creates a collection; a taken name is `constraint_violation`. Returns it with its id.
    public static func create(_ record: CollectionRecord, on connection: Connection) throws -> CollectionRecord {
        let id = try connection.query("""
            INSERT INTO collections (name, dimension, metric, hnsw_m, hnsw_ef_construction, hnsw_ef_search)
            VALUES ($1, $2, $3, $4, $5, $6) RETURNING id
            """, [.text(record.name), .integer(Int64(record.dimension)), .text(record.metric), .integer(Int64(record.m)),
                  .integer(Int64(record.efConstruction)), .integer(Int64(record.efSearch))])[0].integer("id")
        var created = record
        created.id = id
        return created
    }

    /// Every collection, by id.
    public static func all(on connection: Connection) throws -> [CollectionRecord] {
        try connection.query("""
            SELECT id, name, dimension, metric, hnsw_m, hnsw_ef_construction, hnsw_ef_search FROM collections ORDER BY id
            """).map { row in
            CollectionRecord(id: try row.integer("id"), name: try row.string("name"), dimension: Int(try row.integer("dimension")),
                             metric: try row.string("metric"), m: Int(try row.integer("hnsw_m")),
                             efConstruction: Int(try row.integer("hnsw_ef_construction")),
                             efSearch: Int(try row.integer("hnsw_ef_search")))
        }
    }

    /// Creates the tenants that do not exist yet (inside the caller's transaction).
    public static func ensureTenants(_ names: some Sequence<String>, on connection: Connection) throws {
        for name in Set(names).sorted() {
            try connection.query("INSERT INTO tenants (name) VALUES ($1) ON CONFLICT (name) DO NOTHING", [.text(name)])
        }
    }

    /// The newest scan report's time and highest z of a collection, if it was ever scanned.
    public static func lastScan(collectionID: Int64, on connection: Connection) throws -> (at: String, maxZ: Double)? {
        guard let row = try connection.query("""
            SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at, max_z
            FROM scan_reports WHERE collection_id = $1 AND NOT (report ? 'snapshot_id') ORDER BY created_at DESC LIMIT 1
            """, [.integer(collectionID)]).first else { return nil }
        return (try row.string("at"), try row.real("max_z"))
    }
}
