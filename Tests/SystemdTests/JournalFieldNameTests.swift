import Testing

@testable import Systemd

@Suite struct JournalFieldNameTests {
    @Test func dottedLowerCaseKeysBecomeUpperCaseWithUnderscores() {
        #expect(JournalFieldName.sanitize("memkeep.job") == "MEMKEEP_JOB")
        #expect(JournalFieldName.sanitize("memkeep.duration_ms") == "MEMKEEP_DURATION_MS")
        #expect(JournalFieldName.sanitize("session_id") == "SESSION_ID")
        #expect(JournalFieldName.sanitize("message_id") == "MESSAGE_ID")
    }

    @Test func charactersJournaldRejectsAreReplaced() {
        #expect(JournalFieldName.sanitize("a-b c/d") == "A_B_C_D")
        #expect(JournalFieldName.sanitize("größe") == "GR__E")
    }

    @Test func leadingUnderscoresAndDigitsAreDroppedBecauseJournaldDropsSuchFields() {
        #expect(JournalFieldName.sanitize("_PID") == "PID")
        #expect(JournalFieldName.sanitize("__x") == "X")
        #expect(JournalFieldName.sanitize("9lives") == "LIVES")
        #expect(JournalFieldName.sanitize("._1a") == "A")
    }

    @Test func namesAreCutToSixtyFourCharacters() throws {
        let name = try #require(JournalFieldName.sanitize(String(repeating: "k", count: 100)))
        #expect(name.count == 64)
        #expect(name == String(repeating: "K", count: 64))
    }

    @Test func keysWithNothingValidLeftAreDropped() {
        #expect(JournalFieldName.sanitize("") == nil)
        #expect(JournalFieldName.sanitize("...") == nil)
        #expect(JournalFieldName.sanitize("123") == nil)
    }

    @Test func metadataCannotOverrideTheFieldsTheHandlerWrites() {
        #expect(JournalFieldName.sanitize("message") == "META_MESSAGE")
        #expect(JournalFieldName.sanitize("priority") == "META_PRIORITY")
        #expect(JournalFieldName.sanitize("code.file") == "META_CODE_FILE")
    }

    @Test func everyFieldOfAnEntryHasAValidName() {
        let fields = JournalLogHandler.fields(
            identifier: "memkeepd", level: .error, message: "job purge failed\nsecond line",
            metadata: ["memkeep.job": "purge", "bad key!": "x", "": "dropped"], file: "Maintenance/JobRunner.swift",
            function: "run(_:)", line: 42, threadID: 7)
        #expect(
            fields == [
                "MESSAGE=job purge failed\nsecond line", "PRIORITY=3", "SYSLOG_IDENTIFIER=memkeepd",
                "CODE_FILE=Maintenance/JobRunner.swift", "CODE_LINE=42", "CODE_FUNC=run(_:)", "TID=7", "BAD_KEY_=x",
                "MEMKEEP_JOB=purge",
            ])
        for field in fields {
            let name = field.prefix { $0 != "=" }
            #expect(name.allSatisfy { $0.isUppercase || $0.isNumber || $0 == "_" }, "\(name)")
            #expect(name.count <= 64)
        }
    }
}
