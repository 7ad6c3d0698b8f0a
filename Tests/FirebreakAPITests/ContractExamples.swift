import FirebreakAPI
import Foundation
import HubScan
import Incidents
import VectorMath

/// One example of every type of the contract, as its schema name, a full value (every
/// optional field set) and a minimal one (only what is required), and the route table.
enum ContractExamples {
    struct Case {
        let schema: String
        let type: String
        let full: JSONValue
        let minimal: JSONValue

        init<T: Encodable>(_ schema: String, _ full: T, minimal: T? = nil) {
            self.schema = schema
            type = String(describing: T.self)
            self.full = Self.json(full)
            self.minimal = Self.json(minimal ?? full)
        }

        static func json(_ value: some Encodable) -> JSONValue {
            do {
                return try JSONDecoder.api.decode(JSONValue.self, from: try JSONEncoder.api.encode(value))
            } catch {
                preconditionFailure("an example does not encode: \(error)")
            }
        }
    }

    struct Route {
        let method: String
        let path: String
        let request: String?
        let response: String?

        init(_ method: String, _ path: String, _ request: Any.Type?, _ response: Any.Type?) {
            self.method = method
            self.path = path
            self.request = request.map { String(describing: $0) }
            self.response = response.map { String(describing: $0) }
        }
    }

    static let report: ScanReport = {
        let data = SyntheticData.gaussianClusters(rows: 400, dimension: 8, clusters: 4, seed: 1, normalized: true)
        var options = HubScanner.Options()
        options.sampleSize = 200
        options.threshold = 1
        do {
            return try HubScanner.scan(data, metric: .cosine, options: options)
        } catch {
            preconditionFailure("the example scan failed: \(error)")
        }
    }()

    static let hnsw = HNSWBody(m: 16, efConstruction: 200, efSearch: 64)
    static let collection = CollectionBody(name: "kb", dimension: 4, metric: "cosine", hnsw: hnsw, mode: "serving",
                                           activeSnapshot: "snap-1", documents: 10, quarantined: 1, tenants: ["acme"],
                                           flags: [FlagBody(flag: "FF_INDEX_FREEZE", tenant: "acme")],
                                           lastScan: LastScanBody(at: "2026-12-01T00:00:00Z", maxZ: 3.5),
                                           writeRefusal: "a compensation failed")
    static let document = NewDocumentBody(id: "a", tenant: "acme", text: "text", embedding: [1, 0, 0, 0],
                                          metadata: .object(["source": .string("man")]))
    static let screened = ScreenedBody(id: "a", tenant: "acme", wouldEnterTopK: 40, z: 9.5, threshold: 5, scanID: 3)
    static let settings = ScanSettingsBody(sample: "mixed", sampleSize: 1_000, k: 10, threshold: 5, budget: 0.01, seed: 7)
    static let incident = IncidentBody(id: "INC-000001", title: "hubs", severity: "SEV-1", taxonomyClass: "corpus",
                                       status: "declared", reporter: "alice", commander: "bob", tenant: "acme", collection: "kb",
                                       traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                                       snapshotRootHash: "ab", contained: false, detectedAt: "2026-12-01T00:00:00Z", events: 1)
    static let event = EventBody(sequence: 1, kind: .declared, actor: "alice", at: "2026-12-01T00:00:00Z",
                                 payload: ["title": .string("hubs"), "documents": .integer(3)], payloadVersion: 2, previousHash: "00",
                                 hash: "ab")
    static let snapshot = SnapshotBody(id: "snap-1", rootHash: "ab", status: "verified_clean", parent: "snap-0", documents: 10,
                                       tenants: ["acme"], createdAt: "2026-12-01T00:00:00Z", scanReportID: 3, seconds: 0.5)
    static let exposure = ExposureBody(tenant: "acme", requests: 2, first: "2026-12-01T00:00:00Z", last: "2026-12-01T00:01:00Z",
                                       traceIDs: ["0af7651916cd43dd8448eb211c80319c"])
    static let replica = ReplicaBody(name: "r1", appliedSeq: 4, silentSeconds: 0.2, live: true, problem: "change 5: bad")

