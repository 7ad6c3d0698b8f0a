import FirebreakAPI
import FirebreakTestSupport
import Foundation
import Incidents
import ObjectStore
import XCTest

/// Runs the built `firebreak` binary as a user would and checks its JSON contract.
final class FirebreakCLITests: XCTestCase {
    /// `firebreak serve` on a fresh embedded PostgreSQL, driven by the client commands, then
    /// stopped with SIGTERM (a clean exit that also stops the PostgreSQL it started).
    func testServeAndClientCommands() throws {
        let data = "/tmp/firebreak-cli-serve-\(getpid())"
        let token = "fbk_cli_test_admin"
        let (server, base) = try serve(data: data, token: token)
        defer { stopServing(server, data: data) }
        let env = ["FIREBREAK_URL": base, "FIREBREAK_TOKEN": token]
        XCTAssertEqual(try firebreak(["collections", "create", "docs", "--dimension", "3"], environment: env).status, 0)
        // For people, a reply is laid out one member per line, every value as the service sent it.
        let shown = try firebreak(["collections", "show", "docs"], environment: env)
        XCTAssertTrue(shown.stdout.contains("\n  \"dimension\": 3,\n"), shown.stdout)
        XCTAssertTrue(shown.stdout.contains("\"flags\": [],"), shown.stdout)
        XCTAssertNotNil(try? JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)), "still JSON: \(shown.stdout)")
        let file = NSTemporaryDirectory() + "firebreak-cli-docs-\(getpid()).jsonl"
        defer { unlink(file) }
        try """
            {"id":"a","text":"red apples","embedding":[1,0,0]}
            {"id":"b","text":"green pears","embedding":[0,1,0]}
            {"id":"c","text":"red cherries","embedding":[0.9,0.1,0]}
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let ingest = try firebreak(["ingest", file, "--collection", "docs", "--tenant", "acme"], environment: env)
        XCTAssertEqual(ingest.status, 0, ingest.stderr)
        XCTAssertTrue(ingest.stderr.contains("3/3 documents"), ingest.stderr)
        let search = try firebreak(["search", "--collection", "docs", "--tenant", "acme", "--vector", "1,0,0", "--json"], environment: env)
        XCTAssertEqual(search.status, 0, search.stderr)
        XCTAssertEqual((search.json?["results"] as? [[String: Any]])?.first?["id"] as? String, "a")
        let ingestedSeq = try XCTUnwrap(ingest.stdout.range(of: #"visible from seq [0-9]+"#, options: .regularExpression)
            .flatMap { Int(ingest.stdout[$0].split(separator: " ").last ?? "") }, "ingest prints its seq: \(ingest.stdout)")
        let quarantine = try firebreak(["quarantine", "--collection", "docs", "a", "--reason", "hub", "--wait-all", "--json"],
                                       environment: env)
        XCTAssertEqual(quarantine.status, 0, quarantine.stderr)
        XCTAssertEqual(quarantine.json?["quarantined"] as? [String], ["a"])
        let seq = try XCTUnwrap(quarantine.json?["seq"] as? Int, quarantine.stdout)
        XCTAssertGreaterThan(seq, ingestedSeq)
        XCTAssertEqual((quarantine.json?["replicas"] as? [String: [String]])?["applied"], ["replica-1"], quarantine.stdout)
        let after = try firebreak(["search", "--collection", "docs", "--tenant", "acme", "--query", "red", "--min-seq", String(seq),
                                   "--json"], environment: env)
        XCTAssertEqual((after.json?["results"] as? [[String: Any]])?.compactMap { $0["id"] as? String }, ["c"])
        // The incident commands work over HTTP too (--url / FIREBREAK_URL): the quarantine's incident.
        let incident = try XCTUnwrap(quarantine.json?["incident_id"] as? String)
        let decided = try firebreak(["incident", "decide", incident, "--what", "keep a quarantined", "--why", "hub"], environment: env)
        XCTAssertEqual(decided.status, 0, decided.stderr)
        let verified = try firebreak(["incident", "verify", incident], environment: env)
        XCTAssertEqual(verified.status, 0, verified.stderr)
        // declared, quarantine, decision, and the blast radius (recorded off the response path, so maybe not yet).
        XCTAssertTrue(verified.stdout.contains("3 events, chain intact") || verified.stdout.contains("4 events, chain intact"),
                      verified.stdout)
        let postmortem = try firebreak(["incident", "export", incident, "--format", "markdown"], environment: env)
        XCTAssertTrue(postmortem.stdout.contains("keep a quarantined"), postmortem.stdout)
        // Two batches are in flight; a refused batch stops the run and names the rows that are in.
        let partial = NSTemporaryDirectory() + "firebreak-cli-partial-\(getpid()).jsonl"
        defer { unlink(partial) }
        try (0..<6).map { #"{"id":"p\#($0)","text":"blue \#($0)","embedding":\#($0 == 2 ? "[1,0]" : "[0,0,1]")}"# }
            .joined(separator: "\n").write(toFile: partial, atomically: true, encoding: .utf8)
        let failed = try firebreak(["ingest", partial, "--collection", "docs", "--tenant", "acme", "--batch", "1"], environment: env)
        XCTAssertNotEqual(failed.status, 0)
        XCTAssertTrue(failed.stderr.contains("rows 2..<3 failed (rows ingested: 0..<2"), failed.stderr)
        XCTAssertTrue(failed.stderr.contains(" left"), "progress shows the time left: \(failed.stderr)")
        // The file is streamed: a malformed line deep in it stops the run there, naming its line
        // and the rows already in (blank lines count for the line number, not as rows).
        let malformed = NSTemporaryDirectory() + "firebreak-cli-malformed-\(getpid()).jsonl"
        defer { unlink(malformed) }
        try ((0..<3).map { #"{"id":"m\#($0)","text":"green \#($0)","embedding":[0,1,0]}"# } + ["", "{not json"])
            .joined(separator: "\n").write(toFile: malformed, atomically: true, encoding: .utf8)
        let halted = try firebreak(["ingest", malformed, "--collection", "docs", "--tenant", "acme", "--batch", "1"], environment: env)
        XCTAssertNotEqual(halted.status, 0)
        XCTAssertTrue(halted.stderr.contains("(rows ingested: 0..<3): \(malformed):5:"), halted.stderr)
        let fetched = try firebreak(["api", "GET", "/v1/collections/docs/documents/p1?tenant=acme"], environment: env)
        XCTAssertEqual(fetched.status, 0, fetched.stdout + fetched.stderr)
        XCTAssertTrue(fetched.stdout.contains(#""text":"blue 1""#), fetched.stdout)
        let refused = try firebreak(["search", "--collection", "docs", "--query", "red", "--token", "fbk_nobody"], environment: env)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("401 unauthorized"), refused.stderr)
        kill(server.pid, SIGTERM)
        let stopped = server.wait()
        XCTAssertEqual(stopped.status, 0, stopped.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: data + "/pgdata/postmaster.pid"),
                       "serve stops the embedded PostgreSQL it started")
    }

    /// `doctor` checks an S3 snapshot store; `serve --snapshot-store s3://…` publishes the
    /// service's snapshots there and `snapshots list` names them; a bad store URL is refused.
    func testSnapshotsGoToAnS3BucketAndDoctorChecksIt() throws {
        let moto = try MotoS3.shared()
        let prefix = "cli-\(UUID().uuidString.prefix(8))"
        let store = ["--snapshot-store", "s3://\(moto.bucket)/\(prefix)", "--s3-endpoint", moto.endpoint.absoluteString]
        let aws = ["AWS_ACCESS_KEY_ID": moto.accessKeyID, "AWS_SECRET_ACCESS_KEY": moto.secretAccessKey, "AWS_REGION": moto.region]
        let doctor = try firebreak(["doctor", "--size", "64", "--json"] + store, environment: aws)
        XCTAssertEqual(doctor.status, 0, doctor.stderr)
        XCTAssertEqual((doctor.json?["snapshot_store"] as? [String: Any])?["ok"] as? Bool, true, doctor.stdout)
        let wrong = try firebreak(["doctor", "--size", "64", "--strict"] + store,
                                  environment: aws.merging(["AWS_SECRET_ACCESS_KEY": "wrong"]) { $1 })
        XCTAssertEqual(wrong.status, 1, wrong.stdout + wrong.stderr)
        XCTAssertTrue(wrong.stdout.contains("signature_does_not_match"), wrong.stdout)
        let noCredentials = try firebreak(["doctor", "--size", "64"] + store, environment: ["AWS_ACCESS_KEY_ID": ""])
        XCTAssertNotEqual(noCredentials.status, 0)
        XCTAssertTrue(noCredentials.stderr.contains("AWS_ACCESS_KEY_ID"), noCredentials.stderr)
        let badURL = try firebreak(["serve", "--snapshot-store", "s3://Bad_Bucket/x"], environment: aws)
        XCTAssertEqual(badURL.status, 64, badURL.stderr)
        XCTAssertTrue(badURL.stderr.contains("valid bucket name"), badURL.stderr)

        let data = "/tmp/firebreak-cli-s3-\(getpid())"
        let token = "fbk_cli_test_admin"
        let (server, base) = try serve(data: data, token: token, arguments: store, environment: aws)
        defer { stopServing(server, data: data) }
        XCTAssertTrue(server.read(".err").contains("snapshots are kept in s3://\(moto.bucket)/\(prefix)"), server.read(".err"))
        let env = ["FIREBREAK_URL": base, "FIREBREAK_TOKEN": token]
        XCTAssertEqual(try firebreak(["collections", "create", "docs", "--dimension", "3"], environment: env).status, 0)
        let file = NSTemporaryDirectory() + "firebreak-cli-s3-docs-\(getpid()).jsonl"
        defer { unlink(file) }
        try #"{"id":"a","text":"red apples","embedding":[1,0,0]}"#.write(toFile: file, atomically: true, encoding: .utf8)
        XCTAssertEqual(try firebreak(["ingest", file, "--collection", "docs", "--tenant", "acme"], environment: env).status, 0)
        let created = try firebreak(["snapshots", "create", "--collection", "docs", "--json"], environment: env)
        XCTAssertEqual(created.status, 0, created.stderr)
        let id = try XCTUnwrap(created.json?["id"] as? String, created.stdout)
        let listed = try firebreak(["snapshots", "list", "--collection", "docs"], environment: env)
        XCTAssertTrue(listed.stdout.contains(id), listed.stdout)
        let client = S3Client(S3Client.Configuration(bucket: moto.bucket, region: moto.region,
                                                     credentials: S3Credentials(accessKeyID: moto.accessKeyID,
                                                                                secretAccessKey: moto.secretAccessKey),
                                                     endpoint: moto.endpoint))
        let keys = try client.list(prefix: prefix + "/").map(\.key)
        XCTAssertTrue(keys.contains { $0.hasSuffix("/\(id)/manifest.json") }, "\(keys)")
        XCTAssertTrue(keys.contains { $0.hasSuffix("/\(id)/p0000.hnsw") }, "\(keys)")
    }

    /// kill -9 while a rebuild runs: on restart the job is failed, the collection serves its
    /// last consistent state (vector search, the quarantine applied), and the timeline verifies.
    func testKillDuringRebuildRestartsInALastConsistentState() throws {
        let data = "/tmp/firebreak-cli-kill-\(getpid())"
        let token = "fbk_cli_test_admin"
        var (server, base) = try serve(data: data, token: token)
        defer { stopServing(server, data: data) }
        var env = ["FIREBREAK_URL": base, "FIREBREAK_TOKEN": token]
        XCTAssertEqual(try firebreak(["collections", "create", "docs", "--dimension", "32"], environment: env).status, 0)
        let file = NSTemporaryDirectory() + "firebreak-cli-kill-\(getpid()).jsonl"
        defer { unlink(file) }
        var generator = SystemRandomNumberGenerator()
        let lines = (0..<Self.killDocuments).map { i in
            let vector = (0..<32).map { _ in String(format: "%.4f", Double.random(in: -1...1, using: &generator)) }
            return #"{"id":"d\#(i)","text":"document \#(i) words","embedding":[\#(vector.joined(separator: ","))]}"#
        }
        try lines.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
        XCTAssertEqual(try firebreak(["ingest", file, "--collection", "docs", "--tenant", "acme"], environment: env).status, 0)
        let quarantine = try firebreak(["quarantine", "--collection", "docs", "d7", "--reason", "hub", "--json"], environment: env)
        let incident = try XCTUnwrap(quarantine.json?["incident_id"] as? String, quarantine.stderr)
        let started = try firebreak(["api", "POST", "/v1/collections/docs/rebuild", "--data", #"{"tenant":"acme"}"#, "--json"],
                                    environment: env)
        let job = try XCTUnwrap(started.json?["job_id"] as? Int, started.stdout + started.stderr)
        var state = ""
        for _ in 0..<400 where state != "running" && !["succeeded", "failed"].contains(state) {
            state = try firebreak(["api", "GET", "/v1/jobs/\(job)", "--json"], environment: env).json?["state"] as? String ?? ""
        }
        XCTAssertEqual(state, "running", "the rebuild must still run when the process is killed")
        kill(server.pid, SIGKILL)
        _ = server.wait()

        (server, base) = try serve(data: data, token: token)
        env["FIREBREAK_URL"] = base
        let after = try firebreak(["api", "GET", "/v1/jobs/\(job)", "--json"], environment: env).json
        XCTAssertEqual(after?["state"] as? String, "failed")
        let status = try firebreak(["api", "GET", "/v1/collections/docs", "--json"], environment: env).json
        XCTAssertEqual(status?["mode"] as? String, "serving")
        XCTAssertEqual(status?["documents"] as? Int, Self.killDocuments)
        let search = try firebreak(["search", "--collection", "docs", "--tenant", "acme", "--vector=" + lines[7].vectorArgument,
                                    "--json"], environment: env)
        XCTAssertEqual(search.status, 0, search.stderr)
        XCTAssertEqual(search.json?["degraded"] as? Bool, false)
        let ids = (search.json?["results"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        XCTAssertEqual(ids.count, 10)
        XCTAssertFalse(ids.contains("d7"), "the quarantine survives the crash")
        let verified = try firebreak(["incident", "verify", incident], environment: env)
        XCTAssertEqual(verified.status, 0, verified.stderr)
        XCTAssertTrue(verified.stdout.contains("chain intact"), verified.stdout)
    }

    static let killDocuments = 6_000

    /// Three `firebreak serve` processes over one PostgreSQL, small: followers start from the
    /// snapshot, every quarantine reaches them, a replica killed with SIGKILL while another
    /// streams quarantines and ingests restarts at the head and never serves a quarantined
    /// document at its min_seq, and all three end up serving the same documents.
    func testReplicasPropagateAndSurviveKillNine() throws {
        let run = try firebreak(["bench", "replicas", "--documents", "3000", "--dimension", "32", "--quarantines", "20",
                                 "--catch-up-changes", "200", "--kill-changes", "90"])
        XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
        let report = try XCTUnwrap(run.json, run.stderr)
        let ready = try XCTUnwrap(report["ready"] as? [String: Any])
        let lines = ready["load_lines"] as? [String] ?? []
        XCTAssertEqual(lines.filter { $0.contains("from snapshot") }.count, 2, lines.joined(separator: "\n"))
        XCTAssertTrue(lines.contains { $0.hasPrefix("rebuild-probe") && $0.contains("from PostgreSQL") }, lines.joined(separator: "\n"))
        let propagation = try XCTUnwrap(report["propagation"] as? [String: Any])
        XCTAssertEqual(propagation["quarantined_served_after_min_seq"] as? Int, 0)
        XCTAssertEqual(propagation["failed_searches"] as? Int, 0)
        let kill = try XCTUnwrap(report["kill"] as? [String: Any])
        XCTAssertEqual(kill["quarantined_served_after_min_seq"] as? Int, 0)
        XCTAssertGreaterThan(kill["checks"] as? Int ?? 0, 45, "every acknowledged quarantine (45) is checked after the restart")
        XCTAssertGreaterThanOrEqual(kill["applied_seq_at_ready"] as? Int ?? -1, kill["head_seq_at_ready"] as? Int ?? .max)
        XCTAssertTrue((kill["load_line"] as? String ?? "").contains("from snapshot"), "\(kill)")
        let agreement = try XCTUnwrap(report["agreement"] as? [String: Any])
        XCTAssertEqual(agreement["agree"] as? Bool, true, "\(agreement)")
        XCTAssertGreaterThanOrEqual(agreement["top10_overlap_min"] as? Double ?? 0, 0.9, "\(agreement)")
    }

    /// The drill's options are checked before anything starts (the game day itself runs
    /// in-process in `DrillTests`, through the library this command wraps).
    func testDrillRefusesSettingsOutOfRange() throws {
        let run = try firebreak(["drill", "--hubs", "0"])
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.stderr.contains("1 ≤ hubs ≤ topics"), run.stderr)
    }

    func testDoctorReportsTheLoadedBLAS() throws {
        let run = try firebreak(["doctor", "--json", "--size", "128"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let blas = try XCTUnwrap(run.json?["blas"] as? [String: Any])
        XCTAssertNotNil(blas["library"] as? String)
        XCTAssertGreaterThan(try XCTUnwrap(blas["sgemm_gflops"] as? Double), 0)
        XCTAssertFalse((blas["path"] as? String ?? "unknown").contains("unknown"))
    }

    /// With the Netlib reference BLAS first on the loader's path (libblas-dev installs it beside
    /// OpenBLAS), doctor names it, warns, and fails under --strict; BLAS-heavy commands warn.
    func testReferenceBLASIsDetectedAndWarnedAbout() throws {
        let referenceFolder = "/usr/lib/x86_64-linux-gnu/blas"
        guard FileManager.default.fileExists(atPath: referenceFolder + "/libblas.so.3") else {
            throw XCTSkip("the Netlib reference BLAS is not installed at \(referenceFolder)")
        }
        let environment = ["LD_LIBRARY_PATH": referenceFolder]
        let doctor = try firebreak(["doctor", "--size", "64"], environment: environment)
        XCTAssertEqual(doctor.status, 0, doctor.stderr)
        XCTAssertTrue(doctor.stdout.contains("reference (Netlib)"), doctor.stdout)
        XCTAssertTrue(doctor.stdout.contains("WARNING"), doctor.stdout)
        let strict = try firebreak(["doctor", "--size", "64", "--strict"], environment: environment)
        XCTAssertEqual(strict.status, 1)
        let bench = try firebreak(["bench", "hnsw", "--synthetic", "500x8", "--ef-search", "16", "--repetitions", "1"],
                                  environment: environment)
        XCTAssertEqual(bench.status, 0, bench.stderr)
        XCTAssertTrue(bench.stderr.contains("WARNING: BLAS is the Netlib reference"), bench.stderr)
    }

    /// The benchmark's JSON contract, with 90 % excluded: k results, no excluded id, recall floor.
    func testBenchHNSWPrintsItsContractWithAFilter() throws {
        let run = try firebreak(["bench", "hnsw", "--synthetic", "3000x16", "--exclude-percent", "90",
                                 "--ef-search", "16,64", "--repetitions", "1", "--ef-construction", "100"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let json = try XCTUnwrap(run.json, run.stdout)
        for key in ["build_seconds", "build_threads", "index_bytes", "blas", "exact", "runs"] {
            XCTAssertNotNil(json[key], "missing \(key)")
        }
        let runs = try XCTUnwrap(json["runs"] as? [[String: Any]])
        XCTAssertEqual(runs.map { $0["ef"] as? Int }, [16, 64])
        for run in runs {
            XCTAssertEqual(run["short_queries"] as? Int, 0)
            XCTAssertEqual(run["excluded_returned"] as? Int, 0)
            XCTAssertGreaterThanOrEqual(try XCTUnwrap(run["recall"] as? Double), 0.95)
        }
        XCTAssertTrue(run.stderr.contains("built in"), "progress goes to stderr")
    }

    /// Help text is prose that the parser wraps: no sentence is broken by a hard line break
    /// (a short line followed by one that goes on in lower case).
    func testHelpTextIsWrappedByTheParserNotByHand() throws {
        let commands = [["db"], ["snapshot", "build"], ["bench", "service"], ["bench", "replicas"], ["quarantine"], ["serve"],
                        ["incident"], ["ingest"], ["drill"], ["scan"], ["bench", "hnsw"], ["bench", "bm25"], []]
        for command in commands {
            let help = try firebreak(command + ["--help"])
            XCTAssertEqual(help.status, 0, help.stderr)
            let prose = help.stdout.components(separatedBy: "USAGE:")[0].split(separator: "\n", omittingEmptySubsequences: false)
            for (line, next) in zip(prose, prose.dropFirst()) where !line.isEmpty && !next.isEmpty && !next.hasPrefix(" ") {
                let brokenMidSentence = line.count < 60 && (next.first?.isLowercase ?? false) && !line.hasSuffix(":")
                XCTAssertFalse(brokenMidSentence, "firebreak \(command.joined(separator: " ")) --help: \"\(line)\" / \"\(next)\"")
            }
        }
    }

    func testBadArgumentsFailWithAClearMessage() throws {
        let metric = try firebreak(["bench", "hnsw", "--synthetic", "100x4", "--metric", "hamming"])
        XCTAssertNotEqual(metric.status, 0)
        XCTAssertTrue(metric.stderr.contains("--metric"), metric.stderr)
        let missing = try firebreak(["bench", "hnsw", "--base", "/nonexistent.npy", "--queries", "/nonexistent.npy"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("no such file"), missing.stderr)
        let both = try firebreak(["bench", "hnsw"])
        XCTAssertNotEqual(both.status, 0)
        XCTAssertTrue(both.stderr.contains("--synthetic"), both.stderr)
    }

    /// `bench bm25` on a four-document corpus: the JSON contract, known-item quality, the
    /// dumped results, and a malformed line refused with its line number.
    func testBenchBM25ReportsQualityAndRefusesMalformedLines() throws {
        let folder = NSTemporaryDirectory() + "firebreak-cli-bm25-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let corpus = """
        {"id": "read", "title": "read(2)", "text": "read attempts to read bytes from a file descriptor"}
        {"id": "write", "title": "write(2)", "text": "write writes bytes to a file descriptor"}
        {"id": 7, "title": "fork(2)", "text": "fork creates a new process by duplicating the calling process"}
        {"id": "exit", "text": "terminate the calling process normally"}
        """
        let queries = """
        {"qid": "q1", "query": "duplicating processes", "relevant": [7]}
        {"qid": "q2", "query": "reading from descriptors", "relevant": ["read"]}
        """
        try corpus.write(toFile: folder + "/c.jsonl", atomically: true, encoding: .utf8)
        try queries.write(toFile: folder + "/q.jsonl", atomically: true, encoding: .utf8)
        let run = try firebreak(["bench", "bm25", "--corpus", folder + "/c.jsonl", "--queries", folder + "/q.jsonl",
                                 "--repetitions", "1", "--dump-results", folder + "/r.jsonl"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let json = try XCTUnwrap(run.json, run.stdout)
        XCTAssertEqual(json["documents"] as? Int, 4)
        XCTAssertEqual(json["queries"] as? Int, 2)
        XCTAssertEqual(try XCTUnwrap(json["mrr_at_10"] as? Double), 1.0, accuracy: 1e-9)
        XCTAssertGreaterThan(try XCTUnwrap(json["qps"] as? Double), 0)
        XCTAssertGreaterThan(try XCTUnwrap(json["index_bytes"] as? Int), 80)
        let dumped = try String(contentsOfFile: folder + "/r.jsonl", encoding: .utf8)
        XCTAssertTrue(dumped.hasPrefix(#"{"ids":["7""#), dumped)

        try (corpus + "\n{\"id\": \"broken\", \"text\": 5}\n").write(toFile: folder + "/bad.jsonl", atomically: true, encoding: .utf8)
        let bad = try firebreak(["bench", "bm25", "--corpus", folder + "/bad.jsonl", "--queries", folder + "/q.jsonl"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("bad.jsonl:5"), bad.stderr)
    }

    /// `snapshot build` publishes a folder that `snapshot verify` accepts; a tampered file
    /// makes verify exit 2 and name the file.
    func testSnapshotBuildThenVerifyThenRefuseTampering() throws {
        let folder = NSTemporaryDirectory() + "firebreak-cli-snapshot-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // 50 rows × 4 dimensions as .fvecs: per row an int32 dimension, then the floats.
        var vectors = Data()
        for row in 0..<50 {
            withUnsafeBytes(of: Int32(4).littleEndian) { vectors.append(contentsOf: $0) }
            for column in 0..<4 {
                withUnsafeBytes(of: Float(sin(Double(row * 4 + column))).bitPattern.littleEndian) { vectors.append(contentsOf: $0) }
            }
        }
        try vectors.write(to: URL(fileURLWithPath: folder + "/e.fvecs"))
        let corpus = (0..<50).map { #"{"id": "doc-\#($0)", "text": "passage \#($0) about firebreaks"}"# }
        try corpus.joined(separator: "\n").write(toFile: folder + "/c.jsonl", atomically: true, encoding: .utf8)
        let build = try firebreak(["snapshot", "build", "--embeddings", folder + "/e.fvecs", "--corpus", folder + "/c.jsonl",
                                   "--metric", "l2", "--out", folder + "/snaps", "--id", "s1"])
        XCTAssertEqual(build.status, 0, build.stderr)
        let files = try XCTUnwrap(build.json?["files"] as? [[String: Any]])
        XCTAssertEqual(files.compactMap { $0["name"] as? String }, ["graph.fbhnsw", "ids.json", "lexical.fblex", "vectors.npy"])
        XCTAssertEqual((build.json?["root_hash"] as? String)?.count, 64)
        XCTAssertEqual(try firebreak(["snapshot", "verify", folder + "/snaps/s1"]).status, 0)
        let again = try firebreak(["snapshot", "build", "--embeddings", folder + "/e.fvecs", "--out", folder + "/snaps", "--id", "s1"])
        XCTAssertNotEqual(again.status, 0, "snapshots are immutable")
        let handle = try XCTUnwrap(FileHandle(forUpdatingAtPath: folder + "/snaps/s1/lexical.fblex"))
        handle.seek(toFileOffset: 70)
        handle.write(Data([0x5a]))
        handle.closeFile()
        let verify = try firebreak(["snapshot", "verify", folder + "/snaps/s1"])
        XCTAssertEqual(verify.status, 2)
        XCTAssertTrue(verify.stderr.contains("lexical.fblex"), verify.stderr)
    }

    /// The incident commands on the embedded PostgreSQL: declare, record, move, verify, export.
    func testIncidentCommandsKeepAVerifiableRecord() throws {
        let data = "/tmp/firebreak-cli-incident-\(getpid())"
        defer {
            _ = try? firebreak(["db", "stop", "--data-dir", data])
            try? FileManager.default.removeItem(atPath: data)
        }
        let start = try firebreak(["db", "start", "--data-dir", data])
        XCTAssertEqual(start.status, 0, start.stderr)
        XCTAssertTrue(start.stdout.contains("host='\(data)/run'"), start.stdout)
        let declare = try firebreak(["incident", "declare", "--data-dir", data, "--severity", "SEV-1", "--class", "corpus",
                                     "--title", "Hub in docs", "--json"])
        XCTAssertEqual(declare.status, 0, declare.stderr)
        let id = try XCTUnwrap(declare.json?["id"] as? String)
        // On a collection, a SEV-1 starts with a snapshot of what is served: only the service can take it.
        let offline = try firebreak(["incident", "declare", "--data-dir", data, "--severity", "SEV-1", "--class", "corpus",
                                     "--title", "Hub in kb", "--collection", "kb"])
        XCTAssertNotEqual(offline.status, 0)
        XCTAssertTrue(offline.stderr.contains("forensic_snapshot_required"), offline.stderr)
        let unknownClass = try firebreak(["incident", "declare", "--data-dir", data, "--severity", "SEV-3", "--class", "poisoning",
                                          "--title", "t"])
        XCTAssertNotEqual(unknownClass.status, 0)
        XCTAssertTrue(unknownClass.stderr.contains("human-review"), "the error lists the taxonomy: \(unknownClass.stderr)")
        XCTAssertEqual(try firebreak(["incident", "decide", id, "--data-dir", data, "--what", "quarantine doc-17",
                                      "--why", "z = 9.4", "--not-taken", "rollback"]).status, 0)
        XCTAssertEqual(try firebreak(["incident", "transition", id, "--data-dir", data, "--to", "contained",
                                      "--reason", "quarantined"]).status, 0)
        let refused = try firebreak(["incident", "transition", id, "--data-dir", data, "--to", "closed", "--reason", "skip"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("transition_not_allowed"), refused.stderr)
        let verify = try firebreak(["incident", "verify", id, "--data-dir", data])
        XCTAssertEqual(verify.status, 0, verify.stderr)
        XCTAssertTrue(verify.stdout.contains("3 events, chain intact"), verify.stdout)
        let markdown = try firebreak(["incident", "export", id, "--data-dir", data, "--format", "markdown"])
        XCTAssertTrue(markdown.stdout.contains("**quarantine doc-17** because z = 9.4 (not taken: rollback)"), markdown.stdout)
        let bundle = try firebreak(["incident", "export", id, "--data-dir", data])
        XCTAssertEqual((bundle.json?["signature"] as? String)?.count, 128, bundle.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: data + "/incident-signing.key"))
    }
}

private extension String {
    /// The embedding of a generated JSON line, as `--vector` takes it.
    var vectorArgument: String {
        guard let start = range(of: "["), let end = range(of: "]", options: .backwards) else { return "" }
        return String(self[start.upperBound..<end.lowerBound])
    }
}

/// `firebreak serve` with `OTEL_EXPORTER_OTLP_ENDPOINT` set exports its spans over OTLP/HTTP
/// to a receiver the test runs: the request's server span continues the caller's
/// `traceparent`, the quarantine is a child span of it, and the timeline event the quarantine
/// appended names that span. (Without the variable nothing is exported, as in the tests above.)
extension FirebreakCLITests {
    func testSpansAreExportedOverOTLPAndTheTimelineNamesThem() async throws {
        let receiver = try await OTLPReceiver.start()
        let data = "/tmp/firebreak-cli-otel-\(getpid())"
        let token = "fbk_cli_test_admin"
        let (server, base) = try serve(data: data, token: token, environment: [
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:\(receiver.port)",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
            "OTEL_BSP_SCHEDULE_DELAY": "100",
        ])
        defer { stopServing(server, data: data) }
        XCTAssertTrue(server.read(".err").contains("exporting traces over OTLP"), server.read(".err"))
        let client = APIClient(baseURL: base, token: token)
        try succeeded(await client.send("POST", "/v1/collections", json: Data(#"{"name":"docs","dimension":3,"metric":"cosine"}"#.utf8)))
        try succeeded(await client.send("POST", "/v1/collections/docs/documents", json: Data(#"""
            {"documents":[{"id":"a","tenant":"acme","text":"red","embedding":[1,0,0]},
                          {"id":"b","tenant":"acme","text":"blue","embedding":[0,1,0]}]}
            """#.utf8)))
        let callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736", callerSpan = "00f067aa0ba902b7"
        let quarantined = try succeeded(await client.send("POST", "/v1/collections/docs/quarantine",
                                                          json: Data(#"{"ids":["a"],"reason":"hub"}"#.utf8),
                                                          headers: ["traceparent": "00-\(callerTrace)-\(callerSpan)-01"]))
        let answered = try XCTUnwrap(quarantined.header("traceparent"))
        XCTAssertTrue(answered.hasPrefix("00-\(callerTrace)-"), answered)
        let requestSpan = String(answered.split(separator: "-")[2])
        let incident = try quarantined.decoded(QuarantineReply.self).incidentID
        let events = try succeeded(await client.send("GET", "/v1/incidents/\(incident)/timeline")).decoded(TimelineBody.self).events
        let event = try XCTUnwrap(events.first { $0.kind == .quarantined })
        XCTAssertEqual(event.payload[TraceContext.traceIDKey], .string(callerTrace))
        let stepSpan = try XCTUnwrap(event.payload[TraceContext.spanIDKey]?.string)

        // The exporter sends a batch every 100 ms: wait for both spans.
        var spans: [OTLPReceiver.Span] = []
        for _ in 0..<100 {
            spans = receiver.spans()
            if spans.contains(where: { $0.spanID == stepSpan }) && spans.contains(where: { $0.spanID == requestSpan }) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let request = try XCTUnwrap(spans.first { $0.spanID == requestSpan }, "the request's span was exported: \(spans)")
        XCTAssertEqual(request.traceID, callerTrace)
        XCTAssertEqual(request.parentSpanID, callerSpan, "the server span continues the caller's")
        let step = try XCTUnwrap(spans.first { $0.spanID == stepSpan }, "the quarantine's span was exported: \(spans)")
        XCTAssertEqual(step.name, "firebreak.quarantine")
        XCTAssertEqual(step.traceID, callerTrace)
        XCTAssertEqual(step.parentSpanID, requestSpan, "the quarantine is a step of the request")
        XCTAssertNotEqual(stepSpan, requestSpan)
        await receiver.stop()
    }

    private struct QuarantineReply: Decodable {
        let incidentID: String
        enum CodingKeys: String, CodingKey { case incidentID = "incident_id" }
    }

    @discardableResult
    private func succeeded(_ reply: APIClient.Reply, file: StaticString = #filePath, line: UInt = #line) throws -> APIClient.Reply {
        XCTAssertLessThan(reply.status, 300, String(decoding: reply.body, as: UTF8.self), file: file, line: line)
        return reply
    }
}
