import DurableFile

extension LexicalIndex {
    /// Saves the index atomically (write, fsync, rename) in `LexicalFileFormat` version 1.
    /// Returns the file size in bytes.
    @discardableResult
    public func save(to path: String) throws(LexicalError) -> Int {
        var out = ByteWriter()
        encodeHeader(into: &out)
        for label in labels { out.append(label) }
        for length in lengths { out.append(length) }
        for word in deletedWords.prefix((documentCount + 63) / 64) { out.append(word) }
        for (term, list) in zip(terms, postings) {
            let utf8 = Array(term.utf8)
            out.append(UInt32(utf8.count))
            out.append(bytes: utf8)
            var stream: [UInt8] = []
            var previous: UInt32 = 0
            list.forEachPosting { document, frequency in
                VarInt.append(UInt64(document - previous) << 1 | (frequency == 1 ? 1 : 0), to: &stream)
                if frequency != 1 { VarInt.append(UInt64(frequency), to: &stream) }
                previous = document
            }
            out.append(UInt32(list.count))
            out.append(UInt32(stream.count))
            out.append(bytes: stream)
        }
        do {
            var writer = try AtomicFileWriter(path: path)
            try writer.write(out.bytes)
            try LexicalFileFormat.envelope.appendFooter(to: &writer)
            let size = writer.bytesWritten
            try writer.commit()
            return size
        } catch {
            throw LexicalError(.io, error.message)
        }
    }

    private func encodeHeader(into out: inout ByteWriter) {
        let configuration = analyzer.configuration
        out.append(bytes: LexicalFileFormat.magic)
        out.append(LexicalFileFormat.version)
        out.append(Analyzer.version)
        out.append(UInt8(configuration.foldsCompatibility ? 1 : 0))
        out.append(configuration.tokenPattern.rawValue)
        out.append(configuration.stopWords.rawValue)
        out.append(UInt8(configuration.stems ? 1 : 0))
        out.append(parameters.k1)
        out.append(parameters.b)
        out.append(UInt32(0))
        out.append(UInt64(documentCount))
        out.append(UInt64(termCount))
        out.append(UInt64(postings.reduce(0) { $0 + $1.count }))
        out.append(UInt64(0))
        assert(out.bytes.count == LexicalFileFormat.headerBytes)
    }

    /// Loads and verifies an index file (see `LexicalFileFormat` for the checks). A file that
    /// fails any of them is refused with an error naming the problem.
    public static func load(from path: String) throws(LexicalError) -> LexicalIndex {
        let file: MappedFile
        do {
            file = try MappedFile(path: path)
        } catch {
            throw LexicalError(.io, error.message)
        }
        let raw = file.bytes
        let body = try verifiedBody(raw, path: path)
        var reader = ByteReader(raw, from: 0, to: body, path: path)
        let index = try decodeHeader(&reader)
        let documents = Int(raw.loadUnaligned(fromByteOffset: 32, as: UInt64.self).littleEndian)
        let termCount = Int(raw.loadUnaligned(fromByteOffset: 40, as: UInt64.self).littleEndian)
        try index.decodeDocuments(&reader, count: documents)
        try index.decodeTerms(&reader, count: termCount)
        guard reader.offset == body else { throw reader.corrupted("\(body - reader.offset) unexplained bytes") }
        index.rebuildDerivedState()
        if let problem = index.integrityProblem() {
            throw LexicalError(.fileCorrupted, "\(path): \(problem)")
        }
        return index
    }

    /// Size, magic, version, footer and checksum. Returns where the footer starts.
    private static func verifiedBody(_ raw: UnsafeRawBufferPointer, path: String) throws(LexicalError) -> Int {
        if let problem = LexicalFileFormat.envelope.problem(in: raw) {
            let code: LexicalError.Code
            switch problem.kind {
            case .truncated: code = .fileTruncated
            case .corrupted: code = .fileCorrupted
            case .unsupportedVersion: code = .unsupportedVersion
            }
            throw LexicalError(code, "\(path): \(LexicalFileFormat.envelope.explain(problem))")
        }
        return raw.count - LexicalFileFormat.footerBytes
    }

