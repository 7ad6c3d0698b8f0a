/// One suffix of a stemming step and what to do when it is the longest match.
struct Suffix<Rule: Sendable>: Sendable {
    let scalars: [UInt32]
    let rule: Rule

    /// A table sorted longest first, so that the first match is the longest.
    static func table(_ entries: [(String, Rule)]) -> [Suffix<Rule>] {
        entries.map { Suffix(scalars: $0.0.unicodeScalars.map(\.value), rule: $0.1) }
            .enumerated()
            .sorted { ($0.element.scalars.count, -$0.offset) > ($1.element.scalars.count, -$1.offset) }
            .map(\.element)
    }
}

enum Step1aRule: Sendable { case sses, ies, keep, s }
enum Step1bRule: Sendable { case eed, ed, ing }
enum Step2Rule: Sendable { case replace(String), ogiAfterL, liAfterValidLI }
enum Step3Rule: Sendable { case replace(String), deleteInR2 }
enum Step4Rule: Sendable { case delete, ionAfterST }

/// The suffix tables of Snowball 3.0.0's English stemmer.
enum Suffixes {
    static func scalars(_ text: String) -> [UInt32] { text.unicodeScalars.map(\.value) }

    /// Words starting with these get R1 right after them ("generous" keeps "gener").
    static let regionPrefixes = ["arsen", "commun", "emerg", "gener", "inter", "later", "organ", "past", "univers"]
        .map(scalars)
    static let past = scalars("past")

    static let apostrophe = Suffix.table([("'s'", ()), ("'s", ()), ("'", ())])

    static let step1a = Suffix<Step1aRule>.table([
        ("sses", .sses), ("ied", .ies), ("ies", .ies), ("ss", .keep), ("us", .keep), ("s", .s),
    ])

    static let step1b = Suffix<Step1bRule>.table([
        ("eedly", .eed), ("eed", .eed), ("ingly", .ed), ("edly", .ed), ("ed", .ed), ("ing", .ing),
    ])
    /// Stems before "eed"/"eedly" that stay as they are ("succeed", "proceed", "exceed").
    static let eedInvariant: Set<[UInt32]> = Set(["succ", "proc", "exc"].map(scalars))
    /// Stems before "ing" with special handling (see `StemWord.ingException`), longest first.
    static let ingStems = ["even", "cann", "earr", "herr", "inn", "out", "y"].map(scalars)
    static let addE = ["at", "bl", "iz"].map(scalars)
    static let doubles: Set<UInt32> = Set("bdfgmnprt".unicodeScalars.map(\.value))

    static let step2 = Suffix<Step2Rule>.table([
        ("tional", .replace("tion")), ("enci", .replace("ence")), ("anci", .replace("ance")),
        ("abli", .replace("able")), ("entli", .replace("ent")), ("izer", .replace("ize")),
        ("ization", .replace("ize")), ("ational", .replace("ate")), ("ation", .replace("ate")),
        ("ator", .replace("ate")), ("alism", .replace("al")), ("aliti", .replace("al")),
        ("alli", .replace("al")), ("fulness", .replace("ful")), ("fulli", .replace("ful")),
        ("ousli", .replace("ous")), ("ousness", .replace("ous")), ("iveness", .replace("ive")),
        ("iviti", .replace("ive")), ("biliti", .replace("ble")), ("bli", .replace("ble")),
        ("ogist", .replace("og")), ("ogi", .ogiAfterL), ("lessli", .replace("less")),
        ("li", .liAfterValidLI),
    ])

    static let step3 = Suffix<Step3Rule>.table([
        ("tional", .replace("tion")), ("ational", .replace("ate")), ("alize", .replace("al")),
        ("icate", .replace("ic")), ("iciti", .replace("ic")), ("ical", .replace("ic")),
        ("ful", .replace("")), ("ness", .replace("")), ("ative", .deleteInR2),
    ])

    static let step4 = Suffix<Step4Rule>.table(
        ["al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent", "ism",
         "ate", "iti", "ous", "ive", "ize"].map { ($0, Step4Rule.delete) } + [("ion", .ionAfterST)])
}
