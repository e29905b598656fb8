import Foundation
import MemoryStore

/// The deterministic check an LLM-written topic text must pass to replace the extractive one. No
/// second model: every checkable word of a sentence (numbers, dates, versions, emails, URLs,
/// capitalised names and identifiers) must appear in a fact that sentence cites; every citation
/// must be a fact of the batch that still holds; every fact the plan keeps at
/// `mustKeepImportance` or above must be cited; the text must fit the summary cap.
public struct SummaryGate: Sendable {
    public var maxCharacters: Int
    public var mustKeepImportance: Double

    public init(maxCharacters: Int, mustKeepImportance: Double = 0.8) {
        self.maxCharacters = maxCharacters
        self.mustKeepImportance = mustKeepImportance
    }

    /// Why a topic's LLM text was refused; `reason` is what the fate log and the metrics record.
    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        case noSentences
        case unsupportedClaim(String)
        case unknownCitation(String)
        case staleCitation(String, SourceFate)
        case missingFact(String)
        case tooLong(Int)

        public var reason: String {
            switch self {
            case .noSentences: "no_sentences"
            case .unsupportedClaim: "unsupported_claim"
            case .unknownCitation: "unknown_citation"
            case .staleCitation: "stale_citation"
            case .missingFact: "missing_fact"
            case .tooLong: "too_long"
            }
        }

        public var description: String {
            switch self {
            case .noSentences: "the topic has no sentences"
            case .unsupportedClaim(let word): "\"\(word)\" is in no fact the sentence cites"
            case .unknownCitation(let id): "cites \(id), which is not a fact of the batch"
            case .staleCitation(let id, let fate): "cites \(id), which is \(fate.rawValue)"
            case .missingFact(let id): "leaves out \(id), a fact kept at high importance"
            case .tooLong(let count): "is \(count) characters, over the cap"
            }
        }
    }

    /// The topic's text (its sentences joined, after the span of its facts' dates) when every
    /// check passes.
    public func check(
        _ sentences: [LLMAnswer.Sentence], topic: SummaryPlan.Topic, plan: SummaryPlan,
        facts: [String: ConsolidationFact]
    ) -> Result<String, Failure> {
        guard !sentences.isEmpty else { return .failure(.noSentences) }
        // A fact of a merged line is shown to the model as that line (count, range, months).
        var lineText: [String: String] = [:]
        for line in plan.topics.flatMap(\.lines) {
            for id in line.memberIDs + line.duplicateIDs { lineText[id] = line.text }
        }
        var cited = Set<String>()
        for sentence in sentences {
            for id in sentence.cites {
                guard facts[id] != nil, let decision = plan.decisions[id] else { return .failure(.unknownCitation(id)) }
                if decision.fate == .supersededBy || decision.fate == .belowFloor {
                    return .failure(.staleCitation(id, decision.fate))
                }
                cited.insert(id)
            }
            let vocabulary = Set(sentence.cites.compactMap { facts[$0] }.flatMap { Self.vocabulary(of: $0, line: lineText[$0.id]) })
            if let claim = Self.claims(in: sentence.text).first(where: { !vocabulary.contains($0) }) {
                return .failure(.unsupportedClaim(claim))
            }
        }
        for line in topic.lines where line.importance >= mustKeepImportance {
            guard !cited.isDisjoint(with: line.memberIDs + line.duplicateIDs) else {
                return .failure(.missingFact(line.representativeID))
            }
        }
        // Dated as the extractive lines are: the span of the topic's facts.
        let text = SummaryLine.date(oldest: topic.periodStart, newest: topic.periodEnd) + " "
            + sentences.map { $0.text.trimmingCharacters(in: .whitespacesAndNewlines) }.joined(separator: " ")
        guard text.count <= maxCharacters else { return .failure(.tooLong(text.count)) }
        return .success(text)
    }

    /// The words of a sentence that state something a fact must back, normalised as
    /// `vocabulary` normalises a fact's words. The first word of a sentence is capitalised by
    /// grammar, so it counts only when it is an identifier (inner capitals, digits, `_`).
    static func claims(in text: String) -> [String] {
        var claims: [String] = []
        var sentenceStart = true
        for raw in text.split(whereSeparator: \.isWhitespace) {
            let word = normalised(raw)
            defer { sentenceStart = raw.last.map { ".!?".contains($0) } ?? false }
            guard let first = word.first else { continue }
            let isIdentifier = word.dropFirst().contains(where: \.isUppercase) || word.contains("_")
            let isCheckable =
                word.contains(where: \.isNumber) || word.contains("@") || word.contains("://")
                || isIdentifier || (first.isUppercase && !sentenceStart)
            guard isCheckable else { continue }
            // A range ("7000–7029") is checked end by end.
            claims += word.split(whereSeparator: { $0 == "–" || $0 == "—" }).map { $0.lowercased() }
        }
        return claims
    }

    /// A fact's words as claims are compared with them, with its date (ISO day, year, month
    /// name) since the prompt gives each fact's date, and the words of the line it is part of.
    static func vocabulary(of fact: ConsolidationFact, line: String? = nil) -> [String] {
        let (year, month) = FactText.yearAndMonth(fact.createdAt)
        let name = FactText.months[month - 1].lowercased()
        let day = String(TimeFormat.rfc3339(fact.createdAt).prefix(10))
        let text = fact.content + " " + (line ?? "")
        let words = text.split(whereSeparator: \.isWhitespace).flatMap { raw in
            normalised(raw).lowercased().split(whereSeparator: { $0 == "–" || $0 == "—" }).map(String.init)
        }
        return words + [day, "\(year)", name, String(name.prefix(3))]
    }

    /// A word without the punctuation around it and without a possessive "'s".
    static func normalised(_ raw: Substring) -> String {
        var word = raw.trimmingCharacters(in: CharacterSet(charactersIn: ".,;:!?()[]{}\"'“”‘’`*"))
        for suffix in ["'s", "’s"] where word.hasSuffix(suffix) { word = String(word.dropLast(2)) }
        return word
    }
}
