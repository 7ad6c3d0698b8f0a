import CLibPQ

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
    /// in order, as it arrives (libpq's single-row mode: the result is never held whole, and
    /// the server keeps producing rows while `body` works). The result's columns must be
    /// exactly `columns` (a mismatch is `decoding_failed` before any row is handed over). A row
    /// is valid only during its call. Should `body` throw, the statement is cancelled and its
    /// remaining results drained, so the connection stays usable; the error is rethrown.
    public func forEachBinaryRow(_ sql: StaticString, _ parameters: [SQLValue], columns: [BinaryColumn],
                                 _ body: (BinaryRow) throws(StoreError) -> Void) throws(StoreError) {
        let sent = withParameterValues(parameters) { count, values in
            PQsendQueryParams(handle, sql.description, count, nil, values, nil, nil, 1)
        }
        guard sent == 1 else { throw connectionLost() }
        guard PQsetSingleRowMode(handle) == 1 else {
            drainResults()
            throw StoreError(.queryFailed, "libpq refused single-row mode for a binary read")
        }
        var failure: StoreError?, rowCount = 0, checked = false
        while let result = PQgetResult(handle) {
            defer { PQclear(result) }
            guard failure == nil else { continue }
            switch PQresultStatus(result) {
            case PGRES_SINGLE_TUPLE:
                do throws(StoreError) {
                    if !checked { try Self.check(result, columns: columns); checked = true }
                    rowCount += 1
                    guard rowCount <= Self.rowsMax else {
                        throw StoreError(.queryFailed, "more rows than the \(Self.rowsMax)-row limit of one statement")
                    }
                    try body(BinaryRow(result: result, row: 0))
                } catch {
                    failure = error
                    cancelRunningStatement()
                }
            case PGRES_TUPLES_OK:
                if !checked, PQnfields(result) > 0 {
                    do throws(StoreError) { try Self.check(result, columns: columns) } catch { failure = error }
                }
            default:
                failure = serverError(result)
            }
        }
        if let failure { throw failure }
    }

    private static func check(_ result: OpaquePointer, columns: [BinaryColumn]) throws(StoreError) {
        let found = (0..<PQnfields(result)).map { PQftype(result, $0) }
        guard found == columns.map(\.rawValue) else {
            throw StoreError(.decodingFailed, "a binary read expected column types \(columns.map(\.rawValue)), got \(found)")
        }
    }

    /// Asks the server to stop the statement in progress (its remaining rows are then read
    /// and dropped by the caller's result loop).
    private func cancelRunningStatement() {
        guard let cancel = PQgetCancel(handle) else { return }
        defer { PQfreeCancel(cancel) }
        var message = [CChar](repeating: 0, count: 256)
        _ = PQcancel(cancel, &message, Int32(message.count))
    }

    private func drainResults() {
        while let result = PQgetResult(handle) { PQclear(result) }
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
