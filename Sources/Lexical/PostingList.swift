/// The postings of one term: document ids in increasing order, each with its term frequency.
///
/// Full blocks of `blockPostings` entries are sealed into `bytes`, delta-encoded as LEB128
/// varints with Lucene's trick for the common case: the varint `delta << 1 | (tf == 1)`,
/// followed by a varint tf only when tf ≠ 1. Most postings take one byte. The last,
/// partial block stays decoded in `tail` so that adding a document appends in O(1).
///
/// Each sealed block keeps skip data: its last document id (to jump over it) and the
/// largest tf and smallest document length in it (to bound the best score it can give).
struct PostingList: Sendable, Equatable {
    static let blockPostings = 128

    struct Block: Sendable, Equatable {
        var lastDocument: UInt32
        var byteOffset: UInt32
        var maxFrequency: UInt32
        var minLength: UInt32
    }

    private(set) var bytes: [UInt8] = []
    private(set) var blocks: [Block] = []
    private(set) var tailDocuments: [UInt32] = []
    private(set) var tailFrequencies: [UInt32] = []
    private var tailMinLength = UInt32.max
    /// Postings stored, deleted documents included.
    var count: Int { blocks.count * Self.blockPostings + tailDocuments.count }
    /// Largest tf and smallest document length anywhere in the list: the list's score bound.
    private(set) var maxFrequency: UInt32 = 0
    private(set) var minLength = UInt32.max
    /// Live documents containing the term (maintained by the index on add and delete).
    var documentFrequency = 0

    var lastDocument: UInt32? { tailDocuments.last ?? blocks.last?.lastDocument }

    mutating func append(document: UInt32, frequency: UInt32, length: UInt32) {
        precondition(frequency > 0, "a posting has tf ≥ 1")
        if let last = lastDocument { precondition(document > last, "postings are appended in id order") }
        tailDocuments.append(document)
        tailFrequencies.append(frequency)
        tailMinLength = min(tailMinLength, length)
        maxFrequency = max(maxFrequency, frequency)
        minLength = min(minLength, length)
        if tailDocuments.count == Self.blockPostings { sealTail() }
    }

    private mutating func sealTail() {
        var previous = blocks.last?.lastDocument ?? 0
        let offset = UInt32(bytes.count)
        for (document, frequency) in zip(tailDocuments, tailFrequencies) {
            let delta = document - previous
            VarInt.append(UInt64(delta) << 1 | (frequency == 1 ? 1 : 0), to: &bytes)
            if frequency != 1 { VarInt.append(UInt64(frequency), to: &bytes) }
            previous = document
        }
        blocks.append(Block(lastDocument: previous, byteOffset: offset,
                            maxFrequency: tailFrequencies.max()!, minLength: tailMinLength))
        tailDocuments.removeAll(keepingCapacity: true)
        tailFrequencies.removeAll(keepingCapacity: true)
        tailMinLength = .max
    }

    /// Decodes block `index` (or the tail when `index == blocks.count`) into the buffers,
    /// which hold at least `blockPostings` entries. Returns the number of postings.
    func decode(block index: Int, documents: UnsafeMutablePointer<UInt32>,
                frequencies: UnsafeMutablePointer<UInt32>) -> Int {
        if index == blocks.count {
            for i in tailDocuments.indices {
                documents[i] = tailDocuments[i]
                frequencies[i] = tailFrequencies[i]
            }
            return tailDocuments.count
        }
        var document = index == 0 ? 0 : blocks[index - 1].lastDocument
        bytes.withUnsafeBufferPointer { raw in
            var at = Int(blocks[index].byteOffset)
            for i in 0..<Self.blockPostings {
                let code = VarInt.read(raw, at: &at)
                document += UInt32(truncatingIfNeeded: code >> 1)
                documents[i] = document
                frequencies[i] = code & 1 == 1 ? 1 : UInt32(truncatingIfNeeded: VarInt.read(raw, at: &at))
            }
        }
        return Self.blockPostings
    }

    /// The last document of block `index` (the tail's when `index == blocks.count`).
    func lastDocument(ofBlock index: Int) -> UInt32 {
        index < blocks.count ? blocks[index].lastDocument : (tailDocuments.last ?? 0)
    }

    /// Every (document, tf) in order; for persistence, integrity checks and tests.
    func forEachPosting(_ body: (UInt32, UInt32) -> Void) {
        let documents = UnsafeMutablePointer<UInt32>.allocate(capacity: Self.blockPostings)
        let frequencies = UnsafeMutablePointer<UInt32>.allocate(capacity: Self.blockPostings)
        defer { documents.deallocate(); frequencies.deallocate() }
        for block in 0...blocks.count {
            let n = decode(block: block, documents: documents, frequencies: frequencies)
            for i in 0..<n { body(documents[i], frequencies[i]) }
        }
    }
}

/// Unsigned LEB128: seven bits per byte, high bit set on every byte but the last.
enum VarInt {
    static func append(_ value: UInt64, to bytes: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    /// Reads one varint at `offset` and moves past it. The caller guarantees a well-formed
    /// stream (sealed blocks are written by `append`; loaded files are verified first).
    @inline(__always)
    static func read(_ bytes: UnsafeBufferPointer<UInt8>, at offset: inout Int) -> UInt64 {
        var byte = bytes[offset]
        offset += 1
        if byte < 0x80 { return UInt64(byte) }
        var value = UInt64(byte & 0x7f)
        var shift: UInt64 = 7
        repeat {
            byte = bytes[offset]
            offset += 1
            value |= UInt64(byte & 0x7f) << shift
            shift += 7
        } while byte >= 0x80 && shift < 64
        return value
    }
}
