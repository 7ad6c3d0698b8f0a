import FirebreakAPI

// The benchmarks' (`bench replicas`) way of asking for a success: the shared typed check.

/// The reply if it succeeded; `CallError.refused` naming its status and problem otherwise.
func expectSuccess(_ reply: APIClient.Reply) throws -> APIClient.Reply {
    try reply.succeeded()
}
