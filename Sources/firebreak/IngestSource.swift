import ArgumentParser
import Foundation
import FirebreakAPI
import VectorMath

/// Reads a file a line at a time through a fixed buffer: memory is bounded by `chunkBytes`
/// and the longest line (at most `lineBytesMax`), not by the file.
struct LineReader {
    static let chunkBytes = 1 << 20
    static let lineBytesMax = 64 << 20

    private let handle: FileHandle
    private let path: String
    private var buffer = Data()
    private var atEnd = false
    /// The number of the line `next()` returned last (1-based).
    private(set) var lineNumber = 0

    init(path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ValidationError("cannot read \(path)") }
        self.handle = handle
        self.path = path
    }

    /// The next line without its newline, or nil at the end of the file.
    mutating func next() throws -> Data? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[buffer.startIndex..<newline]
                buffer = buffer[(newline + 1)...]
                lineNumber += 1
                return Data(line)
            }
            if atEnd {
                guard !buffer.isEmpty else { return nil }
                defer { buffer = Data() }
                lineNumber += 1
                return Data(buffer)
            }
            guard buffer.count <= Self.lineBytesMax else {
                throw ValidationError("\(path):\(lineNumber + 1): a line longer than \(Self.lineBytesMax) bytes")
            }
            let chunk = try handle.read(upToCount: Self.chunkBytes) ?? Data()
            if chunk.isEmpty { atEnd = true } else { buffer = Data(buffer) + chunk }
        }
    }

    /// Lines holding something other than spaces, counted in one streaming pass.
    static func countRecords(_ path: String) throws -> Int {
        var reader = try LineReader(path: path)
        var count = 0
        while let line = try reader.next() { if !isBlank(line) { count += 1 } }
        return count
    }

    static func isBlank(_ line: Data) -> Bool {
        !line.contains { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\t") }
    }
}

/// Where `firebreak ingest` takes its documents from, a batch at a time. A JSONL file is
/// streamed (one pass counts the records for the progress line, a second reads them as they
/// are sent), so memory is bounded by the batches in flight; an `.npy` or `.fvecs` matrix is
/// read whole (it is one array).
struct IngestSource {
    let total: Int
    private var reader: LineReader?
    private var loaded: [NewDocumentBody] = []
    private var position = 0
    private let path: String
    private let tenant: String?

    init(jsonl path: String, tenant: String?) throws {
        self.path = path
        self.tenant = tenant
        total = try LineReader.countRecords(path)
        reader = try LineReader(path: path)
    }

    init(documents: [NewDocumentBody]) {
        path = ""
        tenant = nil
        total = documents.count
        loaded = documents
    }

    /// Up to `size` documents; empty at the end. A malformed line throws naming its line.
    mutating func nextBatch(_ size: Int) throws -> [NewDocumentBody] {
        guard var reader else {
            defer { position = min(position + size, loaded.count) }
            return Array(loaded[position..<min(position + size, loaded.count)])
        }
        defer { self.reader = reader }
        var batch: [NewDocumentBody] = []
        while batch.count < size, let line = try reader.next() {
            guard !LineReader.isBlank(line) else { continue }
            do {
                // Read directly when the reader is sure (the floats are most of the file);
                // otherwise JSONDecoder reads it, or names what is wrong with it.
                var document = try line.withUnsafeBytes { IngestBodyReader.readDocument($0) }
                    ?? JSONDecoder.api.decode(NewDocumentBody.self, from: line)
                document.tenant = document.tenant ?? tenant
                batch.append(document)
            } catch let error as DecodingError {
                throw ValidationError("\(path):\(reader.lineNumber): \(error.fieldDescription)")
            }
        }
        return batch
    }
}
