import CLibPQ
#if canImport(Glibc)
import Glibc
#endif

/// Bulk reads in PostgreSQL's binary result format. The text format spells every `real` of an
/// embedding in decimal (or a `bytea` in hex) and copies each value into a `String`; here a
/// row's columns are read in place from libpq's result, so loading a collection's vectors
/// costs a byte swap per float.
extension Connection {
    /// The column types a binary read understands, by PostgreSQL type OID (`pg_type.oid`).
    public enum BinaryColumn: UInt32, Sendable {
        case int8 = 20
        case text = 25
        case realArray = 1021
    }

    /// Runs one parameterised statement with binary results and hands each row to `body`,
    /// in order. The result's columns must be exactly `columns` (a mismatch is
    /// `decoding_failed` before any row is read). A row is valid only during its call.
    public func forEachBinaryRow(_ sql: StaticString, _ parameters: [SQLValue], columns: [BinaryColumn],
                                 _ body: (BinaryRow) throws(StoreError) -> Void) throws(StoreError) {
        let texts = parameters.map(\.wireText)
        let cStrings: [UnsafeMutablePointer<CChar>?] = texts.map { $0.map { strdup($0) } ?? nil }
        defer { cStrings.forEach { free($0) } }
        let result: OpaquePointer? = cStrings.map { UnsafePointer($0) }.withUnsafeBufferPointer { values in
            PQexecParams(handle, sql.description, Int32(values.count), nil, values.baseAddress, nil, nil, 1)
        }
        guard let result else { throw connectionLost() }
        defer { PQclear(result) }
        guard PQresultStatus(result) == PGRES_TUPLES_OK else { throw serverError(result) }
        let found = (0..<PQnfields(result)).map { PQftype(result, $0) }
        guard found == columns.map(\.rawValue) else {
            throw StoreError(.decodingFailed, "a binary read expected column types \(columns.map(\.rawValue)), got \(found)")
        }
        let rowCount = Int(PQntuples(result))
        guard rowCount <= Self.rowsMax else {
            throw StoreError(.queryFailed, "\(rowCount) rows exceed the \(Self.rowsMax)-row limit of one statement")
        }
        for row in 0..<Int32(rowCount) { try body(BinaryRow(result: result, row: row)) }
    }
}

/// One row of a binary result, read in place: never keep it (or a buffer it returns) past
/// the `forEachBinaryRow` call that produced it. Columns are addressed by position (the
/// statement beside the call names them); a NULL where a value is required is `decoding_failed`.
public struct BinaryRow {
    let result: OpaquePointer
    let row: Int32

    /// The column's bytes as the server sent them (big-endian numbers, UTF-8 text).
    public func bytes(_ column: Int32) throws(StoreError) -> UnsafeRawBufferPointer {
        guard PQgetisnull(result, row, column) == 0 else {
            throw StoreError(.decodingFailed, "column \(column) of a binary read is NULL")
        }
        let length = Int(PQgetlength(result, row, column))
        return UnsafeRawBufferPointer(start: PQgetvalue(result, row, column), count: length)
    }

    public func int64(_ column: Int32) throws(StoreError) -> Int64 {
        let bytes = try bytes(column)
        guard bytes.count == 8 else { throw StoreError(.decodingFailed, "column \(column): \(bytes.count) bytes for an int8") }
        return Int64(bigEndian: bytes.loadUnaligned(as: Int64.self))
    }

    public func string(_ column: Int32) throws(StoreError) -> String {
        String(decoding: try bytes(column), as: UTF8.self)
    }
}
