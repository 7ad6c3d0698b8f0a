import CLibPQ
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One libpq connection. Not thread-safe: use it from one thread at a time (the pool
/// guarantees that). Every call blocks until the server answers.
public final class Connection {
    let handle: OpaquePointer
    /// Rows one statement may return before it is refused (a guard against unbounded reads).
    public static let rowsMax = 10_000_000

    public init(_ conninfo: String) throws(StoreError) {
        guard let handle = PQconnectdb(conninfo) else {
            throw StoreError(.connectionFailed, "libpq could not allocate a connection")
        }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(handle)).trimmingCharacters(in: .whitespacesAndNewlines)
            PQfinish(handle)
            throw StoreError(.connectionFailed, message)
        }
        self.handle = handle
        // Notices ("already exists, skipping") are for humans at a psql prompt, not logs.
        try query("SET client_min_messages TO warning")
    }

    deinit { PQfinish(handle) }

    public var isHealthy: Bool { PQstatus(handle) == CONNECTION_OK }

    /// Whether the connection can be handed to the next borrower: healthy, and idle (no
    /// transaction left open, no statement or COPY still in progress).
    var isReusable: Bool { isHealthy && PQtransactionStatus(handle) == PQTRANS_IDLE }

    /// Runs one parameterised statement and returns its rows. The SQL is a literal; values
    /// travel separately as `$1, $2, …` (text format) and can never change the statement.
    @discardableResult
    public func query(_ sql: StaticString, _ parameters: [SQLValue] = []) throws(StoreError) -> [Row] {
        try run(sql.description, parameters)
    }

    /// Runs a script of several statements without parameters. Internal: only the migration
    /// files shipped with Firebreak come through here.
    func runScript(_ script: String) throws(StoreError) {
        guard let result = PQexec(handle, script) else { throw connectionLost() }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else { throw serverError(result) }
    }

    /// Calls `body` with the parameters as libpq takes them: one C string per value in text
    /// format (NULL for SQL NULL), valid only during the call.
    func withParameterValues<T>(_ parameters: [SQLValue], _ body: (Int32, UnsafePointer<UnsafePointer<CChar>?>?) -> T) -> T {
        let cStrings: [UnsafeMutablePointer<CChar>?] = parameters.map { $0.wireText.map { strdup($0) } ?? nil }
        defer { cStrings.forEach { free($0) } }
        return cStrings.map { UnsafePointer($0) }.withUnsafeBufferPointer { body(Int32($0.count), $0.baseAddress) }
    }

    private func run(_ sql: String, _ parameters: [SQLValue]) throws(StoreError) -> [Row] {
        let result: OpaquePointer? = withParameterValues(parameters) { count, values in
            PQexecParams(handle, sql, count, nil, values, nil, nil, 0)
        }
        guard let result else { throw connectionLost() }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK: return []
        case PGRES_TUPLES_OK: return try rows(of: result)
        default: throw serverError(result)
        }
    }

    /// Bytes handed to libpq per `PQputCopyData` call.
    static let copyChunkBytesMax = 1 << 20
    /// Results read after a COPY before giving up on the connection (one is normal).
    static let copyResultsMax = 16

    /// Runs a `COPY … FROM STDIN` statement with `data` as its input, blocking until the
    /// server has taken all of it. A refused row (a constraint, a bad value) fails the whole
    /// statement with the server's error; inside a transaction nothing of it remains.
    public func copyIn(_ sql: StaticString, data: [UInt8]) throws(StoreError) {
        guard let started = PQexec(handle, sql.description) else { throw connectionLost() }
        guard PQresultStatus(started) == PGRES_COPY_IN else {
            defer { PQclear(started) }
            throw serverError(started)
        }
        PQclear(started)
        var sent = true
        data.withUnsafeBufferPointer { buffer in
            var offset = 0
            while sent && offset < buffer.count {
                let count = min(Self.copyChunkBytesMax, buffer.count - offset)
                let chunk = UnsafeRawPointer(buffer.baseAddress! + offset).assumingMemoryBound(to: CChar.self)
                sent = PQputCopyData(handle, chunk, Int32(count)) == 1
                offset += count
            }
        }
        // Ending with an error message makes the server abort the COPY, so a half-sent
        // input is never taken as a whole one.
        let ended = sent ? PQputCopyEnd(handle, nil) : PQputCopyEnd(handle, "the client could not send the whole input")
        // Every result is read, whatever failed, so the connection is never left mid-COPY.
        var failure: StoreError?
        for _ in 0..<Self.copyResultsMax {
            guard let result = PQgetResult(handle) else { break }
            if PQresultStatus(result) != PGRES_COMMAND_OK, failure == nil { failure = serverError(result) }
            PQclear(result)
        }
        if !sent || ended != 1 { throw connectionLost() }
        if let failure { throw failure }
    }

    func rows(of result: OpaquePointer) throws(StoreError) -> [Row] {
        let rowCount = Int(PQntuples(result)), columnCount = Int(PQnfields(result))
        guard rowCount <= Self.rowsMax else {
            throw StoreError(.queryFailed, "\(rowCount) rows exceed the \(Self.rowsMax)-row limit of one statement")
        }
        var columns: [String: Int] = [:]
        for column in 0..<columnCount { columns[String(cString: PQfname(result, Int32(column)))] = column }
        return (0..<rowCount).map { row in
            let values: [String?] = (0..<columnCount).map { column in
                PQgetisnull(result, Int32(row), Int32(column)) == 1
                    ? nil : String(cString: PQgetvalue(result, Int32(row), Int32(column)))
            }
            return Row(columns: columns, values: values)
        }
    }

    func serverError(_ result: OpaquePointer) -> StoreError {
        let message = String(cString: PQresultErrorMessage(result)).trimmingCharacters(in: .whitespacesAndNewlines)
        let sqlstate = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
        return StoreError.server(message.isEmpty ? "the statement failed" : message, sqlstate: sqlstate)
    }

    func connectionLost() -> StoreError {
        StoreError(.connectionFailed, String(cString: PQerrorMessage(handle)).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    // MARK: Transactions

    /// How a transaction sees concurrent commits.
    public enum Isolation: Sendable {
        /// Each statement sees what was committed before it began (PostgreSQL's default).
        case readCommitted
        /// Every statement sees one snapshot, taken at the first: a consistent read of many tables.
        case repeatableRead
    }

    /// Transactions open on this connection (nested calls join the outermost one).
    private var transactionDepth = 0
    #if DEBUG || FIREBREAK_INVARIANTS
    /// A test's failpoint for the next outermost COMMIT (`armCommitFault`).
    var commitFault: CommitFault?
    #endif

    /// Whether a transaction is open on this connection.
    public var inTransaction: Bool { transactionDepth > 0 }

    /// Runs `body` in a transaction: COMMIT when it returns, ROLLBACK when it throws.
    /// `settings` become transaction-local configuration (`set_config(name, value, true)`),
    /// e.g. `["firebreak.tenant": "acme"]` for row-level security.
    ///
    /// Called inside an open transaction it joins it (no savepoint): the outermost call
    /// commits, and an error thrown anywhere inside rolls the whole transaction back. That is
    /// how a record's own transaction and the change-log append become one.
    public func transaction<T>(settings: [String: String] = [:], isolation: Isolation = .readCommitted,
                               _ body: (Connection) throws -> T) throws -> T {
        let outermost = transactionDepth == 0
        if outermost {
            switch isolation {
            case .readCommitted: try query("BEGIN")
            case .repeatableRead: try query("BEGIN ISOLATION LEVEL REPEATABLE READ")
            }
        }
        transactionDepth += 1
        defer { transactionDepth -= 1 }
        do {
            for (name, value) in settings.sorted(by: { $0.key < $1.key }) {
                try query("SELECT set_config($1, $2, true)", [.text(name), .text(value)])
            }
            let value = try body(self)
            if outermost { try commit() }
            return value
        } catch {
            if outermost { _ = try? query("ROLLBACK") }
            throw error
        }
    }

    /// COMMIT. A failure that leaves the connection broken (or has no SQLSTATE) is
    /// `commitUnknown`: the server may have committed before the answer was lost.
    private func commit() throws(StoreError) {
        switch takeCommitFault() {
        case .refused?:
            _ = try? query("ROLLBACK")
            throw StoreError(.connectionFailed, "injected fault: the commit was refused")
        case .answerLost?:
            try query("COMMIT")
            throw StoreError(.commitUnknown, "injected fault: the commit's answer was lost")
        case nil:
            break
        }
        do {
            try query("COMMIT")
        } catch where !isHealthy || error.sqlstate == nil || error.sqlstate?.hasPrefix("08") == true {
            throw StoreError(.commitUnknown, "COMMIT got no answer (\(error.message)): the transaction may have committed",
                             sqlstate: error.sqlstate)
        }
    }

    // MARK: LISTEN / NOTIFY

    public struct Notification: Sendable, Equatable {
        public let channel: String
        public let payload: String

        public init(channel: String, payload: String) {
            self.channel = channel
            self.payload = payload
        }
    }

    /// Subscribes this connection to `channel` (a literal identifier).
    public func listen(_ channel: StaticString) throws(StoreError) {
        try runScript("LISTEN \(channel)")
    }

    public func notify(_ channel: String, payload: String) throws(StoreError) {
        try query("SELECT pg_notify($1, $2)", [.text(channel), .text(payload)])
    }

    /// Waits up to `timeout` seconds for a notification on any channel this connection listens to.
    public func nextNotification(timeout: Double) throws(StoreError) -> Notification? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            guard PQconsumeInput(handle) == 1 else { throw connectionLost() }
            if let notify = PQnotifies(handle) {
                defer { PQfreemem(notify) }
                return Notification(channel: String(cString: notify.pointee.relname),
                                    payload: String(cString: notify.pointee.extra))
            }
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { return nil }
            var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
            _ = poll(&descriptor, 1, Int32(min(remaining, 1) * 1000) + 1)
        }
    }
}
