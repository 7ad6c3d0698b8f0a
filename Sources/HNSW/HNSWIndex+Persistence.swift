import DurableFile
import VectorMath

extension HNSWIndex {
    /// Saves the index atomically in the format of `HNSWFileFormat` (version 1).
    /// Returns the file size in bytes.
    @discardableResult
    public func save(to path: String) throws(HNSWError) -> Int {
        do {
            return try write(to: path)
        } catch {
            throw HNSWError(.io, error.message)
        }
    }

    private func write(to path: String) throws(DurableFileError) -> Int {
        let view = storage.view
        let upperWords = (0..<count).reduce(0) { $0 + Int(storage.levels[$1]) * (1 + parameters.m) }
        let layout = HNSWFileFormat.Layout(count: count, recordBytes: storage.recordBytes, upperWords: upperWords)
        let top = loadTop()
        let header = HNSWFileFormat.Header(
            dimension: UInt32(parameters.dimension), metric: parameters.metric.code, m: UInt32(parameters.m),
            efConstruction: UInt32(parameters.efConstruction), efSearch: UInt32(parameters.efSearch),
            topLevel: Int32(top?.level ?? -1), count: UInt64(count), deletedCount: UInt64(deletedCount),
            entryPoint: UInt64(top?.entry ?? UInt32.max), upperWords: UInt64(upperWords),
            recordBytes: UInt64(storage.recordBytes), seed: parameters.seed)
        var writer = try AtomicFileWriter(path: path)
        try writer.write(header.encoded())
        try writer.pad(to: layout.records)
        try writer.write(UnsafeRawBufferPointer(start: storage.records, count: count * storage.recordBytes))
        try writer.pad(to: layout.labels)
        try writer.write(UnsafeRawBufferPointer(start: storage.labels, count: count * 8))
        try writer.pad(to: layout.levels)
        try writer.write(UnsafeRawBufferPointer(start: storage.levels, count: count))
        try writer.pad(to: layout.tombstones)
        try writer.write(UnsafeRawBufferPointer(start: view.deletedWords, count: GraphStorage.wordCount(count) * 8))
        try writer.pad(to: layout.upperLinks)
        for node in 0..<count where storage.levels[node] > 0 {
            let words = Int(storage.levels[node]) * (1 + parameters.m)
            try writer.write(UnsafeRawBufferPointer(start: storage.upperLinks[node]!, count: words * 4))
        }
        try writer.pad(to: layout.footer)
        try HNSWFileFormat.envelope.appendFooter(to: &writer)
        assert(writer.bytesWritten == layout.fileBytes, "file size disagrees with its layout")
        try writer.commit()
        return layout.fileBytes
    }

    /// Loads and verifies an index file: magic, version, sizes, CRC-32C, parameters, and the
    /// graph's structure (`integrityProblem`). A file that fails any check is refused with an
    /// error naming the problem; nothing from it is ever served.
    public static func load(from path: String) throws(HNSWError) -> HNSWIndex {
        let file: MappedFile
        do {
            file = try MappedFile(path: path)
        } catch {
            throw HNSWError(.io, error.message)
        }
        let raw = file.bytes
        let header = try verifiedHeader(raw, path: path)
        let parameters = try parametersOf(header, path: path)
        let count = Int(header.count)
        let layout = HNSWFileFormat.Layout(count: count, recordBytes: Int(header.recordBytes),
                                           upperWords: Int(header.upperWords))
        guard raw.count >= layout.fileBytes else {
            throw HNSWError(.fileTruncated, "\(path): \(raw.count) bytes, the header promises \(layout.fileBytes)")
        }
        guard raw.count == layout.fileBytes else {
            throw HNSWError(.fileCorrupted, "\(path): \(raw.count) bytes, the header promises \(layout.fileBytes)")
        }
        let index = try HNSWIndex(parameters: parameters, capacity: max(count, 1))
        try index.restore(from: raw, header: header, layout: layout, path: path)
        if let problem = index.structuralProblem() {
            throw HNSWError(.fileCorrupted, "\(path): graph structure is invalid: \(problem)")
        }
        // A sound graph may still hold nodes no search can reach (written by an older build,
        // or an island the incremental repair missed): reconnect them before serving.
        if index.integrityProblem() != nil {
            index.repairOrphans(batchSize: index.count, suspects: [], entryMoved: true)
            if let problem = index.integrityProblem() {
                throw HNSWError(.fileCorrupted, "\(path): graph structure is invalid after repair: \(problem)")
            }
        }
        return index
    }

