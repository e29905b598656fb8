import Foundation

/// The word-level view of a fact that the summary rules work on.
public enum FactText {
    /// The lower-cased alphanumeric words (dots inside numbers, "14.2", kept) of each sentence: a sentence ends at `.`, `!`, `?`, `;` or a line break (a dot
    /// between digits does not end one). Works on Unicode scalars with an ASCII fast path:
    /// consolidation tokenizes every fact it reads.
    public static func sentences(_ text: String) -> [[String]] {
        var sentences: [[String]] = []
        var sentence: [String] = []
        var word = String.UnicodeScalarView()
        var lastIsDigit = false
        let scalars = Array(text.unicodeScalars)
        func endWord() {
            if !word.isEmpty { sentence.append(String(word)) }
            word = String.UnicodeScalarView()
            lastIsDigit = false
        }
        for (index, scalar) in scalars.enumerated() {
            let value = scalar.value
            if scalar.isASCII {
                if value >= 97 && value <= 122 {
                    word.append(scalar)
                    lastIsDigit = false
                } else if value >= 65 && value <= 90 {
                    word.append(Unicode.Scalar(value + 32)!)
                    lastIsDigit = false
                } else if value >= 48 && value <= 57 {
                    word.append(scalar)
                    lastIsDigit = true
                } else if value == 46, lastIsDigit, index + 1 < scalars.count,
                    scalars[index + 1].value >= 48 && scalars[index + 1].value <= 57
                {
                    word.append(scalar)
                    lastIsDigit = false
                } else {
                    endWord()
                    if value == 46 || value == 33 || value == 63 || value == 59 || value == 10, !sentence.isEmpty {
                        sentences.append(sentence)
                        sentence = []
                    }
                }
            } else if scalar.properties.isAlphabetic || scalar.properties.numericType != nil
                || scalar.properties.generalCategory == .nonspacingMark
                || scalar.properties.generalCategory == .spacingMark
            {
                word.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
                lastIsDigit = scalar.properties.numericType != nil
            } else {
                endWord()
            }
        }
        endWord()
        if !sentence.isEmpty { sentences.append(sentence) }
        return sentences
    }

    /// English month names, as summaries write periods and as the LLM prompt dates facts.
    public static let months = [
        "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November",
        "December",
    ]

    /// The UTC year and month (1…12) of a time.
    public static func yearAndMonth(_ millis: UnixMillis) -> (year: Int, month: Int) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let date = Date(timeIntervalSince1970: Double(millis) / 1000)
        return (calendar.component(.year, from: date), calendar.component(.month, from: date))
    }

    public static let stopwords: Set<String> = [
        "a", "an", "the", "is", "are", "was", "were", "be", "been", "we", "our", "us", "they", "their", "it", "its",
        "to", "of", "on", "in", "and", "or", "for", "with", "this", "that", "these", "those", "has", "have", "had",
        "at", "by", "as", "from", "so", "i", "you", "he", "she", "customer", "user", "s",
    ]
}
