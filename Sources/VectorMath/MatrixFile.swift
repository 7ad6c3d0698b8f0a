import Foundation

/// Reads dense matrices from the files benchmark and embedding tools write:
/// NumPy `.npy` (format 1.0–3.0, little-endian float32 / float16 / float64 / int32 / int64,
/// C order) and the TEXMEX `.fvecs` / `.ivecs` formats (each row: int32 dimension, then values).
public enum MatrixFile {
    /// The largest file accepted (a guard against reading a wrong path into memory).
    public static let fileBytesMax = 16 << 30

    /// A float matrix from `.npy` (float32/float16/float64) or `.fvecs`.
    public static func readFloats(_ path: String) throws(VectorMathError) -> Matrix {
        let data = try read(path)
        if path.hasSuffix(".fvecs") { return try parseVecs(data, path: path, asFloat: true).matrix }
        let npy = try NPY.parse(data, path: path)
        return try npy.floatMatrix(path: path)
    }

    /// An integer matrix (ground truth, excluded ids) from `.npy` (int32/int64) or `.ivecs`,
    /// as rows × columns of Int.
    public static func readIntegers(_ path: String) throws(VectorMathError) -> (rows: Int, columns: Int, values: [Int]) {
        let data = try read(path)
        if path.hasSuffix(".ivecs") {
            let parsed = try parseVecs(data, path: path, asFloat: false)
            return (parsed.matrix.rows, parsed.matrix.dimension, parsed.integers)
        }
        let npy = try NPY.parse(data, path: path)
        return try npy.integers(path: path)
    }

    private static func read(_ path: String) throws(VectorMathError) -> Data {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let size = attributes[.size] as? Int else {
            throw VectorMathError(.invalidArgument, "\(path): no such file")
        }
        guard size <= fileBytesMax else {
            throw VectorMathError(.invalidArgument, "\(path): \(size) bytes exceeds the \(fileBytesMax)-byte limit")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw VectorMathError(.invalidArgument, "\(path): cannot be read")
        }
        return data
    }

    private static func parseVecs(_ data: Data, path: String, asFloat: Bool) throws(VectorMathError)
        -> (matrix: Matrix, integers: [Int])
    {
        guard data.count >= 4 else { throw VectorMathError(.invalidArgument, "\(path): empty vecs file") }
        let dimension = Int(data.withUnsafeBytes { $0.loadUnaligned(as: Int32.self) })
        let rowBytes = 4 + 4 * dimension
        guard dimension > 0, data.count % rowBytes == 0 else {
            throw VectorMathError(.invalidArgument, "\(path): size \(data.count) is not a whole number of \(dimension)-d rows")
        }
        let rows = data.count / rowBytes
        var floats = [Float](repeating: 0, count: asFloat ? rows * dimension : 0)
        var ints = [Int](repeating: 0, count: asFloat ? 0 : rows * dimension)
        let badRow: Int? = data.withUnsafeBytes { raw in
            for r in 0..<rows {
                guard raw.loadUnaligned(fromByteOffset: r * rowBytes, as: Int32.self) == Int32(dimension) else { return r }
                for c in 0..<dimension {
                    let offset = r * rowBytes + 4 + 4 * c
                    if asFloat { floats[r * dimension + c] = raw.loadUnaligned(fromByteOffset: offset, as: Float.self) }
                    else { ints[r * dimension + c] = Int(raw.loadUnaligned(fromByteOffset: offset, as: Int32.self)) }
                }
            }
            return nil
        }
        if let badRow { throw VectorMathError(.dimensionMismatch, "\(path): row \(badRow) has a different dimension") }
        let matrix = try Matrix(rows: rows, dimension: dimension,
                                storage: asFloat ? floats : [Float](repeating: 0, count: rows * dimension))
        return (matrix, ints)
    }

    /// Writes float32 rows as a version 1.0 `.npy` file (used by tests and benchmark tools).
    public static func writeNPY(_ matrix: Matrix, to path: String) throws(VectorMathError) {
        var data = NPY.header(descr: "<f4", shape: [matrix.rows, matrix.dimension])
        matrix.storage.withUnsafeBytes { data.append(contentsOf: $0) }
        guard FileManager.default.createFile(atPath: path, contents: data) else {
            throw VectorMathError(.invalidArgument, "\(path): cannot be written")
        }
    }
}

