import Embeddings
import Foundation
import Testing
import TestSupport

/// The Swift tokenizer and forward pass against code that is not ours: Hugging Face's
/// `tokenizers` for the ids and a numpy forward pass (Oracle/minilm_oracle.py) for the vectors,
/// over 306 sentences of Oracle/sentences.jsonl (accents, scripts, code, emoji, control
/// characters, special tokens in text, 2,000-character texts).
@Suite struct OracleTests {
    struct Reference: Decodable {
        var ids: [Int32]
        var vector: [Double]
    }

    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Oracle")

    static func sentences() throws -> [String] {
        let text = try String(contentsOf: folder.appendingPathComponent("sentences.jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").map { try JSONDecoder().decode(String.self, from: Data($0.utf8)) }
    }

    /// The oracle's answers, computed once per test process.
    static let references = Task<[Reference], any Error> {
        let python = try await PythonEnvironment.python(
            name: "oracle", packages: ["tokenizers==0.23.3", "numpy"], probe: "import tokenizers, numpy")
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("memkeep-oracle-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: output) }
        let run = try await Process.tool(python, [
            folder.appendingPathComponent("minilm_oracle.py").path, TestModel.directory,
            folder.appendingPathComponent("sentences.jsonl").path, output.path,
        ])
        guard run.status == 0 else { throw PythonEnvironment.SetupError(step: "minilm_oracle.py", output: run.output) }
        return try String(contentsOf: output, encoding: .utf8).split(separator: "\n").map {
            try JSONDecoder().decode(Reference.self, from: Data($0.utf8))
        }
    }

    @Test func theTestDataCoversAtLeast300SentencesWithLongOnes() throws {
        let sentences = try Self.sentences()
        #expect(sentences.count >= 300)
        #expect(sentences.contains { $0.count >= 2000 })
    }

    @Test func tokenIDsEqualTheReferenceTokenizer() async throws {
        let model = try TestModel.builtin()
        let sentences = try Self.sentences()
        let references = try await Self.references.value
        try #require(references.count == sentences.count)
        for (sentence, reference) in zip(sentences, references) {
            let ids = model.tokenizer.encode(sentence, maxTokens: model.maxTokens)
            #expect(ids == reference.ids, "\(sentence.debugDescription)")
        }
    }

    @Test func vectorsAgreeWithTheReferenceForwardPassToCosine09999() async throws {
        let model = try TestModel.builtin()
        let sentences = try Self.sentences()
        let references = try await Self.references.value
        try #require(references.count == sentences.count)
        // The forward pass itself, without the sentence normalisation `embed` adds.
        let vectors = model.tokenizeAndEncode(sentences)
        var worst = 1.0
        for (index, (vector, reference)) in zip(vectors, references).enumerated() {
            let cosine = zip(vector, reference.vector).reduce(0.0) { (sum: Double, pair: (Float, Double)) in sum + Double(pair.0) * pair.1 }
            worst = min(worst, cosine)
            #expect(cosine >= 0.9999, "sentence \(index): cosine \(cosine) for \(sentences[index].prefix(80).debugDescription)")
        }
        print("oracle: worst cosine \(worst) over \(vectors.count) sentences")
    }

    @Test func aTextEmbedsTheSameAloneAndInABatch() async throws {
        let model = try TestModel.builtin()
        let texts = ["runs FastAPI backend with PostgreSQL 14", "which database do they use", String(repeating: "long text ", count: 300)]
        let batched = try await model.embed(texts)
        for (index, text) in texts.enumerated() {
            let alone = try await model.embed([text])[0]
            let cosine = zip(alone, batched[index]).reduce(Float(0)) { (sum: Float, pair: (Float, Float)) in sum + pair.0 * pair.1 }
            #expect(cosine > 0.99999)
        }
    }
}
