@testable import Server
import Store
import XCTest

/// The running service's own database connections are `firebreak_service`, not the owner
/// that ran the migrations (issue 17): the timeline is append-only for the service itself.
final class ServerDatabaseRoleTests: XCTestCase {
    func testTheServerRunsAsTheServiceRoleAndCannotEditTheTimeline() async throws {
        let harness = try await Harness.start()
        let role = try await harness.server.pool.withConnection { try $0.query("SELECT current_user AS who")[0].string("who") }
        XCTAssertEqual(role, DatabaseRoles.service)
        let refused = try await harness.server.pool.withConnection { c -> StoreError.Code? in
            do throws(StoreError) {
                try c.query("UPDATE incident_events SET actor = 'mallory'")
                return nil
            } catch { return error.code }
        }
        XCTAssertEqual(refused, .insufficientPrivilege)
        try await harness.stop()
    }
}
