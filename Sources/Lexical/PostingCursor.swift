/// Walks one posting list forward, one decoded block at a time.
///
/// `document` is the current posting's id, or `PostingCursor.exhausted` past the end.
/// `advance(to:)` skips whole blocks by their last id without decoding them. The cursor
/// borrows its buffers from the caller (`buffers`, 2 × `blockPostings` UInt32), which
/// outlive it; it never allocates.
struct PostingCursor {
    static let exhausted = UInt32.max

    let list: PostingList
    private let documents: UnsafeMutablePointer<UInt32>
    private let frequencies: UnsafeMutablePointer<UInt32>
    private var block = -1
    private var decoded = 0
    private var position = 0
    private(set) var document = PostingCursor.exhausted

    init(list: PostingList, buffers: UnsafeMutablePointer<UInt32>) {
        self.list = list
        documents = buffers
        frequencies = buffers + PostingList.blockPostings
        load(block: 0)
    }

    var frequency: UInt32 { frequencies[position] }

    /// Moves to the next posting.
    @inline(__always)
    mutating func next() {
        position += 1
        if position < decoded {
            document = documents[position]
        } else {
            load(block: block + 1)
        }
    }

    /// Moves to the first posting with id ≥ `target` (or stays, if already there).
    mutating func advance(to target: UInt32) {
        guard document < target else { return }
        if list.lastDocument(ofBlock: block) < target {
            var next = block + 1
            while next < list.blocks.count, list.blocks[next].lastDocument < target { next += 1 }
            load(block: next)
            guard document != Self.exhausted else { return }
        }
        while documents[position] < target {
            position += 1
            if position == decoded {  // only possible in the tail: every id in it is < target
                document = Self.exhausted
                return
            }
        }
        document = documents[position]
    }

    private mutating func load(block index: Int) {
        block = index
        position = 0
        decoded = index <= list.blocks.count
            ? list.decode(block: index, documents: documents, frequencies: frequencies) : 0
        document = decoded > 0 ? documents[0] : Self.exhausted
    }
}
