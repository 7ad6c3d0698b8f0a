import ArgumentParser
import Foundation
import ObjectStore
import Snapshots

/// `--snapshot-store` and its S3 settings, shared by `serve`, `doctor` and the benchmarks.
struct SnapshotStoreOptions: ParsableArguments {
    @Option(help: ArgumentHelp("""
        Where snapshots are kept: a folder, or s3://BUCKET/PREFIX for S3-compatible object storage \
        (or FIREBREAK_SNAPSHOT_STORE; default: <data-dir>/snapshots). S3 credentials come from \
        AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, the region from AWS_REGION \
        (default us-east-1).
        """, valueName: "dir-or-s3-url"))
    var snapshotStore: String?

    @Option(help: ArgumentHelp("The same as --snapshot-store with a folder (or FIREBREAK_SNAPSHOT_DIR).", visibility: .hidden))
    var snapshotDir: String?

    @Option(help: ArgumentHelp("""
        Endpoint of an S3-compatible store (MinIO, moto, Ceph: http://127.0.0.1:9000), addressed \
        path-style; without it, AWS (https://BUCKET.s3.REGION.amazonaws.com).
        """, valueName: "url"))
    var s3Endpoint: String?

    @Option(help: "Local folder where S3 snapshots are downloaded and verified before loading, and staged before upload (default: <tmp>/firebreak-s3-cache).")
    var s3Cache: String?

    /// The store named, or the folder `defaultFolder` when none is.
    func store(defaultFolder: @autoclosure () -> String,
               environment: [String: String] = ProcessInfo.processInfo.environment) throws -> any SnapshotStore {
        let named = snapshotStore ?? snapshotDir ?? environment["FIREBREAK_SNAPSHOT_STORE"] ?? environment["FIREBREAK_SNAPSHOT_DIR"]
        guard let named, named.hasPrefix("s3://") else {
            guard s3Endpoint == nil else { throw ValidationError("--s3-endpoint needs --snapshot-store s3://BUCKET/PREFIX") }
            return FolderSnapshotStore(root: named ?? defaultFolder())
        }
        guard let (bucket, prefix) = S3SnapshotStore.parse(named) else {
            throw ValidationError("--snapshot-store \(named): expected s3://BUCKET/PREFIX with a valid bucket name (3-63 of a-z 0-9 . -)")
        }
        var endpoint: URL?
        if let s3Endpoint {
            guard let url = URL(string: s3Endpoint), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
                throw ValidationError("--s3-endpoint \(s3Endpoint) is not an http(s) URL")
            }
            endpoint = url
        }
        let credentials: S3Credentials
        do { credentials = try S3Credentials.fromEnvironment(environment) } catch { throw ValidationError(error.message) }
        let region = environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? "us-east-1"
        let client = S3Client(S3Client.Configuration(bucket: bucket, region: region, credentials: credentials, endpoint: endpoint))
        let cache = s3Cache ?? FileManager.default.temporaryDirectory.appendingPathComponent("firebreak-s3-cache").path
        return S3SnapshotStore(client: client, prefix: prefix, cacheRoot: cache)
    }
}
