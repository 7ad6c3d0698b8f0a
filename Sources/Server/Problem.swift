import Engine
import FirebreakAPI
import Foundation
import HTTPTypes
import Hummingbird
import Incidents
import Store

/// An RFC 9457 problem: the only shape an error leaves the service in.
public struct Problem: Error, HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    /// A stable machine-readable code (`dimension_mismatch`); also the last part of `type`.
    public let code: ProblemCode
    public let detail: String
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, _ code: ProblemCode, _ detail: String) {
        self.status = status
        self.code = code
        self.detail = detail
    }

    var body: ProblemDetails {
        ProblemDetails(status: status.code, title: status.reasonPhrase, code: code.rawValue, detail: detail)
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var fields = headers
        fields[.contentType] = "application/problem+json"
        let data = (try? JSONEncoder.api.encode(body)) ?? Data()
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    // MARK: Mapping module errors

    /// The HTTP status of each engine error code.
    static func status(of code: EngineErrorCode) -> HTTPResponse.Status {
        switch code {
        case .invalidInput, .dimensionMismatch, .invalidVector, .queryTooLong, .invalidUTF8: return .badRequest
        case .unknownCollection, .unknownDocument, .unknownIncident, .unknownJob, .unknownSnapshot: return .notFound
        case .duplicateDocument, .duplicateCollection, .incidentClosed, .incidentNotResolvable, .forensicSnapshotRequired, .scanReportUnreadable, .documentQuarantined, .scanRequired, .jobFinished,
             .rebuildRunning, .snapshotInvalid, .noCleanSnapshot: return .conflict
        case .collectionFrozen: return HTTPResponse.Status(code: 423, reasonPhrase: "Locked")
        case .tenantBlocked: return .forbidden
        case .storeFailed, .busy, .collectionUnavailable: return .serviceUnavailable
        case .indexFailed: return .internalServerError
        }
    }

    init(_ error: EngineError) {
        self.init(Self.status(of: error.code), Self.code(of: error.code), error.message)
        if error.code == .busy { headers[.retryAfter] = "1" }
    }

    init(_ error: StoreError) {
        switch error.code {
        case .poolExhausted:
            self.init(.serviceUnavailable, .busy, error.message)
            headers[.retryAfter] = "1"
        case .invalidInput: self.init(.badRequest, .invalidInput, error.message)
        case .invalidData: self.init(.badRequest, .invalidData, error.message)
        case .constraintViolation: self.init(.badRequest, .constraintViolation, error.message)
        case .unknownReference: self.init(.notFound, .unknownReference, error.message)
        default: self.init(.serviceUnavailable, .storeUnavailable, "the database failed: \(error.code.rawValue)")
        }
    }

    /// The problem code of an engine or incident error: the same string, named once in
    /// `ProblemCode` (`ProblemCodeTests` checks that every case of both has one).
    static func code<Code: ErrorCode>(of code: Code) -> ProblemCode {
        guard let named = ProblemCode(rawValue: code.rawValue) else {
            preconditionFailure("error code \(code.rawValue) has no ProblemCode case")
        }
        return named
    }

    /// Any error, as a problem: typed errors by code; anything else is a 500 that names
    /// nothing internal.
    static func from(_ error: any Error) -> Problem {
        switch error {
        case let problem as Problem: return problem
        case let error as EngineError: return Problem(error)
        case let error as StoreError: return Problem(error)
        case let error as IncidentError:
            return Problem(error.code == .transitionNotAllowed || error.code == .actionNotVerified ? .conflict : .badRequest,
                           Self.code(of: error.code), error.message)
        case let error as HTTPResponseError:
            return Problem(error.status, error.status == .notFound ? .notFound : error.status == .contentTooLarge ? .bodyTooLarge : .httpError,
                           error.status == .contentTooLarge ? "the request body is larger than the configured limit"
                               : error.status.reasonPhrase)
        default: return Problem(.internalServerError, .internalError, "the service failed; the log has the details")
        }
    }
}
