// Diagnostics — the one shape of a typed error.
//
// Owns: `CodedError`, a stable machine-readable code plus a message for humans. Each module
// declares its own code enum and `typealias XError = CodedError<XErrorCode>`, so every module
// still has one error type of its own and callers switch on codes, never on messages.
//
// Never: depends on anything; carries module-specific payloads (Store's SQLSTATE and
// Snapshots' file name have error types of their own).

/// A module's error codes: stable strings, part of the API (`"dimension_mismatch"`).
public protocol ErrorCode: RawRepresentable, Hashable, Sendable where RawValue == String {}

/// An error with a stable `code` and a human `message`. Switch on `code`, never on `message`.
public struct CodedError<Codes: ErrorCode>: Error, Equatable, CustomStringConvertible, Sendable {
    /// The module's code enum, so that callers can write `HNSWError.Code`.
    public typealias Code = Codes

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
