import Crypto
import Foundation
import Incidents
import XCTest

final class IncidentLifecycleTests: XCTestCase {
    private func declared() throws -> (Incident, Timeline) {
        try Incident.declare(id: "INC-000001", title: "Adversarial hub in docs", severity: .sev1, taxonomyClass: .corpus,
                             reporter: "hubscan", detectedAt: Date(timeIntervalSince1970: 1_800_000_000),
                             collection: "docs", traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
    }

    /// Every pair of statuses: exactly the lifecycle's moves are accepted.
    func testOnlyTheAllowedTransitionsAreAccepted() throws {
        let allowed: Set<String> = ["declared>contained", "declared>mitigated", "contained>mitigated",
                                    "mitigated>resolved", "resolved>closed", "resolved>mitigated"]
        let path: [IncidentStatus: [IncidentStatus]] = [
            .declared: [], .contained: [.contained], .mitigated: [.contained, .mitigated],
            .resolved: [.contained, .mitigated, .resolved], .closed: [.contained, .mitigated, .resolved, .closed],
        ]
        for from in IncidentStatus.allCases {
            for to in IncidentStatus.allCases {
                var (incident, timeline) = try declared()
                for step in path[from]! { try incident.transition(to: step, reason: "setup", actor: "ic", timeline: &timeline) }
                XCTAssertEqual(incident.status, from)
                let before = timeline.events.count
                do {
                    try incident.transition(to: to, reason: "test", actor: "ic", timeline: &timeline)
                    XCTAssertTrue(allowed.contains("\(from.rawValue)>\(to.rawValue)"), "\(from) → \(to) should be refused")
                    XCTAssertEqual(incident.status, to)
                    XCTAssertEqual(timeline.events.count, before + 1)
                } catch {
                    XCTAssertEqual(error.code, .transitionNotAllowed)
                    XCTAssertFalse(allowed.contains("\(from.rawValue)>\(to.rawValue)"), "\(from) → \(to) should be allowed")
                    XCTAssertEqual(incident.status, from, "a refused move changes nothing")
                    XCTAssertEqual(timeline.events.count, before)
                }
            }
        }
    }

    func testContainmentIsRecordedAndInputIsValidated() throws {
        var (incident, timeline) = try declared()
        XCTAssertFalse(incident.contained)
        try incident.transition(to: .contained, reason: "quarantined doc-17", actor: "ic", timeline: &timeline)
        XCTAssertTrue(incident.contained)
        XCTAssertEqual(timeline.events.map(\.kind), [.declared, .transitioned])
        XCTAssertEqual(timeline.events[1].payload, ["from": "declared", "to": "contained", "reason": "quarantined doc-17"])
        XCTAssertThrowsError(try Incident.declare(id: "42", title: "t", severity: .sev2, taxonomyClass: .retrieval,
                                                  reporter: "r", detectedAt: Date()))
        XCTAssertThrowsError(try Incident.declare(id: "INC-000002", title: "t", severity: .sev2, taxonomyClass: .retrieval,
                                                  reporter: "r", detectedAt: Date(), traceparent: "not-a-trace"))
        XCTAssertNil(TaxonomyClass(rawValue: "Bad Class"))
        XCTAssertTrue(Severity.sev0 < Severity.sev1)
    }
}

final class TimelineChainTests: XCTestCase {
    private func timeline(events: Int) throws -> Timeline {
        var timeline = Timeline(incidentID: "INC-000007")
        for i in 0..<events { try timeline.append(kind: .unlisted("note"), actor: "ic", text: ["n": "\(i)"]) }
        return timeline
    }

    func testAnIntactChainVerifies() throws {
        let chain = try timeline(events: 5)
        XCTAssertTrue(chain.verify().intact)
        XCTAssertEqual(chain.events[0].previousHash, Timeline.genesisHash)
        XCTAssertEqual(chain.events[3].previousHash, chain.events[2].hash)
        XCTAssertEqual(chain.head, chain.events[4].hash)
    }

