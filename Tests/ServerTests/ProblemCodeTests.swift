import Engine
import FirebreakAPI
import Incidents
@testable import Server
import Store
import XCTest

/// Every code the server can send is a `ProblemCode` case: the engine's and the incidents'
/// error codes pass through under the same string, the Store's are named explicitly.
final class ProblemCodeTests: XCTestCase {
    func testEveryEngineAndIncidentErrorCodeIsAProblemCode() {
        for code in EngineErrorCode.allCases {
            XCTAssertEqual(ProblemCode(rawValue: code.rawValue)?.rawValue, code.rawValue, "EngineErrorCode.\(code) has no ProblemCode")
            XCTAssertEqual(Problem(EngineError(code, "x")).code.rawValue, code.rawValue)
        }
        for code in IncidentErrorCode.allCases {
            XCTAssertEqual(ProblemCode(rawValue: code.rawValue)?.rawValue, code.rawValue, "IncidentErrorCode.\(code) has no ProblemCode")
            XCTAssertEqual(Problem.from(IncidentError(code, "x")).code.rawValue, code.rawValue)
        }
    }

    func testStoreErrorsAreNamedAndInternalOnesSayOnlyThatTheStoreFailed() {
        XCTAssertEqual(Problem(StoreError(.poolExhausted, "x")).code, .busy)
        XCTAssertEqual(Problem(StoreError(.unknownReference, "x")).code, .unknownReference)
        XCTAssertEqual(Problem(StoreError(.constraintViolation, "x")).code, .constraintViolation)
        let hidden = Problem(StoreError(.queryFailed, "SELECT secret FROM …"))
        XCTAssertEqual(hidden.code, .storeUnavailable)
        XCTAssertFalse(hidden.detail.contains("secret"), "a database message never reaches the client")
    }

    func testTheTypeURLAndTheDecodedCodeAgree() throws {
        let body = Problem(.conflict, .idempotencyKeyInUse, "still running").body
        XCTAssertEqual(body.type, "https://firebreak.dev/problems/idempotency-key-in-use")
        let decoded = try JSONDecoder.api.decode(ProblemDetails.self, from: try JSONEncoder.api.encode(body))
        XCTAssertEqual(decoded.problemCode, .idempotencyKeyInUse)
        let newer = ProblemDetails(status: 418, title: "Teapot", code: "brand_new", detail: "from a newer service")
        XCTAssertNil(newer.problemCode, "a code this build does not name still decodes, as text")
    }
}
