// Console+Scan — the collection page's latest scan: the histogram of every scored document's
// z as an inline SVG, the threshold drawn on it, the flagged documents marked, the flagged
// documents listed with their z per detector; then the scans before it, a page at a time.
//
// Owns: turning a stored `LabelledScanReport` into that section.
// Never: shows a tenant-scoped caller a scan of the whole collection or of another tenant (the
// rule of `GET /v1/scans/{id}`); draws anything from a value without escaping it.
// Invariant: the bars' heights are on a log scale (1 + count), so a single hub next to ten
// thousand clean documents is still a visible bar; the text beside the chart says the counts.

import Engine
import FirebreakAPI
import Foundation
import HubScan
import Store

extension Console {
    static let chartWidth = 640.0, chartHeight = 160.0, chartMargin = 24.0
    static let flaggedListedMax = 25

    /// The newest scan of what the collection serves, read and decoded once per page (the scan
    /// section and the quarantine table's evidence both use it); nil when there is none the
    /// caller may see.
    struct LatestScan {
        let stored: ScanReportRecords.Stored
        let labelled: LabelledScanReport
    }

    func latestScan(_ collection: LiveCollection, _ visit: Visit) async throws -> LatestScan? {
        let id = collection.configuration.id
        guard let stored = try await api.pool.withConnection({ try ScanReportRecords.latest(collectionID: id, on: $0) }),
              visit.caller.tenant == nil || visit.caller.tenant == stored.tenant else { return nil }
        return LatestScan(stored: stored, labelled: try stored.labelled())
    }

    func scanSection(_ collection: LiveCollection, latest: LatestScan?, scansBefore: Int64?, _ visit: Visit) async throws -> HTML {
        let history = try await scanHistory(collection, before: scansBefore, visit)
        guard let latest else {
            return """
                <section aria-labelledby="scan-heading"><h2 id="scan-heading">Latest scan</h2>
                <p>No scan of what this collection serves is visible to you yet.</p>\(history)</section>
                """
        }
        let stored = latest.stored, labelled = latest.labelled
        let report = labelled.report
        let threshold = report.parameters.threshold
        let scope = stored.tenant.map { "tenant " + $0 } ?? "the whole collection"
        let chart: HTML = report.zHistogram.map { Self.histogram($0, threshold: threshold, flagged: report.flagged.map(\.z)) }
            ?? "<p class=\"muted\">This report was stored before scans kept their score distribution.</p>"
        // At or above: the rule the alert and auto-contain policies act on.
        let atThreshold = report.flagged.filter { $0.z >= threshold }.count
        return """
            <section aria-labelledby="scan-heading" id="latest-scan" data-scan="\(String(stored.id))">
            <h2 id="scan-heading">Latest scan</h2>
            <p>Scan \(String(stored.id)) of \(scope), \(ConsoleTime.html(stored.createdAt)): highest z
            <strong>\(Self.decimal(stored.maxZ))</strong> against a threshold of \(Self.decimal(threshold));
            \(Self.count(atThreshold, "document")) at or above it, \(report.flagged.count) listed
            (\(report.parameters.sampleSize) sampled queries, top-\(report.parameters.k)).</p>
            \(chart)
            \(Self.flaggedTable(labelled, threshold: threshold))
            \(history)
            </section>
            """
    }

    /// The collection's scans the caller may see, newest first (a page of `scansListed`;
    /// `?scans_before=` pages on, as `GET /v1/collections/{name}/scans` does).
    func scanHistory(_ collection: LiveCollection, before: Int64?, _ visit: Visit) async throws -> HTML {
        let name = collection.configuration.name
        let page = try await api.scans(of: collection, limit: Self.scansListed, before: before, caller: visit.caller)
        guard !page.scans.isEmpty else { return .empty }
        let rows = HTML.join(page.scans.map { scan -> HTML in
            let what: String = scan.snapshotID.map { "snapshot " + $0 } ?? (scan.tenant.map { "tenant " + $0 } ?? "whole collection")
            let clean: HTML = scan.maxZ < scan.threshold ? "<span class=\"badge state-succeeded\">clean</span>"
                                                         : "<span class=\"badge state-failed\">above threshold</span>"
            return """
                <tr data-scan="\(String(scan.id))"><td class="num">\(String(scan.id))</td><td>\(what)</td>
                <td class="num">\(Self.decimal(scan.maxZ))</td><td class="num">\(Self.decimal(scan.threshold))</td>
                <td class="num">\(scan.flagged)</td><td>\(clean)</td><td>\(ConsoleTime.html(scan.createdAt))</td></tr>
                """
        })
        let older: HTML = page.nextBefore.map {
            "<p><a href=\"\(Console.path("collections", name))?scans_before=\(String($0))#scan-history\">Older scans</a></p>"
        } ?? .empty
        return """
            <h3 id="scan-history">Scans</h3>
            <div class="table-wrap"><table id="scans">
            <caption class="visually-hidden">Scans of \(name)</caption>
            <thead><tr><th class="num">Scan</th><th>Of</th><th class="num">Max z</th><th class="num">Threshold</th><th class="num">Flagged</th><th>Verdict</th><th>When</th></tr></thead>
            <tbody>\(rows)</tbody></table></div>
            \(older)
            """
    }

    static let scansListed = 10