    private static func decodeHeader(_ reader: inout ByteReader) throws(LexicalError) -> LexicalIndex {
        _ = try reader.readBytes(12)  // magic and version, verified already
        let analyzerVersion = try reader.read(UInt32.self)
        guard analyzerVersion == Analyzer.version else {
            throw LexicalError(.analyzerMismatch, "\(reader.path): written by analyzer version \(analyzerVersion); this build analyses queries with version \(Analyzer.version)")
        }
        let folds = try reader.read(UInt8.self), pattern = try reader.read(UInt8.self)
        let stop = try reader.read(UInt8.self), stems = try reader.read(UInt8.self)
        guard folds <= 1, stems <= 1, let tokenPattern = AnalyzerConfiguration.TokenPattern(rawValue: pattern),
              let stopWords = AnalyzerConfiguration.StopWords(rawValue: stop) else {
            throw reader.corrupted("unknown analyzer configuration")
        }
        let k1 = Float(bitPattern: try reader.read(UInt32.self))
        let b = Float(bitPattern: try reader.read(UInt32.self))
        _ = try reader.readBytes(36)  // reserved, counts (read by the caller), reserved
        let configuration = AnalyzerConfiguration(foldsCompatibility: folds == 1, tokenPattern: tokenPattern,
                                                  stopWords: stopWords, stems: stems == 1)
        do {
            return try LexicalIndex(analyzer: configuration, parameters: BM25Parameters(k1: k1, b: b))
        } catch {
            throw LexicalError(.fileCorrupted, "\(reader.path): \(error.message)")
        }
    }

    private func decodeDocuments(_ reader: inout ByteReader, count: Int) throws(LexicalError) {
        guard count >= 0, count <= Self.documentsMax, count <= (reader.end - reader.offset) / 12 else {
            throw reader.corrupted("document count \(count) does not fit the file")
        }
        labels = try (0..<count).map { _ throws(LexicalError) in try reader.read(UInt64.self) }
        lengths = try (0..<count).map { _ throws(LexicalError) in try reader.read(UInt32.self) }
        deletedWords = try (0..<((count + 63) / 64)).map { _ throws(LexicalError) in try reader.read(UInt64.self) }
        if count % 64 != 0, let last = deletedWords.last, last >> UInt64(count % 64) != 0 {
            throw reader.corrupted("deleted bits set beyond the last document")
        }
    }

    private func decodeTerms(_ reader: inout ByteReader, count: Int) throws(LexicalError) {
        guard count >= 0, count <= (reader.end - reader.offset) / 12 else {
            throw reader.corrupted("term count \(count) does not fit the file")
        }
        for _ in 0..<count {
            let termBytes = Int(try reader.read(UInt32.self))
            guard termBytes <= LexicalFileFormat.termBytesMax,
                  let term = String(validating: try reader.readBytes(termBytes), as: UTF8.self),
                  termIDs[term] == nil else {
                throw reader.corrupted("term is too long, not UTF-8 or repeated")
            }
            let id = termID(creating: term)
            let postingCount = Int(try reader.read(UInt32.self))
            let streamBytes = Int(try reader.read(UInt32.self))
            var stream = ByteReader(try reader.readBytes(streamBytes), from: 0, to: streamBytes, path: reader.path)
            var document: UInt64 = 0
            for i in 0..<postingCount {
                let code = try stream.readVarInt()
                let frequency = code & 1 == 1 ? 1 : try stream.readVarInt()
                document += code >> 1
                guard (i == 0 || code >> 1 > 0), document < UInt64(lengths.count), frequency >= 1,
                      frequency <= UInt64(lengths[Int(document)]) else {
                    throw stream.corrupted("posting \(i) of \"\(term)\" is out of order or out of range")
                }
                postings[Int(id)].append(document: UInt32(document), frequency: UInt32(frequency),
                                         length: lengths[Int(document)])
            }
            guard stream.offset == streamBytes else { throw stream.corrupted("postings of \"\(term)\" have trailing bytes") }
        }
    }

    /// Labels map, document frequencies, forward index and statistics from the decoded tables.
    private func rebuildDerivedState() {
        var termsPerDocument = [Int](repeating: 0, count: documentCount)
        for (id, _) in postings.enumerated() {
            var live = 0
            postings[id].forEachPosting { document, _ in
                termsPerDocument[Int(document)] += 1
                if !isDeleted(document) { live += 1 }
            }
            postings[id].documentFrequency = live
        }
        documentTermStarts = [0]
        for count in termsPerDocument { documentTermStarts.append(documentTermStarts.last! + count) }
        documentTerms = [UInt32](repeating: 0, count: documentTermStarts.last!)
        var fill = documentTermStarts
        for (id, list) in postings.enumerated() {
            list.forEachPosting { document, _ in
                documentTerms[fill[Int(document)]] = UInt32(id)
                fill[Int(document)] += 1
            }
        }
        for document in 0..<documentCount where !isDeleted(UInt32(document)) {
            labelToDocument[labels[document]] = UInt32(document)
            liveCount += 1
            totalLiveLength += UInt64(lengths[document])
        }
    }
}
