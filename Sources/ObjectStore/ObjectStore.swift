// ObjectStore — a small S3 client: AWS Signature Version 4 and the calls snapshots need.
//
// Owns: request signing (`SigV4Signer`, pure and checked against AWS's published vectors),
// the S3 calls Firebreak uses (PUT with a SHA-256 checksum and optional `If-None-Match: *`,
// GET whole or by range, a streaming GET to a file that hashes as it writes, HEAD, DELETE,
// ListObjectsV2, and multipart upload), retries with bounded exponential backoff and jitter,
// and `S3Error`, whose codes name what S3 answered (`no_such_key`, `precondition_failed`,
// `signature_does_not_match`, `throttled`, …).
//
// Never: knows what a snapshot is (Snapshots builds on it); holds a whole large object in
// memory (uploads above `multipartThresholdBytes` go in parts of `partBytes`; downloads stream
// to disk); retries a request S3 refused for a reason a retry cannot fix (4xx other than
// throttling and timeouts); logs or prints a secret.
//
// Invariants:
// - The path and query a request is signed over are the exact strings sent on the wire
//   (`S3Request.encodedPath`, `encodedQuery`): one encoding, done once.
// - Every call blocks its thread until S3 answers or the deadline passes. Callers run them
//   on Dispatch threads (the engine's `BlockingWork`), never on the Swift concurrency pool.
