/// The word-level view of a fact that the summary rules work on.
enum FactText {
    /// Lower-cased alphanumeric words; dots inside numbers ("14.2") are kept.
    static func tokens(_ text: String) -> [String] {
        sentences(text).flatMap { $0 }
    }

    /// The words of each sentence: a sentence ends at `.`, `!`, `?`, `;` or a line break (a dot
    /// between digits does not end one).
    static func sentences(_ text: String) -> [[String]] {
        var sentences: [[String]] = []
        var sentence: [String] = []
        var current = ""
        let characters = Array(text.lowercased())
        func endWord() {
            if !current.isEmpty { sentence.append(current) }
            current = ""
        }
        for (index, character) in characters.enumerated() {
            let isDotInNumber = character == "." && current.last?.isNumber == true
                && index + 1 < characters.count && characters[index + 1].isNumber
            if character.isLetter || character.isNumber || isDotInNumber {
                current.append(character)
            } else {
                endWord()
                if ".!?;\n".contains(character), !sentence.isEmpty {
                    sentences.append(sentence)
                    sentence = []
                }
            }
        }
        endWord()
        if !sentence.isEmpty { sentences.append(sentence) }
        return sentences
    }

    static let stopwords: Set<String> = [
        "a", "an", "the", "is", "are", "was", "were", "be", "been", "we", "our", "us", "they", "their", "it", "its",
        "to", "of", "on", "in", "and", "or", "for", "with", "this", "that", "these", "those", "has", "have", "had",
        "at", "by", "as", "from", "so", "i", "you", "he", "she", "customer", "user", "s",
    ]
}
