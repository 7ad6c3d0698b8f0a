import DurableFile

/// The HNSW index file, version 1. All integers little-endian; every section starts at a
/// 64-byte boundary so the file can be memory-mapped and read in place.
///
/// ```
/// offset  size  field
///      0     8  magic "FBHNSW\0\1"
///      8     4  format version (1)
///     12     4  header size in bytes (128)
///     16     4  dimension
///     20     4  metric code (1 = l2, 2 = ip, 3 = cosine)
///     24     4  M
///     28     4  efConstruction
///     32     4  efSearch
///     36     4  top level (int32, -1 when empty)
///     40     8  node count n
///     48     8  tombstone count
///     56     8  entry point id (UInt32.max when empty)
///     64     8  upper-link words u (UInt32 count of the upper-links section)
///     72     8  level-0 record bytes r = 4·(1 + 2M) + 4·dimension
///     80     8  level-generator seed
///     88    40  reserved, zero
/// sections, each padded to 64 bytes:
///   level-0 records  n · r   [degree u32][2M neighbour ids u32][dimension float32]
///   labels           n · 8   external labels, u64
///   levels           n · 1   u8
///   tombstones       ⌈n/64⌉ · 8  bitset words
///   upper links      u · 4   for each node with level L > 0, in id order: L blocks of
///                            [degree u32][M neighbour ids u32]
/// footer (16 bytes):  CRC-32C of every byte before the footer (u32), version (u32),
///                     magic "FBHNSEND"
/// ```
/// A reader refuses a file whose magic, version, sizes, checksum or graph structure do not
/// verify, naming the problem.
enum HNSWFileFormat {
    static let version: UInt32 = 1
    static let headerBytes = 128
    static let envelope = FileEnvelope(magic: Array("FBHNSW".utf8) + [0, 1], footerMagic: Array("FBHNSEND".utf8),
                                       version: version, headerBytes: headerBytes, name: "Firebreak HNSW file")
    static var magic: [UInt8] { envelope.magic }
    static let footerBytes = FileEnvelope.footerBytes
    static let alignment = 64

    static func aligned(_ offset: Int) -> Int { (offset + alignment - 1) / alignment * alignment }

    /// Section offsets and the total size for a graph of the given shape.
    struct Layout: Equatable {
        let records: Int
        let labels: Int
        let levels: Int
        let tombstones: Int
        let upperLinks: Int
        let footer: Int

        init(count: Int, recordBytes: Int, upperWords: Int) {
            records = HNSWFileFormat.aligned(HNSWFileFormat.headerBytes)
            labels = HNSWFileFormat.aligned(records + count * recordBytes)
            levels = HNSWFileFormat.aligned(labels + count * 8)
            tombstones = HNSWFileFormat.aligned(levels + count)
            upperLinks = HNSWFileFormat.aligned(tombstones + GraphStorage.wordCount(count) * 8)
            footer = HNSWFileFormat.aligned(upperLinks + upperWords * 4)
        }

        var fileBytes: Int { footer + HNSWFileFormat.footerBytes }
    }

    /// The fixed header, as read from or written to the first 128 bytes.
    struct Header: Equatable {
        var dimension: UInt32
        var metric: UInt32
        var m: UInt32
        var efConstruction: UInt32
        var efSearch: UInt32
        var topLevel: Int32
        var count: UInt64
        var deletedCount: UInt64
        var entryPoint: UInt64
        var upperWords: UInt64
        var recordBytes: UInt64
        var seed: UInt64

        func encoded() -> [UInt8] {
            var bytes = HNSWFileFormat.magic
            func put<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
            put(HNSWFileFormat.version)
            put(UInt32(HNSWFileFormat.headerBytes))
            for value in [dimension, metric, m, efConstruction, efSearch] { put(value) }
            put(topLevel)
            for value in [count, deletedCount, entryPoint, upperWords, recordBytes, seed] { put(value) }
            bytes += [UInt8](repeating: 0, count: HNSWFileFormat.headerBytes - bytes.count)
            assert(bytes.count == HNSWFileFormat.headerBytes)
            return bytes
        }

        /// Decodes a header; the caller has checked magic and version.
        init(decoding raw: UnsafeRawBufferPointer) {
            func get<T: FixedWidthInteger>(_ offset: Int, _: T.Type) -> T {
                T(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: T.self))
            }
            dimension = get(16, UInt32.self)
            metric = get(20, UInt32.self)
            m = get(24, UInt32.self)
            efConstruction = get(28, UInt32.self)
            efSearch = get(32, UInt32.self)
            topLevel = get(36, Int32.self)
            count = get(40, UInt64.self)
            deletedCount = get(48, UInt64.self)
            entryPoint = get(56, UInt64.self)
            upperWords = get(64, UInt64.self)
            recordBytes = get(72, UInt64.self)
            seed = get(80, UInt64.self)
        }

        init(dimension: UInt32, metric: UInt32, m: UInt32, efConstruction: UInt32, efSearch: UInt32,
             topLevel: Int32, count: UInt64, deletedCount: UInt64, entryPoint: UInt64, upperWords: UInt64,
             recordBytes: UInt64, seed: UInt64) {
            self.dimension = dimension
            self.metric = metric
            self.m = m
            self.efConstruction = efConstruction
            self.efSearch = efSearch
            self.topLevel = topLevel
            self.count = count
            self.deletedCount = deletedCount
            self.entryPoint = entryPoint
            self.upperWords = upperWords
            self.recordBytes = recordBytes
            self.seed = seed
        }
    }
}

#if _endian(big)
#error("The HNSW file format is little-endian; big-endian hosts need byte swapping in HNSWIndex+Persistence.")
#endif
