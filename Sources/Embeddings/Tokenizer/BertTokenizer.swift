import Foundation

/// The BERT tokenizer as a Hugging Face `tokenizer.json` defines it: BertNormalizer (clean
/// text, space around CJK ideographs, accent stripping, lower-casing), BertPreTokenizer
/// (whitespace, then every punctuation character on its own), WordPiece with `##`
/// continuations, and `[CLS] … [SEP]` around the result. No padding: the encoder packs
/// sequences, so only real tokens exist.
public struct BertTokenizer: Sendable {
    public let vocabulary: [String: Int32]
    public let unknownID: Int32
    public let clsID: Int32
    public let sepID: Int32
    let lowercase: Bool
    let stripAccents: Bool
    let cleanText: Bool
    let splitCJK: Bool
    let continuationPrefix: String
    let maxWordCharacters: Int
    /// Special tokens matched verbatim in raw text before normalisation, longest first.
    let specialTokens: [(text: [Unicode.Scalar], id: Int32)]

    public init(contentsOf url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw EmbeddingError.modelFile(path: url.path, reason: "cannot read: \(error.localizedDescription)")
        }
        try self.init(json: data, path: url.path)
    }

    public init(json: Data, path: String = "tokenizer.json") throws {
        func bad(_ reason: String) -> EmbeddingError { .modelFile(path: path, reason: reason) }
        guard let root = try? JSONSerialization.jsonObject(with: json) as? [String: Any] else { throw bad("not a JSON object") }
        guard let model = root["model"] as? [String: Any], model["type"] as? String == "WordPiece",
            let vocab = model["vocab"] as? [String: Int]
        else { throw bad("model is not WordPiece with a vocab") }
        guard let normalizer = root["normalizer"] as? [String: Any], normalizer["type"] as? String == "BertNormalizer" else {
            throw bad("normalizer is not BertNormalizer")
        }
        guard (root["pre_tokenizer"] as? [String: Any])?["type"] as? String == "BertPreTokenizer" else {
            throw bad("pre_tokenizer is not BertPreTokenizer")
        }
        var vocabulary: [String: Int32] = [:]
        vocabulary.reserveCapacity(vocab.count)
        for (token, id) in vocab { vocabulary[token] = Int32(id) }
        self.vocabulary = vocabulary
        let unknown = model["unk_token"] as? String ?? "[UNK]"
        guard let unknownID = vocabulary[unknown], let clsID = vocabulary["[CLS]"], let sepID = vocabulary["[SEP]"] else {
            throw bad("the vocabulary lacks [UNK], [CLS] or [SEP]")
        }
        self.unknownID = unknownID
        self.clsID = clsID
        self.sepID = sepID
        lowercase = normalizer["lowercase"] as? Bool ?? true
        // null means "as lowercase does", as in BERT's original tokenizer.
        stripAccents = normalizer["strip_accents"] as? Bool ?? lowercase
        cleanText = normalizer["clean_text"] as? Bool ?? true
        splitCJK = normalizer["handle_chinese_chars"] as? Bool ?? true
        continuationPrefix = model["continuing_subword_prefix"] as? String ?? "##"
        maxWordCharacters = model["max_input_chars_per_word"] as? Int ?? 100
        let added = (root["added_tokens"] as? [[String: Any]] ?? []).compactMap { entry -> (text: [Unicode.Scalar], id: Int32)? in
            guard let content = entry["content"] as? String, let id = entry["id"] as? Int, !content.isEmpty else { return nil }
            return (Array(content.unicodeScalars), Int32(id))
        }
        specialTokens = added.sorted { $0.text.count > $1.text.count }
    }

    /// Token ids of `text`, `[CLS]` and `[SEP]` included, at most `maxTokens` of them.
    public func encode(_ text: String, maxTokens: Int) -> [Int32] {
        var ids: [Int32] = [clsID]
        let budget = max(0, maxTokens - 2)
        for segment in splitSpecial(Array(text.unicodeScalars)) {
            if ids.count - 1 >= budget { break }
            switch segment {
            case .special(let id): ids.append(id)
            case .text(let scalars):
                for word in preTokenize(normalize(scalars)) {
                    wordPiece(word, into: &ids)
                    if ids.count - 1 >= budget { break }
                }
            }
        }
        if ids.count - 1 > budget { ids.removeLast(ids.count - 1 - budget) }
        ids.append(sepID)
        return ids
    }

    enum Segment {
        case text([Unicode.Scalar])
        case special(Int32)
    }

    func splitSpecial(_ scalars: [Unicode.Scalar]) -> [Segment] {
        var segments: [Segment] = []
        var start = 0
        var index = 0
        outer: while index < scalars.count {
            if scalars[index] == "[" {
                for token in specialTokens where scalars[index...].starts(with: token.text) {
                    if start < index { segments.append(.text(Array(scalars[start..<index]))) }
                    segments.append(.special(token.id))
                    index += token.text.count
                    start = index
                    continue outer
                }
            }
            index += 1
        }
        if start < scalars.count { segments.append(.text(Array(scalars[start...]))) }
        return segments
    }

    func normalize(_ input: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(input.count)
        for scalar in input {
            if cleanText {
                if scalar.value == 0 || scalar.value == 0xFFFD || Self.isControl(scalar) { continue }
                if Self.isWhitespace(scalar) {
                    scalars.append(" ")
                    continue
                }
            }
            if splitCJK && Self.isCJK(scalar) {
                scalars.append(" ")
                scalars.append(scalar)
                scalars.append(" ")
            } else {
                scalars.append(scalar)
            }
        }
        if stripAccents && scalars.contains(where: { !$0.isASCII }) {
            var text = String.UnicodeScalarView()
            text.append(contentsOf: scalars)
            scalars = String(text).decomposedStringWithCanonicalMapping.unicodeScalars.filter {
                $0.properties.generalCategory != .nonspacingMark
            }
        }
        if lowercase {
            var lowered: [Unicode.Scalar] = []
            lowered.reserveCapacity(scalars.count)
            for scalar in scalars {
                if scalar.isASCII {
                    lowered.append(scalar.value >= 65 && scalar.value <= 90 ? Unicode.Scalar(scalar.value + 32)! : scalar)
                } else {
                    lowered.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
                }
            }
            scalars = lowered
        }
        return scalars
    }

    func preTokenize(_ scalars: [Unicode.Scalar]) -> [ArraySlice<Unicode.Scalar>] {
        var words: [ArraySlice<Unicode.Scalar>] = []
        var start: Int?
        for (index, scalar) in scalars.enumerated() {
            if scalar.properties.isWhitespace {
                if let begun = start { words.append(scalars[begun..<index]) }
                start = nil
            } else if Self.isPunctuation(scalar) {
                if let begun = start { words.append(scalars[begun..<index]) }
                words.append(scalars[index...index])
                start = nil
            } else if start == nil {
                start = index
            }
        }
        if let begun = start { words.append(scalars[begun...]) }
        return words
    }

    /// Greedy longest-match-first; a word with any piece missing from the vocabulary is `[UNK]`.
    func wordPiece(_ word: ArraySlice<Unicode.Scalar>, into ids: inout [Int32]) {
        guard word.count <= maxWordCharacters else {
            ids.append(unknownID)
            return
        }
        let mark = ids.count
        var start = word.startIndex
        while start < word.endIndex {
            var end = word.endIndex
            var found: Int32?
            while start < end {
                var piece = start == word.startIndex ? "" : continuationPrefix
                piece.unicodeScalars.append(contentsOf: word[start..<end])
                if let id = vocabulary[piece] {
                    found = id
                    break
                }
                end -= 1
            }
            guard let id = found else {
                ids.removeLast(ids.count - mark)
                ids.append(unknownID)
                return
            }
            ids.append(id)
            start = end
        }
    }

    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "\t" || scalar == "\n" || scalar == "\r" || scalar.properties.isWhitespace
    }

    /// Unicode's "Other" categories but unassigned (as the Rust tokenizer has it: an unassigned
    /// code point stays and becomes [UNK]), tab and newlines excepted (they count as whitespace).
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == "\t" || scalar == "\n" || scalar == "\r" { return false }
        switch scalar.properties.generalCategory {
        case .control, .format, .privateUse, .surrogate: return true
        default: return false
        }
    }

    static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII {
            let value = scalar.value
            return (33...47).contains(value) || (58...64).contains(value) || (91...96).contains(value) || (123...126).contains(value)
        }
        switch scalar.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
            .finalPunctuation, .otherPunctuation:
            return true
        default: return false
        }
    }

    /// The CJK ideograph blocks BERT puts spaces around.
    static func isCJK(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
            0x2B820...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default: return false
        }
    }
}
