/// Recall's full-text view of a text: its words (`FactText`'s: lower case, numbers kept whole),
/// English stop words out, Porter stems. One function for stored texts and queries, so both
/// backends index and match alike.
enum LexicalText {
    static func terms(_ text: String) -> [String] {
        FactText.sentences(text).joined().compactMap { word in
            stopwords.contains(word) ? nil : PorterStemmer.stem(word)
        }
    }

    /// Function words that say nothing of what a memory is about: the usual English list (the
    /// question words among them), and the pieces contractions split into ("don't" → "don", "t").
    /// Fixed, not derived from the store, so which words count never depends on other agents'
    /// data.
    static let stopwords: Set<String> = [
        "a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any", "are", "as", "at", "be",
        "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "d", "did",
        "do", "does", "doing", "don", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have",
        "having", "he", "her", "here", "hers", "herself", "him", "himself", "his", "how", "i", "if", "in", "into",
        "is", "it", "its", "itself", "just", "ll", "m", "me", "might", "more", "most", "must", "my", "myself", "no",
        "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "our", "ours", "ourselves", "out",
        "over", "own", "re", "s", "same", "shall", "she", "should", "so", "some", "such", "t", "than", "that", "the",
        "their", "theirs", "them", "themselves", "then", "there", "these", "they", "this", "those", "through", "to",
        "too", "under", "until", "up", "ve", "very", "was", "we", "were", "what", "when", "where", "which", "while",
        "who", "whom", "why", "will", "with", "would", "you", "your", "yours", "yourself", "yourselves",
    ]
}
