import Foundation
import TestSupport
import Testing

/// `import`, `export` and a manual `run` show a progress line (rows, rate, time left) on
/// standard error when it is a terminal, and write nothing there when it is not.
@Suite struct ProgressLineTests {
    static let openPastDeadline = (0..<3).map {
        #"{"type":"session","id":"open-\#($0)","agent_id":"agent-0","started_at":1780000000,"idle_timeout_secs":60}"#
    }

    @Test(arguments: TestBackend.allCases)
    func longCommandsShowProgressOnATerminalOnly(backend: TestBackend) async throws {
        try await Memkeepd.with(backend) { m in
            // 6 ended sessions, 12 facts, 5 expired memories, 3 open sessions past their deadline.
            let lines = seedLines(agents: 2, sessions: 3, facts: 2, expiredExtra: 5)
                + Self.openPastDeadline.joined(separator: "\n") + "\n"
            let seed = try m.write("seed.jsonl", lines)
            let imported = try await m.runOnTerminal("import", seed)
            #expect(imported.status == 0)
            #expect(imported.terminal.contains("import: lines read 26/26"), "\(imported.terminal)")
            #expect(imported.stdout == "imported 9 sessions and 17 memories\n")

            let exported = try await m.runOnTerminal("export", "--agent", "agent-1")
            #expect(exported.terminal.contains("export: lines written 9/9"), "\(exported.terminal)")
            #expect(exported.stdout.split(separator: "\n").count == 9)

            for (job, rows) in [("orphans", 3), ("purge", 5)] {
                let run = try await m.runOnTerminal("run", job, "--now", "2026-06-01T00:00:00Z")
                #expect(run.status == 0)
                #expect(run.terminal.contains("\(job): rows \(rows)/\(rows)"), "\(run.terminal)")
            }

            let quiet = try await m.run("export")
            #expect(quiet.status == 0 && quiet.stderr.isEmpty)
            #expect(quiet.stdout.split(separator: "\n").count == 21, "the 5 expired memories purged")
            let quietImport = try await m.run("import", try m.write("more.jsonl", seedLines(agents: 1, sessions: 1, facts: 1).replacingOccurrences(of: "agent-0", with: "agent-9").replacingOccurrences(of: "s-0-0", with: "s-9").replacingOccurrences(of: "m-0-0-0", with: "m-9")))
            #expect(quietImport.status == 0 && quietImport.stderr.isEmpty, "\(quietImport.stderr)")
        }
    }
}
