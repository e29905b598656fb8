import Foundation
import GRDB
@testable import MemoryStore
import Testing
import TestSupport

@Suite struct MigrationTests {
    /// A store written before topic summaries (one summary per consolidation, provenance in
    /// `summary_sources`) opens with each summary as its own consolidation, restorable as before.
    @Test func singleSummaryProvenanceBecomesKeptFatesOfAConsolidationNamedAfterTheSummary() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("memkeep-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("store.db").path
        let queue = try DatabaseQueue(path: path)
        try Schema.migrator.migrate(queue, upTo: "v3-vectors")
        try await queue.write { db in
            try db.execute(sql: """
                INSERT INTO sessions (id, agent_id, started_at, last_activity_at, ended_at, ended_reason,
                                      consolidated_at, consolidated_into)
                    VALUES ('s1', 'a', 1, 1, 2, 'client', 3, 'sum');
                INSERT INTO memories (id, agent_id, session_id, content, memory_type, importance, base_importance,
                                      decay_ref_at, tags, metadata, created_at, updated_at, archived_at, archived_reason)
                    VALUES ('m1', 'a', 's1', 'fact', 'episodic', 0.5, 0.5, 1, '[]', '{}', 1, 1, 3, 'consolidated'),
                           ('sum', 'a', NULL, '- fact', 'semantic', 0.6, 0.6, 3, '["historical-summary"]', '{}', 3, 3,
                            NULL, NULL);
                INSERT INTO summary_sources (summary_id, source_memory_id, source_session_id) VALUES ('sum', 'm1', 's1');
                """)
        }
        try queue.close()
        let store = try MemoryStore(path: path, clock: ManualClock(TestStore.t0))
        let explanation = try await store.explain(id: "sum")
        #expect(explanation.consolidationID == "sum")
        #expect(explanation.entries.map(\.source) == [
            ConsolidationSource(sourceMemoryID: "m1", consolidationID: "sum", summaryID: "sum", sourceSessionID: "s1", fate: .kept)
        ])
        let restored = try await store.restore(id: "sum")
        #expect(restored.sessionIDs == ["s1"] && restored.memoryIDs == ["m1"])
    }
}
