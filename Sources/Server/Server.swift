// Server — the HTTP API that RAG services query through and retrieval owners steer.
//
// Owns: routes and the JSON contract (documented in openapi.json, served at /openapi.json),
// bearer-token authentication and role checks, tenant scoping of every request, idempotency
// of mutating requests, request limits, RFC 9457 problem details for every error, and the
// Prometheus metrics. Also the HTTP client the `firebreak` client commands use, and the
// incident console at /console (`Console/`: server-rendered pages on the same API functions).
//
// Never: searches or mutates state itself (the Engine does; the Server translates); answers
// a tenant-scoped token with another tenant's data; lets an error escape as an HTML page, a
// stack trace or a 5xx for bad input; acts twice on one Idempotency-Key.
//
// Invariants:
// - Every API response that is not 2xx is `application/problem+json` with `type`, `title`,
//   `status`, `detail` and a stable `code`. (The console under /console answers HTML pages
//   and 303 redirects instead; its errors name the same code.)
// - A mutating request either is refused before anything changes or its response is stored
//   under its Idempotency-Key.
// - A request's tenant is the token's tenant when the token is scoped; naming another is 403.

@_exported import Diagnostics
