import HNSW
import VectorMath

/// What a collection is: its name, vector shape and graph parameters. Immutable once created.
public struct CollectionConfiguration: Sendable, Equatable {
    public static let namePattern = "^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"

    /// The row id in `collections`.
    public var id: Int64
    public var name: String
    public var dimension: Int
    public var metric: Metric
    public var m: Int
    public var efConstruction: Int
    public var efSearch: Int

    public init(id: Int64 = 0, name: String, dimension: Int, metric: Metric,
                m: Int = 16, efConstruction: Int = 200, efSearch: Int = 64) {
        self.id = id
        self.name = name
        self.dimension = dimension
        self.metric = metric
        self.m = m
        self.efConstruction = efConstruction
        self.efSearch = efSearch
    }

    public var hnswParameters: HNSWParameters {
        HNSWParameters(dimension: dimension, metric: metric, m: m, efConstruction: efConstruction, efSearch: efSearch)
    }

    /// Throws `invalid_input` naming the first field out of range.
    public func validate() throws(EngineError) {
        guard Self.isValidName(name) else {
            throw EngineError(.invalidInput, "collection name must be 1-63 letters, digits, '_', '.' or '-', starting with a letter or digit")
        }
        do { try hnswParameters.validate() } catch {
            throw EngineError(.invalidInput, error.message)
        }
    }

    /// Names of collections and tenants: the same pattern the schema checks.
    public static func isValidName(_ name: String) -> Bool {
        name.range(of: namePattern, options: .regularExpression) != nil
    }
}
