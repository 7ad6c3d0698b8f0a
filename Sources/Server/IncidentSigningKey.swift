import Crypto
import FirebreakAPI
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The instance's Ed25519 key that signs incident export bundles (`ExportBundle`): one file of
/// the raw 32 bytes, `<data-dir>/incident-signing.key` unless named. `firebreak serve` (for
/// `GET /v1/incidents/{id}/export`) and `firebreak incident export` both load it here, so the
/// two sign with the same key and create it the same way.
///
/// Invariants: a key file is created only when none exists (exclusively, so two processes
/// starting at once end up with one key), mode 0600, and never rewritten; a file that is not
/// exactly one key is refused, never replaced.
///
/// `@unchecked Sendable`: swift-crypto does not mark its keys Sendable, but a key is an
/// immutable value (nothing mutates it after it is made), so sharing one across tasks is safe.
public struct IncidentSigningKey: @unchecked Sendable {
    public let key: Curve25519.Signing.PrivateKey

    public init(_ key: Curve25519.Signing.PrivateKey) {
        self.key = key
    }

    public static let fileName = "incident-signing.key"
    /// Raw Ed25519 private keys are this long.
    public static let keyBytes = 32

    public static func defaultPath(dataDirectory: String) -> String { dataDirectory + "/" + fileName }

    /// The key at `path`, created (0600, in a folder created when missing) on first use.
    /// Any failure is 503 `signing_key_unavailable` naming the path and the reason.
    public static func load(at path: String) throws(Problem) -> IncidentSigningKey {
        if let data = FileManager.default.contents(atPath: path) { return try key(data, at: path) }
        let folder = (path as NSString).deletingLastPathComponent
        do {
            if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        } catch {
            throw unavailable(path, "cannot create its folder: \(error.localizedDescription)")
        }
        let key = Curve25519.Signing.PrivateKey()
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            let reason = errno
            // Another process created it first: use that one.
            if reason == EEXIST, let data = FileManager.default.contents(atPath: path) { return try Self.key(data, at: path) }
            throw unavailable(path, "cannot create it: \(String(cString: strerror(reason)))")
        }
        let bytes = [UInt8](key.rawRepresentation)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        let synced = fsync(descriptor) == 0
        close(descriptor)
        guard written == bytes.count, synced else {
            unlink(path)
            throw unavailable(path, "cannot write it")
        }
        return IncidentSigningKey(key)
    }

    private static func key(_ data: Data, at path: String) throws(Problem) -> IncidentSigningKey {
        guard data.count == keyBytes, let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: data) else {
            throw unavailable(path, "it holds \(data.count) bytes, not one raw \(keyBytes)-byte Ed25519 key")
        }
        return IncidentSigningKey(key)
    }

    private static func unavailable(_ path: String, _ reason: String) -> Problem {
        Problem(.serviceUnavailable, .signingKeyUnavailable, "the incident signing key \(path): \(reason)")
    }
}

extension Problem: CustomStringConvertible {
    public var description: String { "\(code.rawValue): \(detail)" }
}