    static let job = JobBody(id: 9, kind: "rebuild", state: "running", progress: 0.5, etaSeconds: 3, error: "none", collection: "kb",
                             tenant: "acme", incidentID: "INC-000001", createdAt: "2026-12-01T00:00:00Z")

    static let scanSummary = ScanSummaryBody(id: 3, tenant: "acme", maxZ: 7.5, threshold: 5, flagged: 2, snapshotID: "snap-1",
                                             createdAt: "2026-12-01T00:00:00Z")

    static var scan: ScanResultBody {
        let labelled = LabelledScanReport(report: report, documentIDs: report.flagged.map { "doc-\($0.row)" },
                                          documentTenants: report.flagged.map { _ in "acme" })
        let first = report.flagged[0]
        return ScanResultBody(id: 3, tenant: "acme", maxZ: report.distribution.maxZ, threshold: 1,
                              flagged: [FlaggedDocumentBody(id: "doc-\(first.row)", tenant: "acme", z: first.z, score: first.score,
                                                            detectors: first.detectors, explanation: first.explanation)],
                              report: labelled,
                              containment: ContainmentBody(incidentID: "INC-000001", quarantined: ["doc-1"], frozenTenants: ["acme"],
                                                           rebuildJobs: [9]))
    }

    static var cases: [Case] {
        var minimalScan = scan
        minimalScan.tenant = nil
        minimalScan.containment = nil
        return [
            Case("Problem", ProblemDetails(status: 400, title: "Bad Request", code: "invalid_input", detail: "k must be 1…1000")),
            Case("HNSW", hnsw, minimal: HNSWBody()),
            Case("CreateCollection", CreateCollectionBody(name: "kb", dimension: 4, metric: "cosine", hnsw: hnsw),
                 minimal: CreateCollectionBody(name: "kb", dimension: 4, metric: "cosine")),
            Case("Flag", FlagBody(flag: "FF_TENANT_BLOCK", tenant: "acme"), minimal: FlagBody(flag: "FF_INDEX_FREEZE")),
            Case("Collection", collection, minimal: CollectionBody(name: "kb", dimension: 4, metric: "cosine", hnsw: hnsw, mode: "serving",
                                                                   documents: 0, quarantined: 0, tenants: [], flags: [])),
            Case("CollectionList", CollectionListBody(collections: [collection])),
            Case("NewDocument", document, minimal: NewDocumentBody(id: "a", text: "text", embedding: [1, 0, 0, 0])),
            Case("NewDocument", NewDocumentBody(id: "a", tenant: "acme", text: "text", embedding: [1, 0, 0, 0],
                                                metadata: .object(["source": .string("man")]), embeddingEncoding: .base64),
                 minimal: NewDocumentBody(id: "a", text: "text", embedding: [1, 0, 0, 0], embeddingEncoding: .base64)),
            Case("IngestRequest", IngestBody(documents: [document])),
            Case("IngestResult", IngestResultBody(ingested: 1, ids: ["a"], screened: [screened], held: ["a"], incidentID: "INC-000001"),
                 minimal: IngestResultBody(ingested: 1, ids: ["a"], screened: [], held: [])),
            Case("Screened", screened),
            Case("Document", DocumentBody(id: "a", tenant: "acme", text: "text", embedding: [1, 0, 0, 0], metadata: .object([:]),
                                          contentSHA256: "ab", ingestedAt: "2026-12-01T00:00:00Z")),
            Case("Deleted", DeletedBody(id: "a", deleted: true)),
            Case("SearchRequest", SearchBody(mode: "hybrid", vector: [1, 0, 0, 0], query: "text", k: 10, tenant: "acme", ef: 64, minSeq: 4),
                 minimal: SearchBody()),
            Case("SearchHit", SearchResultItem(id: "a", score: 0.9, text: "text", tenant: "acme")),
            Case("SearchResult", SearchResultBody(modeUsed: "lexical", degraded: true, notice: "rebuilding", snapshot: "snap-1",
                                                  results: [SearchResultItem(id: "a", score: 0.9, text: "text", tenant: "acme")],
                                                  tookMs: 1.5, emptyReason: "all_quarantined"),
                 minimal: SearchResultBody(modeUsed: "vector", degraded: false, results: [], tookMs: 1)),
            Case("QuarantineRequest", QuarantineBody(ids: ["a"], reason: "hub", incidentID: "INC-000001", tenant: "acme", scores: ["a": 9.5]),
                 minimal: QuarantineBody(ids: ["a"], reason: "hub")),
            Case("QuarantineResult", QuarantineResultBody(incidentID: "INC-000001", quarantined: ["a"], alreadyQuarantined: ["b"])),
            Case("ReleaseResult", ReleaseResultBody(incidentID: "INC-000001", released: ["a"], notQuarantined: ["b"])),
            Case("QuarantineEntry", QuarantineEntryBody(id: "a", tenant: "acme", incidentID: "INC-000001", reason: "hub",
                                                        quarantinedBy: "alice", quarantinedAt: "2026-12-01T00:00:00Z")),
            Case("QuarantineList", QuarantineListBody(entries: [QuarantineEntryBody(id: "a", tenant: "acme", incidentID: "INC-000001",
                                                                                    reason: "hub", quarantinedBy: "alice",
                                                                                    quarantinedAt: "2026-12-01T00:00:00Z")])),
            Case("SetFlag", SetFlagBody(enabled: true, incidentID: "INC-000001", tenant: "acme", reason: "hub"),
                 minimal: SetFlagBody(enabled: false)),
            Case("FlagResult", FlagResultBody(flag: "FF_INDEX_FREEZE", enabled: true, tenant: "acme", incidentID: "INC-000001"),
                 minimal: FlagResultBody(flag: "FF_INDEX_FREEZE", enabled: true, incidentID: "INC-000001")),
            Case("DeclareIncident", DeclareIncidentBody(title: "hubs", severity: "SEV-1", taxonomyClass: "corpus", tenant: "acme",
                                                        collection: "kb", traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
                 minimal: DeclareIncidentBody(title: "hubs", severity: "SEV-2")),
            Case("Incident", incident, minimal: IncidentBody(id: "INC-000001", title: "hubs", severity: "SEV-1", taxonomyClass: "corpus",
                                                             status: "declared", reporter: "alice", contained: false,
                                                             detectedAt: "2026-12-01T00:00:00Z", events: 1)),
            Case("IncidentList", IncidentListBody(incidents: [incident])),
            Case("Event", event),
            Case("Timeline", TimelineBody(incidentID: "INC-000001", events: [event])),
            Case("Verification", VerifyBody(intact: false, events: 2, head: "ab", firstBadSequence: 2, problem: "hash mismatch"),
                 minimal: VerifyBody(intact: true, events: 2, head: "ab")),
            Case("Transition", TransitionBody(status: "resolved", reason: "done")),
            Case("Decision", DecisionBody(what: "quarantine", why: "evidence", optionsNotTaken: ["delete"]),
                 minimal: DecisionBody(what: "quarantine", why: "evidence")),
            Case("Evidence", EvidenceBody(kind: "scan_report", sha256: "ab", location: "s3://e/1", summary: "z 9")),
            Case("Action", ActionBody(title: "screen", owner: "bob", due: "2030-01-31", verification: "drill", close: 1,
                                      verificationEvidence: "drill passed"), minimal: ActionBody()),
            Case("Commander", CommanderBody(commander: "bob")),
            Case("Postmortem", PostmortemBody(summary: "s", failingLayer: "ingest", rootCause: "r", evaluationGaps: "g", regressionCase: "t"),
                 minimal: PostmortemBody(summary: "s", failingLayer: "ingest", rootCause: "r", regressionCase: "t")),
            Case("ScanRequest", ScanRequestBody(settings: settings, tenant: "acme", domainField: "source", policy: "alert"),
                 minimal: ScanRequestBody()),
            Case("Scan", scan, minimal: minimalScan),
            Case("ScanSummary", scanSummary,
                 minimal: ScanSummaryBody(id: 3, maxZ: 2, threshold: 5, flagged: 0, createdAt: "2026-12-01T00:00:00Z")),
            Case("ScanPage", ScanPageBody(scans: [scanSummary], nextBefore: 3), minimal: ScanPageBody(scans: [])),
            Case("Schedule", ScheduleBody(everySeconds: 60, policy: "auto-contain", enabled: true, settings: settings),
                 minimal: ScheduleBody(everySeconds: 60, policy: "alert")),
            Case("RebuildRequest", RebuildBody(tenant: "acme", incidentID: "INC-000001", reason: "r", validateScan: true, threshold: 5,
                                               goldenMRRDropMax: 0.05), minimal: RebuildBody()),
            Case("JobStarted", JobStartedBody(jobID: 9, incidentID: "INC-000001"), minimal: JobStartedBody(jobID: 9)),
            Case("Job", job,
                 minimal: JobBody(id: 9, kind: "rebuild", state: "queued", progress: 0, incidentID: "INC-000001",
                                  createdAt: "2026-12-01T00:00:00Z")),
            Case("JobList", JobListBody(jobs: [job])),
            Case("CreateToken", CreateTokenBody(role: "reader", tenant: "acme"), minimal: CreateTokenBody(role: "admin")),
            Case("Token", TokenBody(token: "fb_x", role: "reader", tenant: "acme"), minimal: TokenBody(token: "fb_x", role: "admin")),
            Case("Snapshot", snapshot, minimal: SnapshotBody(id: "snap-1", rootHash: "ab", status: "ready")),
            Case("SnapshotList", SnapshotListBody(snapshots: [snapshot])),
            Case("VerifyRequest", settings, minimal: ScanSettingsBody()),
            Case("SnapshotVerification", VerificationBody(id: "snap-1", rootHash: "ab", status: "verified_clean", clean: true, scanID: 3,
                                                          maxZ: 2, threshold: 5, flagged: 0)),
            Case("RollbackRequest", RollbackBody(snapshotID: "last-clean", incidentID: "INC-000001", tenant: "acme", reason: "r"),
                 minimal: RollbackBody(snapshotID: "snap-1")),
            Case("RollbackResult", RollbackResultBody(snapshotID: "snap-1", rootHash: "ab", incidentID: "INC-000001", tenants: ["acme"],
                                                      documents: 10, retired: 1, seconds: 0.3, phases: ["load": 0.2])),
            Case("Exposure", exposure),
            Case("BlastRadius", BlastRadiusBody(incidentID: "INC-000001", documents: 1, requests: 2, tenants: [exposure])),
            Case("GoldenQueries", GoldenQueriesBody(queries: [GoldenQueryBody(tenant: "acme", vector: [1, 0, 0, 0], relevant: ["a"])])),
            Case("GoldenSummary", GoldenSummaryBody(queries: 1, baselineMRR: 1, byTenant: ["acme": 1], setAt: "2026-12-01T00:00:00Z"),
                 minimal: GoldenSummaryBody(queries: 1, baselineMRR: 1, byTenant: [:])),
            Case("Readiness", ReadinessBody(ready: false, appliedSeq: 3, headSeq: 4, replica: "r1", database: true, collectionsLoaded: true,
                                            problem: "behind", writeRefusals: [WriteRefusalBody(collection: "docs", reason: "r")],
                                            unloadedCollections: [UnloadedCollectionBody(collection: "old", reason: "r")]),
                 minimal: ReadinessBody(ready: true, appliedSeq: 4, headSeq: 4, replica: "r1", database: true, collectionsLoaded: true)),
            Case("Replica", replica, minimal: ReplicaBody(name: "r1", appliedSeq: 4, silentSeconds: 0.2, live: true)),
            Case("ReplicaList", ReplicasBody(replicas: [replica])),
        ]
    }

    /// Every operation of the document: its JSON request and response types (nil: none, or not JSON).
    static let routes: [Route] = [
        Route("POST", "/v1/collections", CreateCollectionBody.self, CollectionBody.self),
        Route("GET", "/v1/collections", nil, CollectionListBody.self),
        Route("GET", "/v1/collections/{name}", nil, CollectionBody.self),
        Route("POST", "/v1/collections/{name}/documents", IngestBody.self, IngestResultBody.self),
        Route("GET", "/v1/collections/{name}/documents/{id}", nil, DocumentBody.self),
        Route("DELETE", "/v1/collections/{name}/documents/{id}", nil, DeletedBody.self),
        Route("POST", "/v1/collections/{name}/search", SearchBody.self, SearchResultBody.self),
        Route("POST", "/v1/collections/{name}/quarantine", QuarantineBody.self, QuarantineResultBody.self),
        Route("GET", "/v1/collections/{name}/quarantine", nil, QuarantineListBody.self),
        Route("POST", "/v1/collections/{name}/quarantine/release", QuarantineBody.self, ReleaseResultBody.self),
        Route("PUT", "/v1/collections/{name}/flags/{flag}", SetFlagBody.self, FlagResultBody.self),
        Route("POST", "/v1/collections/{name}/scans", ScanRequestBody.self, ScanResultBody.self),
        Route("PUT", "/v1/collections/{name}/scan-schedule", ScheduleBody.self, ScheduleBody.self),
        Route("GET", "/v1/collections/{name}/scans", nil, ScanPageBody.self),
        Route("GET", "/v1/scans/{id}", nil, ScanResultBody.self),
        Route("POST", "/v1/collections/{name}/rebuild", RebuildBody.self, JobStartedBody.self),
        Route("GET", "/v1/jobs", nil, JobListBody.self),
        Route("GET", "/v1/jobs/{id}", nil, JobBody.self),
        Route("DELETE", "/v1/jobs/{id}", nil, JobBody.self),
        Route("GET", "/v1/incidents", nil, IncidentListBody.self),
        Route("POST", "/v1/incidents", DeclareIncidentBody.self, IncidentBody.self),
        Route("GET", "/v1/incidents/{id}", nil, IncidentBody.self),
        Route("GET", "/v1/incidents/{id}/timeline", nil, TimelineBody.self),
        Route("GET", "/v1/incidents/{id}/verify", nil, VerifyBody.self),
        Route("GET", "/v1/incidents/{id}/postmortem", nil, nil),
        Route("GET", "/v1/incidents/{id}/export", nil, nil),
        Route("POST", "/v1/incidents/{id}/postmortem", PostmortemBody.self, IncidentBody.self),
        Route("POST", "/v1/incidents/{id}/commander", CommanderBody.self, IncidentBody.self),
        Route("POST", "/v1/incidents/{id}/transition", TransitionBody.self, IncidentBody.self),
        Route("POST", "/v1/incidents/{id}/decisions", DecisionBody.self, IncidentBody.self),
        Route("POST", "/v1/incidents/{id}/evidence", EvidenceBody.self, IncidentBody.self),
        Route("POST", "/v1/incidents/{id}/actions", ActionBody.self, IncidentBody.self),
        Route("GET", "/v1/incidents/{id}/blast-radius", nil, BlastRadiusBody.self),
        Route("POST", "/v1/tokens", CreateTokenBody.self, TokenBody.self),
        Route("GET", "/healthz", nil, nil),
        Route("GET", "/readyz", nil, ReadinessBody.self),
        Route("GET", "/metrics", nil, nil),
        Route("GET", "/openapi.json", nil, nil),
        Route("POST", "/v1/collections/{name}/snapshots", nil, SnapshotBody.self),
        Route("GET", "/v1/collections/{name}/snapshots", nil, SnapshotListBody.self),
        Route("POST", "/v1/collections/{name}/snapshots/{id}/verify", ScanSettingsBody.self, VerificationBody.self),
        Route("POST", "/v1/collections/{name}/rollback", RollbackBody.self, RollbackResultBody.self),
        Route("PUT", "/v1/collections/{name}/golden-queries", GoldenQueriesBody.self, GoldenSummaryBody.self),
        Route("GET", "/v1/collections/{name}/golden-queries", nil, GoldenSummaryBody.self),
        Route("GET", "/v1/replicas", nil, ReplicasBody.self),
    ]
}