    /// An append to a tail (the last event's sequence and hash only) writes exactly the event an
    /// append to the whole timeline writes, so the stored chain still verifies.
    func testATailAppendsTheSameEventAsTheWholeTimeline() throws {
        var whole = try timeline(events: 5)
        let last = try XCTUnwrap(whole.events.last)
        var tail = Timeline(incidentID: whole.incidentID, continuing: (last.sequence, last.hash))
        let at = Date(timeIntervalSince1970: 1_800_000_000)
        let appended = try tail.append(kind: .quarantined, actor: "ic", at: at, text: ["documents": "7"])
        XCTAssertEqual(appended, try whole.append(kind: .quarantined, actor: "ic", at: at, text: ["documents": "7"]))
        XCTAssertEqual(tail.events, [appended])
        XCTAssertTrue(Timeline(incidentID: whole.incidentID, events: whole.events).verify().intact)
        var first = Timeline(incidentID: "INC-000008", continuing: nil)
        XCTAssertEqual(try first.append(kind: .declared, actor: "ic").previousHash, Timeline.genesisHash)
        XCTAssertEqual(first.events.first?.sequence, 1)
    }

    /// Editing, deleting, reordering or re-hashing any event is found, at the right event.
    func testEveryKindOfEditIsFoundAtTheFirstBadEvent() throws {
        let chain = try timeline(events: 5)
        var edited = chain.events
        edited[2].payload["n"] = "tampered"
        XCTAssertEqual(Timeline(incidentID: "INC-000007", events: edited).verify().firstBadSequence, 3)
        var rehashed = edited
        rehashed[2].hash = rehashed[2].computedHash()  // a forger recomputes the edited event's hash…
        XCTAssertEqual(Timeline(incidentID: "INC-000007", events: rehashed).verify().firstBadSequence, 4, "…and breaks the next link")
        var deleted = chain.events
        deleted.remove(at: 1)
        XCTAssertEqual(Timeline(incidentID: "INC-000007", events: deleted).verify().firstBadSequence, 2)
        var reordered = chain.events
        reordered.swapAt(1, 2)
        XCTAssertEqual(Timeline(incidentID: "INC-000007", events: reordered).verify().firstBadSequence, 2)
        var actor = chain.events
        actor[4].actor = "someone-else"
        XCTAssertEqual(Timeline(incidentID: "INC-000007", events: actor).verify().firstBadSequence, 5)
        XCTAssertFalse(Timeline(incidentID: "INC-000008", events: chain.events).verify().intact)
    }