    /// Bars of the z histogram; bins holding a flagged document in the `flagged` colour, a line
    /// at the threshold. Labelled for screen readers by the sentence under it.
    static func histogram(_ histogram: ZHistogram, threshold: Double, flagged: [Double]) -> HTML {
        let width = chartWidth - 2 * chartMargin, height = chartHeight - 2 * chartMargin
        let flaggedBins = Set(flagged.map(histogram.bin))
        let peak = log10(1 + Double(histogram.counts.max() ?? 0))
        let barWidth = width / Double(histogram.counts.count)
        func x(_ z: Double) -> Double { chartMargin + (z - histogram.lower) / (histogram.upper - histogram.lower) * width }
        let bars = histogram.counts.enumerated().map { index, count -> HTML in
            let barHeight = peak > 0 ? log10(1 + Double(count)) / peak * height : 0
            let low = histogram.lower + Double(index) * histogram.binWidth
            let kind = flaggedBins.contains(index) ? "bar flagged" : "bar"
            return """
                <rect class="\(kind)" x="\(Self.coordinate(chartMargin + Double(index) * barWidth))" y="\(Self.coordinate(chartMargin + height - barHeight))" width="\(Self.coordinate(max(barWidth - 1, 1)))" height="\(Self.coordinate(barHeight))"><title>z \(Self.decimal(low)) to \(Self.decimal(low + histogram.binWidth)): \(count) documents</title></rect>
                """
        }
        let thresholdOnChart = threshold >= histogram.lower && threshold <= histogram.upper
        let line: HTML = HTML.when(thresholdOnChart) {
            let at = Self.coordinate(x(threshold))
            return """
                <line class="threshold" x1="\(at)" x2="\(at)" y1="\(Self.coordinate(chartMargin - 8))" y2="\(Self.coordinate(chartMargin + height))"></line>
                <text class="axis" x="\(at)" y="\(Self.coordinate(chartMargin - 10))" text-anchor="middle">threshold \(Self.decimal(threshold))</text>
                """
        }
        let total = histogram.counts.reduce(0, +)
        let marked: HTML = flaggedBins.isEmpty ? "; no document was flagged"
            : "; bins holding a flagged document are marked<span class=\"swatch flagged\" aria-hidden=\"true\"></span>"
        let lined: HTML = thresholdOnChart
            ? "; the dashed line is the threshold (\(Self.decimal(threshold))) the alert and auto-contain policies act on."
            : threshold > histogram.upper ? "; the threshold (\(Self.decimal(threshold))) lies above the highest z: no document reaches it."
            : "; the threshold (\(Self.decimal(threshold))) lies below the lowest z."
        let captionTail: HTML = marked + lined
        let base = Self.coordinate(chartMargin + height + 14)
        return """
            <figure class="histogram">
            <svg viewBox="0 0 \(Self.coordinate(chartWidth)) \(Self.coordinate(chartHeight))" role="img" aria-labelledby="histogram-caption" id="z-histogram">
            \(bars)
            \(line)
            <text class="axis" x="\(Self.coordinate(chartMargin))" y="\(base)">z \(Self.decimal(histogram.lower))</text>
            <text class="axis" x="\(Self.coordinate(chartWidth - chartMargin))" y="\(base)" text-anchor="end">z \(Self.decimal(histogram.upper))</text>
            </svg>
            <figcaption id="histogram-caption">The z of all \(total) scored documents (bar heights on a log scale)\(captionTail)</figcaption>
            </figure>
            """
    }

    private static func flaggedTable(_ labelled: LabelledScanReport, threshold: Double) -> HTML {
        let flagged = labelled.report.flagged
        guard !flagged.isEmpty else { return "<p>No document was flagged.</p>" }
        let rows = flagged.indices.prefix(flaggedListedMax).map { index -> HTML in
            let entry = flagged[index], detectors = entry.detectors
            let state: HTML = entry.z >= threshold ? "<span class=\"badge state-failed\">at or above threshold</span>"
                                                  : "<span class=\"badge\">within budget</span>"
            let optional: (Double?) -> String = { $0.map(decimal) ?? "—" }
            return """
                <tr data-flagged="\(labelled.documentIDs[index])"><td><code>\(labelled.documentIDs[index])</code></td>
                <td>\(labelled.documentTenants[index])</td><td class="num">\(decimal(entry.z))</td><td>\(state)</td>
                <td class="num">\(decimal(detectors.hubnessZ))</td><td class="num">\(decimal(detectors.stabilityZ))</td>
                <td class="num">\(decimal(detectors.spreadZ))</td><td class="num">\(optional(detectors.domainZ))</td>
                <td class="num">\(optional(detectors.realZ))</td><td>\(entry.explanation.reason)</td></tr>
                """
        }
        let more: HTML = HTML.when(flagged.count > flaggedListedMax) {
            "<p class=\"muted\">\(flagged.count - flaggedListedMax) more in the full report (GET /v1/scans/{id}).</p>"
        }
        return """
            <div class="table-wrap"><table id="flagged">
            <caption class="visually-hidden">Documents the latest scan flagged</caption>
            <thead><tr><th>Document</th><th>Tenant</th><th class="num">z</th><th>Rule</th><th class="num">Hubness z</th>
            <th class="num">Stability z</th><th class="num">Spread z</th><th class="num">Domain z</th><th class="num">Real-query z</th><th>Why</th></tr></thead>
            <tbody>\(rows)</tbody></table></div>
            \(more)
            """
    }

    /// `1 document`, `3 documents`.
    static func count(_ n: Int, _ noun: String) -> String { "\(HTML.Interpolation.grouped(n)) \(noun)\(n == 1 ? "" : "s")" }

    /// An SVG coordinate: one decimal, never NaN.
    static func coordinate(_ value: Double) -> String { value.isFinite ? String(format: "%.1f", value) : "0" }
}