/// The parts of a NumPy `.npy` file Firebreak reads.
struct NPY {
    let descr: String
    let shape: [Int]
    let payload: Data

    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]

    static func parse(_ data: Data, path: String) throws(VectorMathError) -> NPY {
        let bytes = [UInt8](data.prefix(12))
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw VectorMathError(.invalidArgument, "\(path): not a .npy file (bad magic)")
        }
        let major = bytes[6]
        let lengthBytes = major == 1 ? 2 : 4
        guard bytes.count >= 8 + lengthBytes else { throw VectorMathError(.invalidArgument, "\(path): truncated header") }
        let headerLength = (0..<lengthBytes).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
        let start = 8 + lengthBytes
        guard data.count >= start + headerLength,
              let header = String(data: data.subdata(in: start..<(start + headerLength)), encoding: .utf8) else {
            throw VectorMathError(.invalidArgument, "\(path): truncated or non-text header")
        }
        guard !header.contains("'fortran_order': True") else {
            throw VectorMathError(.invalidArgument, "\(path): Fortran-order arrays are not supported; save with C order")
        }
        guard let descr = field(header, "descr"), let shapeText = shapeField(header) else {
            throw VectorMathError(.invalidArgument, "\(path): header lacks descr or shape")
        }
        let shape = shapeText.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        return NPY(descr: descr, shape: shape, payload: data.subdata(in: (start + headerLength)..<data.count))
    }

    private static func field(_ header: String, _ name: String) -> String? {
        guard let range = header.range(of: "'\(name)': '") else { return nil }
        let rest = header[range.upperBound...]
        guard let end = rest.firstIndex(of: "'") else { return nil }
        return String(rest[..<end])
    }

    private static func shapeField(_ header: String) -> String? {
        guard let range = header.range(of: "'shape': (") else { return nil }
        let rest = header[range.upperBound...]
        guard let end = rest.firstIndex(of: ")") else { return nil }
        return String(rest[..<end])
    }

    /// Rows and columns: a 1-d array is one column.
    func dimensions(path: String) throws(VectorMathError) -> (rows: Int, columns: Int) {
        switch shape.count {
        case 1: return (shape[0], 1)
        case 2: return (shape[0], shape[1])
        default: throw VectorMathError(.invalidArgument, "\(path): expected a 1-d or 2-d array, shape is \(shape)")
        }
    }

    func elementBytes(path: String) throws(VectorMathError) -> Int {
        switch descr {
        case "<f2": 2
        case "<f4", "<i4": 4
        case "<f8", "<i8": 8
        default: throw VectorMathError(.invalidArgument, "\(path): unsupported dtype \(descr) (use float32/float16/int32/int64, little-endian)")
        }
    }

    func floatMatrix(path: String) throws(VectorMathError) -> Matrix {
        let (rows, columns) = try dimensions(path: path)
        let width = try elementBytes(path: path)
        guard descr.hasPrefix("<f") else { throw VectorMathError(.invalidArgument, "\(path): expected floats, dtype is \(descr)") }
        guard payload.count >= rows * columns * width else { throw VectorMathError(.invalidArgument, "\(path): truncated data") }
        var values = [Float](repeating: 0, count: rows * columns)
        payload.withUnsafeBytes { raw in
            for i in 0..<(rows * columns) {
                switch width {
                case 2: values[i] = halfToFloat(raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                case 4: values[i] = raw.loadUnaligned(fromByteOffset: 4 * i, as: Float.self)
                default: values[i] = Float(raw.loadUnaligned(fromByteOffset: 8 * i, as: Double.self))
                }
            }
        }
        return try Matrix(rows: rows, dimension: columns, storage: values)
    }

    func integers(path: String) throws(VectorMathError) -> (rows: Int, columns: Int, values: [Int]) {
        let (rows, columns) = try dimensions(path: path)
        let width = try elementBytes(path: path)
        guard descr.hasPrefix("<i") else { throw VectorMathError(.invalidArgument, "\(path): expected integers, dtype is \(descr)") }
        guard payload.count >= rows * columns * width else { throw VectorMathError(.invalidArgument, "\(path): truncated data") }
        let values = payload.withUnsafeBytes { raw in
            (0..<(rows * columns)).map { i in
                width == 4 ? Int(raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))
                           : Int(raw.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))
            }
        }
        return (rows, columns, values)
    }

    static func header(descr: String, shape: [Int]) -> Data {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var dict = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        while (10 + dict.utf8.count + 1) % 64 != 0 { dict += " " }
        dict += "\n"
        var data = Data(magic + [1, 0])
        let length = UInt16(dict.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: Array(dict.utf8))
        return data
    }
}

/// IEEE 754 half to single precision, including subnormals, infinities and NaN.
func halfToFloat(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exponent = Int((h >> 10) & 0x1F)
    let mantissa = UInt32(h & 0x3FF)
    if exponent == 0 {
        let value = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
        return sign != 0 ? -value : value
    }
    if exponent == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13)) }
    return Float(bitPattern: sign | UInt32(exponent + 112) << 23 | (mantissa << 13))
}
