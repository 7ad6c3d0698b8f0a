// ConsoleTime — how the console shows a moment: UTC, to the second, with its age.
//
// Owns: parsing the service's ISO 8601 timestamps and rendering them for people.
// Never: shows a local time zone; fails on a timestamp it cannot read (it shows it as given).
// Invariant: every rendered time ends in "UTC" and carries the machine-readable value in
// `<time datetime>`.

import Foundation

enum ConsoleTime {
    static func parse(_ text: String) -> Date? {
        let withFraction = ISO8601DateFormatter()
        withFraction.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = withFraction.date(from: text) { return date }
        return ISO8601DateFormatter().date(from: text)
    }

    /// `2026-12-01 17:23:56 UTC`.
    static func utc(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: date) + " UTC"
    }

    /// `42 s ago`, `5 min ago`, `3 h ago`, `2 d ago` (`in …` for a moment ahead).
    static func age(of date: Date, now: Date = Date()) -> String {
        let seconds = Int(now.timeIntervalSince(date).rounded())
        let magnitude = abs(seconds)
        let span: String
        switch magnitude {
        case ..<60: span = "\(magnitude) s"
        case ..<3_600: span = "\(magnitude / 60) min"
        case ..<86_400: span = "\(magnitude / 3_600) h"
        default: span = "\(magnitude / 86_400) d"
        }
        return seconds >= 0 ? span + " ago" : "in " + span
    }

    /// `<time datetime="…">2026-12-01 17:23:56 UTC</time> <span class="age">(5 min ago)</span>`.
    static func html(_ text: String, now: Date = Date()) -> HTML {
        guard let date = parse(text) else { return "\(text)" }
        return "<time datetime=\"\(text)\">\(utc(date))</time> <span class=\"age\">(\(age(of: date, now: now)))</span>"
    }
}
