import Embeddings
import Foundation
import MemoryStore

/// The built-in model in-process (batched throughput, single-text latency, GFLOP/s) and the
/// `embed` job's backfill rate through `memkeepd run embed` on a copy of the store.
struct EmbeddingBenchmarks {
    struct Figures: Codable {
        var model: String
        var threads: Int
        var batchTexts: Int
        var meanTokens: Double
        var batchedTextsPerSecond: Double
        var batchedGflops: Double
        var singleTextTokens: Int
        var singleText: Percentiles
        var singleTextGflops: Double
        var backfillMemories: Int
        var backfillSeconds: Double
        var backfillPerSecond: Double

        enum CodingKeys: String, CodingKey {
            case model, threads
            case batchTexts = "batch_texts"
            case meanTokens = "mean_tokens"
            case batchedTextsPerSecond = "batched_texts_per_second"
            case batchedGflops = "batched_gflops"
            case singleTextTokens = "single_text_tokens"
            case singleText = "single_text"
            case singleTextGflops = "single_text_gflops"
            case backfillMemories = "backfill_memories"
            case backfillSeconds = "backfill_seconds"
            case backfillPerSecond = "backfill_per_second"
        }
    }

    let memkeepd: String
    let modelDirectory: String
    let workDirectory: String
    let quick: Bool
    let log: (String) -> Void

    /// Multiply-adds of the dense layers per token, times two: attention's n² terms are left
    /// out (under 2% at 20 tokens).
    static func flopsPerToken(_ shape: BertEncoder.Shape) -> Double {
        let h = Double(shape.hidden), i = Double(shape.intermediate)
        return 2 * Double(shape.layers) * (4 * h * h + 2 * h * i)
    }

    func measureModel(texts: [String]) async throws -> Figures {
        let model = try BuiltinEmbedder(directory: modelDirectory)
        let perToken = Self.flopsPerToken(model.encoder.shape)
        let sentences = texts.map(BuiltinEmbedder.asSentence)
        let tokens = sentences.map { model.tokenizer.encode($0, maxTokens: model.maxTokens).count }
        let meanTokens = Double(tokens.reduce(0, +)) / Double(tokens.count)
        log("embedding: \(texts.count) short texts (\(String(format: "%.1f", meanTokens)) tokens each) in batches of 64")
        _ = try await model.embed(Array(texts.prefix(64)))
        let started = ContinuousClock.now
        var index = 0
        while index < texts.count {
            _ = try await model.embed(Array(texts[index..<min(texts.count, index + 64)]))
            index += 64
        }
        let seconds = (ContinuousClock.now - started).seconds
        let query = "which database do they use"
        let queryTokens = model.tokenizer.encode(BuiltinEmbedder.asSentence(query), maxTokens: model.maxTokens).count
        var samples: [Double] = []
        for _ in 0..<(quick ? 100 : 500) {
            let start = ContinuousClock.now
            _ = try await model.embed([query])
            samples.append((ContinuousClock.now - start).seconds * 1000)
        }
        let single = Percentiles(samples)
        return Figures(
            model: model.modelID, threads: 1, batchTexts: texts.count, meanTokens: meanTokens,
            batchedTextsPerSecond: Double(texts.count) / seconds,
            batchedGflops: Double(tokens.reduce(0, +)) * perToken / seconds / 1e9, singleTextTokens: queryTokens,
            singleText: single, singleTextGflops: Double(queryTokens) * perToken / (single.p50Ms / 1000) / 1e9,
            backfillMemories: 0, backfillSeconds: 0, backfillPerSecond: 0)
    }

    /// Keeps the queue to the heavy agent's memories plus `others` more, runs `memkeepd run
    /// embed` over them and clears the rest of the queue: the daemon benchmark then recalls
    /// the heavy agent by vectors without an embed job competing for the cores.
    func backfill(store: String, others: Int) throws -> (memories: Int, seconds: Double) {
        let prepared = try Shell.run(
            "/usr/bin/sqlite3", [store],
            input: """
                DELETE FROM embed_queue WHERE memory_id NOT IN (SELECT id FROM memories WHERE agent_id = '\(Generator.heavyAgent)')
                    AND memory_id NOT IN (SELECT id FROM memories WHERE agent_id <> '\(Generator.heavyAgent)' ORDER BY id LIMIT \(others));
                """)
        guard prepared.status == 0 else { throw BenchError.tool("sqlite3", prepared.output) }
        log("embedding: backfill with memkeepd run embed")
        let started = ContinuousClock.now
        let run = try Shell.run(
            memkeepd, ["run", "embed", "--json"],
            environment: [
                "MEMKEEP_STORE_PATH": store, "MEMKEEP_EMBEDDINGS_PROVIDER": "builtin", "MEMKEEP_EMBEDDINGS_MODEL_DIR": modelDirectory,
                "MEMKEEP_JOBS_EMBED_BUDGET": "3h", "MEMKEEP_JOBS_EMBED_TIMEOUT": "4h", "MEMKEEP_LOG_LEVEL": "warning",
            ])
        let seconds = (ContinuousClock.now - started).seconds
        guard run.status == 0, let data = run.output.data(using: .utf8),
            let json = try? JSONSerialization.jsonObject(with: Data(data.drop { $0 != UInt8(ascii: "{") })) as? [String: Any],
            let job = (json["jobs"] as? [[String: Any]])?.first, let embedded = job["embedded"] as? Int
        else { throw BenchError.tool("memkeepd run embed", run.output) }
        let cleared = try Shell.run("/usr/bin/sqlite3", [store], input: "DELETE FROM embed_queue;")
        guard cleared.status == 0 else { throw BenchError.tool("sqlite3", cleared.output) }
        return (embedded, seconds)
    }
}