    func testTheSignedExportVerifiesOfflineAndDetectsTampering() throws {
        var (incident, timeline) = try Incident.declare(id: "INC-000009", title: "hub", severity: .sev1, taxonomyClass: .corpus,
                                                        reporter: "hubscan", detectedAt: Date())
        try incident.transition(to: .contained, reason: "quarantine", actor: "ic", timeline: &timeline)
        let key = Curve25519.Signing.PrivateKey()
        let bundle = try ExportBundle(incident: incident, timeline: timeline, key: key)
        XCTAssertNoThrow(try bundle.verify())
        let decoded = try JSONDecoder().decode(ExportBundle.self, from: JSONEncoder().encode(bundle))
        XCTAssertNoThrow(try decoded.verify())
        var edited = bundle
        edited.events[1].payload["reason"] = "nothing happened"
        XCTAssertThrowsError(try edited.verify())
        var forged = bundle
        forged.events[1].payload["reason"] = "nothing happened"
        forged.events[1].hash = forged.events[1].computedHash()
        forged.chainHead = forged.events[1].hash
        XCTAssertThrowsError(try forged.verify(), "a recomputed chain no longer matches the signature")
        var otherKey = bundle
        otherKey.publicKey = Curve25519.Signing.PrivateKey().publicKey.rawRepresentation.map { String(format: "%02x", $0) }.joined()
        XCTAssertThrowsError(try otherKey.verify())
    }
}

final class IncidentEntriesTests: XCTestCase {
    func testDecisionsEvidenceActionsAndPostmortemAreChainedAndRendered() throws {
        var (incident, timeline) = try Incident.declare(
            id: "INC-000042", title: "Adversarial hub", severity: .sev1, taxonomyClass: .corpus, reporter: "hubscan",
            detectedAt: Date(), collection: "docs", traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        try timeline.record(Decision(who: "ic", what: "quarantine doc-17", why: "z = 9.4", optionsNotTaken: ["rollback", "wait"]))
        try timeline.record(Evidence(kind: "poisoned_document", sha256: String(repeating: "ab", count: 32),
                                     location: "evidence/doc-17.json", summary: "text, embedding, scores"), actor: "ic")
        let action = try timeline.addAction(title: "Screen ingests", owner: "retrieval", due: "2026-12-01",
                                            verification: "replay the attack; screen z > 5", actor: "ic")
        XCTAssertEqual(action.number, 1)
        XCTAssertThrowsError(try timeline.closeAction(1, verificationEvidence: " ", actor: "ic")) {
            XCTAssertEqual(($0 as? IncidentError)?.code, .actionNotVerified)
        }
        try timeline.closeAction(1, verificationEvidence: "replay run 2026-11-30: z = 11.2", actor: "retrieval")
        XCTAssertThrowsError(try timeline.closeAction(1, verificationEvidence: "again", actor: "ic"))
        XCTAssertThrowsError(try timeline.record(Evidence(kind: "x", sha256: "short", location: "l", summary: ""), actor: "ic"))
        XCTAssertThrowsError(try timeline.addAction(title: "t", owner: "o", due: "soon", verification: "v", actor: "ic"))
        try incident.transition(to: .contained, reason: "quarantined", actor: "ic", timeline: &timeline)
        try timeline.record(Postmortem(summary: "A hub reached 3 % of queries.", failingLayer: "ingestion",
                                       rootCause: "no ingest screen", evaluationGaps: "no hubness eval",
                                       regressionCase: "tests/hub-replay"), actor: "ic")

        XCTAssertTrue(timeline.verify().intact)
        XCTAssertEqual(timeline.decisions.first?.optionsNotTaken, ["rollback", "wait"])
        XCTAssertEqual(timeline.evidence.count, 1)
        XCTAssertEqual(timeline.actions.first?.isClosed, true)
        XCTAssertEqual(timeline.postmortem?.failingLayer, "ingestion")
        let markdown = PostmortemDocument.markdown(incident, timeline)
        for expected in ["# INC-000042: Adversarial hub", "## Root cause", "no ingest screen", "## Chronology",
                         "4bf92f3577b34da6a3ce929d0e0e4736", "Hash chain intact", "**quarantine doc-17** because z = 9.4",
                         "(not taken: rollback; wait)", "closed: replay run 2026-11-30: z = 11.2", "tests/hub-replay"] {
            XCTAssertTrue(markdown.contains(expected), "missing \(expected)")
        }
    }

    /// The runbooks' sixteen classes, each with its layer and indicator; a slug stored before
    /// the taxonomy was fixed still reads back, but a new declaration must use the taxonomy.
    func testTheTaxonomyHasSixteenClassesAndReadsOldSlugs() throws {
        XCTAssertEqual(TaxonomyClass.allCases.count, 16)
        XCTAssertEqual(Set(TaxonomyClass.slugs).count, 16)
        XCTAssertEqual(Set(TaxonomyClass.allCases.map(\.indicator)).count, 16, "one indicator per class")
        XCTAssertEqual(TaxonomyClass.corpus.layer, "ingestion / storage")
        XCTAssertEqual(TaxonomyClass.privacy.indicator, "cross-tenant hits")
        XCTAssertEqual(TaxonomyClass.retrieval.indicator, "MRR@k below 0.50, empty or irrelevant results")
        XCTAssertEqual(TaxonomyClass(rawValue: "ui-trust"), .uiTrust)
        XCTAssertEqual(TaxonomyClass(rawValue: "human-review"), .humanReview)
        for taxonomy in TaxonomyClass.allCases { XCTAssertEqual(TaxonomyClass(rawValue: taxonomy.rawValue), taxonomy) }

        XCTAssertNil(TaxonomyClass(rawValue: "data-poisoning"), "not a class of the taxonomy")
        let old = TaxonomyClass(stored: "data-poisoning")
        XCTAssertEqual(old, .unlisted("data-poisoning"))
        XCTAssertEqual(old.rawValue, "data-poisoning")
        let decoded = try JSONDecoder().decode([TaxonomyClass].self, from: Data(#"["corpus","data-poisoning"]"#.utf8))
        XCTAssertEqual(decoded, [.corpus, .unlisted("data-poisoning")])
        XCTAssertEqual(String(decoding: try JSONEncoder().encode(decoded), as: UTF8.self), #"["corpus","data-poisoning"]"#)
    }
}

/// Events as today's code writes them, kept verbatim: they must keep decoding and verifying
/// whatever later builds name or add (the hash covers the bytes that were written).
final class TimelineGoldenTests: XCTestCase {
    static func written() throws -> Timeline {
        var timeline = Timeline(incidentID: "INC-000777")
        let at = Date(timeIntervalSince1970: 1_790_000_000)
        try timeline.append(kind: .declared, actor: "hubscan", at: at, text: ["title": "hub", "severity": "SEV-1"])
        try timeline.append(kind: .quarantined, actor: "alice", at: at.addingTimeInterval(1),
                            text: ["documents": "3,4", "already_quarantined": "0", "reason": "z ≥ 5"])
        try timeline.append(kind: .rebuildEnded("succeeded"), actor: "alice", at: at.addingTimeInterval(2), text: ["job_id": "9"])
        try timeline.append(kind: .unlisted("note_from_the_future"), actor: "bob", at: at.addingTimeInterval(3))
        return timeline
    }

    func testEventsWrittenTodayKeepVerifying() throws {
        let timeline = try Self.written()
        XCTAssertEqual(timeline.events.map(\.kind), [.declared, .quarantined, .rebuildSucceeded, .unlisted("note_from_the_future")])
        XCTAssertEqual(timeline.head, Self.goldenHead, "the canonical bytes of an event changed: old timelines would stop verifying")
        let stored = try JSONDecoder().decode([IncidentEvent].self, from: Data(Self.goldenEvents.utf8))
        XCTAssertEqual(stored, timeline.events)
        XCTAssertTrue(Timeline(incidentID: "INC-000777", events: stored).verify().intact)
    }

    static let goldenHead = "ea510aac47065a7b37d7bce4b9bf35c5f3a29719f5337fb48e4109cca991224e"
    static let goldenEvents = #"[{"actor":"hubscan","at":"2026-09-21T14:13:20.000Z","hash":"0689712d938a9c2684fe0d8a32fefeaed4b6b786e2ca01d7ae0acd5d640006ac","incidentID":"INC-000777","kind":"declared","payload":{"severity":"SEV-1","title":"hub"},"previousHash":"0000000000000000000000000000000000000000000000000000000000000000","sequence":1},{"actor":"alice","at":"2026-09-21T14:13:21.000Z","hash":"aa5c1573dcdc19cf890c3478ade94e12f857cb4f36a95548ef88bd3a9997bc56","incidentID":"INC-000777","kind":"quarantined","payload":{"already_quarantined":"0","documents":"3,4","reason":"z ≥ 5"},"previousHash":"0689712d938a9c2684fe0d8a32fefeaed4b6b786e2ca01d7ae0acd5d640006ac","sequence":2},{"actor":"alice","at":"2026-09-21T14:13:22.000Z","hash":"9a8fee5427a257b90d2ed4336c29240ffa4f09f8f9127212d410f19add7b524a","incidentID":"INC-000777","kind":"rebuild_succeeded","payload":{"job_id":"9"},"previousHash":"aa5c1573dcdc19cf890c3478ade94e12f857cb4f36a95548ef88bd3a9997bc56","sequence":3},{"actor":"bob","at":"2026-09-21T14:13:23.000Z","hash":"ea510aac47065a7b37d7bce4b9bf35c5f3a29719f5337fb48e4109cca991224e","incidentID":"INC-000777","kind":"note_from_the_future","payload":{},"previousHash":"9a8fee5427a257b90d2ed4336c29240ffa4f09f8f9127212d410f19add7b524a","sequence":4}]"#
}

/// Typed payloads (version 2): numbers stay numbers through JSON, version-1 text reads as the
/// typed value, and events written today by the typed writers keep verifying.
final class EventPayloadTests: XCTestCase {
    func testPayloadValuesSurviveTheirJSON() throws {
        let fields: PayloadFields = ["count": 3, "z": 3.21, "whole": .number(2), "on": true, "ids": ["a", 7], "none": .null,
                                     "nested": ["k": 1.5]]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let bytes = try encoder.encode(fields)
        let back = try JSONDecoder().decode(PayloadFields.self, from: bytes)
        XCTAssertEqual(back, fields, "a whole number written as .number reads back as .integer, and they are equal")
        XCTAssertEqual(back["whole"], .integer(2))
        XCTAssertEqual(try encoder.encode(back), bytes, "the bytes a hash covers come back the same")
        XCTAssertEqual(PayloadValue.rounded(0.98765, places: 3), .number(0.988))
    }

    func testANonFiniteNumberIsRefusedAndNothingIsAppended() {
        var timeline = Timeline(incidentID: "INC-000001")
        let ended = RebuildEnded(state: .succeeded, jobID: 1, tenants: ["acme"], validation: ["acme": ["z": .number(.nan)]], error: nil)
        XCTAssertThrowsError(try timeline.append(ended, actor: "ic"))
        XCTAssertTrue(timeline.events.isEmpty)
    }

    func testVersionOneTextReadsAsTheTypedPayload() throws {
        var timeline = Timeline(incidentID: "INC-000001")
        try timeline.append(kind: .quarantined, actor: "ic", text: ["collection_id": "4", "documents": "3,4", "already_quarantined": "1",
                                                                    "reason": "z ≥ 5", "evidence_sha256": String(repeating: "a", count: 64),
                                                                    "evidence_documents": "2"])
        try timeline.append(kind: .blastRadius, actor: "ic", text: ["documents": "2", "requests": "3", "tenants": "1",
                                                                    "by_tenant": #"[{"first":"f","last":"l","requests":3,"tenant":"acme","trace_ids":["t1"]}]"#])
        try timeline.append(kind: .rebuildFailed, actor: "ic", text: ["job_id": "9", "tenants": "acme,globex", "acme.self_recall": "0.990",
                                                                      "acme.scan_flagged": "0", "error": "validation"])
        try timeline.append(kind: .decision, actor: "ic", text: ["what": "contain", "why": "hub", "options_not_taken": "wait\nrollback"])
        XCTAssertEqual(timeline.events.map(\.payloadVersion), [1, 1, 1, 1])
        let quarantined = try timeline.events[0].decoded(Quarantined.self)
        XCTAssertEqual(quarantined, Quarantined(collectionID: 4, documents: [DocumentReference(externalID: nil, rowID: 3),
                                                                             DocumentReference(externalID: nil, rowID: 4)],
                                                alreadyQuarantined: 1, reason: "z ≥ 5", evidenceSHA256: String(repeating: "a", count: 64),
                                                evidenceDocuments: 2))
        let radius = try timeline.events[1].decoded(BlastRadiusMeasured.self)
        XCTAssertEqual(radius.byTenant, [.init(tenant: "acme", requests: 3, first: "f", last: "l", traceIDs: ["t1"])])
        let ended = try timeline.events[2].decoded(RebuildEnded.self)
        XCTAssertEqual(ended.state, .failed)
        XCTAssertEqual(ended.tenants, ["acme", "globex"])
        XCTAssertEqual(ended.validation, ["acme": ["self_recall": .number(0.99), "scan_flagged": .integer(0)]])
        XCTAssertEqual(timeline.decisions.first?.optionsNotTaken, ["wait", "rollback"])
        XCTAssertThrowsError(try timeline.events[0].decoded(Released.self), "a payload is read only as its own kind's")
        XCTAssertTrue(timeline.verify().intact, "the upgrade is a reading: the stored fields are untouched")
    }

    /// Written today by the typed writers and kept verbatim (with the version-1 goldens above):
    /// a later build must still decode these bytes, read them typed, and verify them.
    static func writtenTyped() throws -> Timeline {
        let at = Date(timeIntervalSince1970: 1_800_000_000)
        var (incident, timeline) = try Incident.declare(id: "INC-000778", title: "hub", severity: .sev1, taxonomyClass: .corpus,
                                                        reporter: "hubscan", detectedAt: at, at: at, collection: "docs")
        try timeline.append(Quarantined(collectionID: 4, documents: [DocumentReference(externalID: "doc-3", rowID: 3)],
                                        alreadyQuarantined: 0, reason: "z ≥ 5"), actor: "alice", at: at.addingTimeInterval(1))
        try timeline.append(RebuildEnded(state: .succeeded, jobID: 9, tenants: ["acme"],
                                         validation: ["acme": ["self_recall": .rounded(0.99, places: 3), "scan_flagged": 0]], error: nil),
                            actor: "alice", at: at.addingTimeInterval(2))
        try incident.transition(to: .contained, reason: "held", actor: "alice", at: at.addingTimeInterval(3), timeline: &timeline)
        return timeline
    }

    func testTypedEventsWrittenTodayKeepVerifying() throws {
        let timeline = try Self.writtenTyped()
        XCTAssertEqual(timeline.events.map(\.payloadVersion), [2, 2, 2, 2])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let written = String(decoding: try encoder.encode(timeline.events), as: UTF8.self)
        XCTAssertEqual(timeline.head, Self.goldenHead, "the canonical bytes of a typed event changed; written: \(written)")
        let stored = try JSONDecoder().decode([IncidentEvent].self, from: Data(Self.goldenEvents.utf8))
        XCTAssertEqual(stored, timeline.events)
        XCTAssertTrue(Timeline(incidentID: "INC-000778", events: stored).verify().intact)
        XCTAssertEqual(try stored[1].decoded(Quarantined.self).documents.first?.externalID, "doc-3")
        XCTAssertEqual(try stored[2].decoded(RebuildEnded.self).validation["acme"]?["self_recall"], .number(0.99))
    }

    static let goldenHead = "daace1bd0712227573770b63b0f84f27f96412cabc5181ad6350bb43ca47901a"
    static let goldenEvents = #"[{"actor":"hubscan","at":"2027-01-15T08:00:00.000Z","hash":"959719066587d5730ce413beeeab0ac75d378562314617d5be15625a367653cd","incidentID":"INC-000778","kind":"declared","payload":{"class":"corpus","collection":"docs","detected_at":"2027-01-15T08:00:00.000Z","severity":"SEV-1","title":"hub"},"payloadVersion":2,"previousHash":"0000000000000000000000000000000000000000000000000000000000000000","sequence":1},{"actor":"alice","at":"2027-01-15T08:00:01.000Z","hash":"3cb5b6634111444518b8d3a8d0962641853a4cc6a48935347edc9f1cc73078ca","incidentID":"INC-000778","kind":"quarantined","payload":{"already_quarantined":0,"collection_id":4,"documents":[{"external_id":"doc-3","row_id":3}],"reason":"z ≥ 5"},"payloadVersion":2,"previousHash":"959719066587d5730ce413beeeab0ac75d378562314617d5be15625a367653cd","sequence":2},{"actor":"alice","at":"2027-01-15T08:00:02.000Z","hash":"404c32d773c14102adf2209607318136dffbc8ac1c3fa0dbb5f28f043fd7e0c5","incidentID":"INC-000778","kind":"rebuild_succeeded","payload":{"job_id":9,"tenants":["acme"],"validation":{"acme":{"scan_flagged":0,"self_recall":0.99}}},"payloadVersion":2,"previousHash":"3cb5b6634111444518b8d3a8d0962641853a4cc6a48935347edc9f1cc73078ca","sequence":3},{"actor":"alice","at":"2027-01-15T08:00:03.000Z","hash":"daace1bd0712227573770b63b0f84f27f96412cabc5181ad6350bb43ca47901a","incidentID":"INC-000778","kind":"transitioned","payload":{"from":"declared","reason":"held","to":"contained"},"payloadVersion":2,"previousHash":"404c32d773c14102adf2209607318136dffbc8ac1c3fa0dbb5f28f043fd7e0c5","sequence":4}]"#
}
