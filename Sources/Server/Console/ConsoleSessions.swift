// ConsoleSessions — who is signed in to the console, in this process's memory.
//
// Owns: session ids (the cookie's value), each session's CSRF token, its expiry, its
// one-shot notice (the "released 1 document" line after an action) and the one-time keys of
// the forms it submitted (a form is acted on once, like an Idempotency-Key on the API).
// Never: stores the API token itself (only its SHA-256, re-checked against `api_tokens` on
// every request, so a revoked token ends its sessions); hands out a session past its expiry;
// compares a CSRF token in time that depends on where it differs.
// Invariants: ids and CSRF tokens are 32 random bytes as hex; at most `sessionsMax` sessions
// (the oldest are dropped first). A restart signs everyone out, and each replica knows only its
// own sessions: behind a load balancer the console needs sticky sessions.

import Foundation
import Hex

final class ConsoleSessions: @unchecked Sendable {
    static let lifetimeSeconds = 12 * 3600
    static let sessionsMax = 10_000
    static let cookieName = "firebreak_console"

    struct Session: Sendable, Equatable {
        let id: String
        let csrf: String
        /// The token's SHA-256: re-validated on every request.
        let tokenDigest: String
        let expires: Date
    }

    /// Form keys a session remembers as submitted (the oldest forgotten first).
    static let formKeysMax = 256

    private let lock = NSLock()
    private var sessions: [String: Session] = [:]
    private var notices: [String: String] = [:]
    private var submitted: [String: [String]] = [:]

    /// A new session for the token with this digest.
    func open(tokenDigest: String, now: Date = Date()) -> Session {
        let session = Session(id: Self.randomHex(), csrf: Self.randomHex(), tokenDigest: tokenDigest,
                              expires: now.addingTimeInterval(TimeInterval(Self.lifetimeSeconds)))
        lock.withLock {
            if sessions.count >= Self.sessionsMax {
                sessions = sessions.filter { $0.value.expires > now }
                if sessions.count >= Self.sessionsMax, let oldest = sessions.values.min(by: { $0.expires < $1.expires }) {
                    sessions[oldest.id] = nil
                }
            }
            sessions[session.id] = session
        }
        return session
    }

    /// The live session with this id, or nil (unknown or expired; an expired one is dropped).
    func session(id: String?, now: Date = Date()) -> Session? {
        guard let id, id.utf8.count == 64 else { return nil }
        return lock.withLock {
            guard let session = sessions[id] else { return nil }
            guard session.expires > now else {
                sessions[id] = nil
                notices[id] = nil
                submitted[id] = nil
                return nil
            }
            return session
        }
    }

    func close(id: String) {
        lock.withLock {
            sessions[id] = nil
            notices[id] = nil
            submitted[id] = nil
        }
    }

    /// Claims a form's one-time key for this session: false when it was submitted before (a
    /// double click, a reload of the POST, the back button) or is malformed, so the action is
    /// not taken twice. Like an Idempotency-Key on the API, the key is optional: a post
    /// without one (a script) is acted on each time.
    func claim(formKey: String?, of id: String) -> Bool {
        guard let formKey else { return true }
        guard formKey.utf8.count == 32, formKey.allSatisfy(\.isHexDigit) else { return false }
        return lock.withLock {
            var keys = submitted[id, default: []]
            guard !keys.contains(formKey) else { return false }
            keys.append(formKey)
            if keys.count > Self.formKeysMax { keys.removeFirst(keys.count - Self.formKeysMax) }
            submitted[id] = keys
            return true
        }
    }

    /// A new form key (16 random bytes as hex).
    static func formKey() -> String { String(randomHex().prefix(32)) }

    /// A line the next page of this session shows once.
    func post(notice: String, to id: String) { lock.withLock { notices[id] = notice } }

    func takeNotice(of id: String) -> String? { lock.withLock { notices.removeValue(forKey: id) } }

    /// Whether `given` is this session's CSRF token (constant time in the token's length).
    static func csrfMatches(_ given: String?, _ session: Session) -> Bool {
        guard let given else { return false }
        let a = Array(given.utf8), b = Array(session.csrf.utf8)
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    static func randomHex() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }.hexEncoded
    }
}