    /// Checks size, magic, version, footer and checksum, then decodes the header.
    private static func verifiedHeader(_ raw: UnsafeRawBufferPointer, path: String) throws(HNSWError) -> HNSWFileFormat.Header {
        if let problem = HNSWFileFormat.envelope.problem(in: raw) {
            let code: HNSWError.Code
            switch problem.kind {
            case .truncated: code = .fileTruncated
            case .corrupted: code = .fileCorrupted
            case .unsupportedVersion: code = .unsupportedVersion
            }
            throw HNSWError(code, "\(path): \(HNSWFileFormat.envelope.explain(problem))")
        }
        return HNSWFileFormat.Header(decoding: raw)
    }

    private static func parametersOf(_ header: HNSWFileFormat.Header, path: String) throws(HNSWError) -> HNSWParameters {
        guard let metric = Metric(code: header.metric) else {
            throw HNSWError(.fileCorrupted, "\(path): unknown metric code \(header.metric)")
        }
        let parameters = HNSWParameters(dimension: Int(header.dimension), metric: metric, m: Int(header.m),
                                        efConstruction: Int(header.efConstruction),
                                        efSearch: Int(header.efSearch), seed: header.seed)
        do { try parameters.validate() } catch {
            throw HNSWError(.fileCorrupted, "\(path): \(error.message)")
        }
        guard header.count <= UInt64(HNSWParameters.countMax),
              header.recordBytes == UInt64((1 + 2 * parameters.m) * 4 + 4 * parameters.dimension),
              header.deletedCount <= header.count else {
            throw HNSWError(.fileCorrupted, "\(path): header counts are inconsistent")
        }
        return parameters
    }

    /// Copies the verified sections into this (empty) index's storage.
    private func restore(from raw: UnsafeRawBufferPointer, header: HNSWFileFormat.Header,
                         layout: HNSWFileFormat.Layout, path: String) throws(HNSWError) {
        let n = Int(header.count)
        let base = raw.baseAddress!
        storage.reserve(n, count: 0)
        storage.records.copyMemory(from: base + layout.records, byteCount: n * storage.recordBytes)
        UnsafeMutableRawPointer(storage.labels).copyMemory(from: base + layout.labels, byteCount: n * 8)
        UnsafeMutableRawPointer(storage.levels).copyMemory(from: base + layout.levels, byteCount: n)
        UnsafeMutableRawPointer(storage.deletedWords).copyMemory(from: base + layout.tombstones,
                                                                 byteCount: GraphStorage.wordCount(n) * 8)
        var offset = layout.upperLinks
        for node in 0..<n where storage.levels[node] > 0 {
            let level = Int(storage.levels[node])
            guard level <= Self.levelMax, offset + level * (1 + parameters.m) * 4 <= layout.footer else {
                throw HNSWError(.fileCorrupted, "\(path): node \(node) has an invalid level \(level)")
            }
            storage.allocateUpperLinks(node: node, level: level)
            UnsafeMutableRawPointer(storage.upperLinks[node]!).copyMemory(from: base + offset,
                                                                          byteCount: level * (1 + parameters.m) * 4)
            offset += level * (1 + parameters.m) * 4
        }
        guard offset - layout.upperLinks == Int(header.upperWords) * 4 else {
            throw HNSWError(.fileCorrupted, "\(path): upper-link section size disagrees with the levels")
        }
        count = n
        deletedCount = Int(header.deletedCount)
        labelToID.reserveCapacity(n)
        for node in 0..<n {
            guard labelToID.updateValue(UInt32(node), forKey: storage.labels[node]) == nil else {
                throw HNSWError(.fileCorrupted, "\(path): label \(storage.labels[node]) appears twice")
            }
        }
        if n > 0 {
            guard header.entryPoint < header.count, header.topLevel >= 0 else {
                throw HNSWError(.fileCorrupted, "\(path): entry point \(header.entryPoint) is out of range")
            }
            storeTop(entry: UInt32(header.entryPoint), level: Int(header.topLevel))
        }
        levelRNG = SplitMix64(seed: parameters.seed ^ UInt64(n))
        recountInDegrees()
    }
}
