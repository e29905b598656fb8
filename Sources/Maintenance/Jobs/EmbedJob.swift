import Embeddings
import MemoryStore

/// Gives every memory a vector of the configured model: new and changed memories first, then
/// those whose vector is of another model (a model change re-embeds in the background). The
/// provider is called outside any transaction; a vector is stored only if its memory still has
/// the content that was embedded. A failing provider fails the run and leaves the memories
/// queued: nothing is lost, and the scheduler retries with backoff.
public enum EmbedJob {
    public static func run(_ context: JobContext, embedder: (any TextEmbedder)?) async throws -> JobReport {
        guard let embedder else { throw JobError.noEmbedder }
        var report = JobReport(job: .embed)
        let model = embedder.vectorModel
        if context.dryRun {
            let backlog = try await context.store.embeddingBacklog(model: model)
            report.examined = backlog.total
            report.changed = backlog.total
            report.embedded = backlog.total
            return report
        }
        let batchSize = context.configuration.embed.batchSize
        var embedded = 0
        while true {
            let tasks = try await context.store.memoriesToEmbed(model: model, limit: batchSize)
            if tasks.isEmpty { break }
            let vectors = try await embedder.embed(tasks.map(\.content))
            guard vectors.count == tasks.count else {
                throw EmbeddingError.malformedAnswer(url: model.name, reason: "\(vectors.count) vectors for \(tasks.count) texts")
            }
            let stored = try await context.store.storeVectors(zip(tasks, vectors).map { ($0, $1) }, model: model)
            report.examined += tasks.count
            context.progressed(tasks.count)
            embedded += stored
            guard try await context.nextBatchAllowed() else {
                report.complete = false
                break
            }
        }
        report.changed = embedded
        report.embedded = embedded
        return report
    }
}

extension TextEmbedder {
    /// The vector space its vectors are stored under.
    public var vectorModel: EmbeddingModel { EmbeddingModel(name: modelID, dimensions: dimensions) }
}
