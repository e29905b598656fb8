import MemoryStore

/// The extractive plan of one consolidation batch, deterministic and offline. In order:
/// 1. superseded facts (an explicit `supersedes`, or a later change statement of the same
///    agent) and facts below the importance floor are set aside;
/// 2. facts that differ only in numbers, ids, dates or quoted names merge into one counted line;
/// 3. duplicates (cosine ≥ `duplicateSimilarity` with vectors, word overlap without) keep the
///    newest wording with the group's highest importance;
/// 4. lines are grouped into at most `maxTopics` topics (vectors, else tags);
/// 5. each topic orders critical facts (≥ 0.8) first, then decisions, open tasks, constraints and
///    state changes, then by importance and recency, each line dated; a topic longer than
///    `maxSummaryCharacters` continues in another summary: nothing is left out for its size.
public struct SummaryPlanner: Sendable {
    public var configuration: MaintenanceConfiguration.Consolidation
    /// Word-set Jaccard similarity from which two facts without vectors count as the same.
    public var wordDuplicateThreshold = 0.8
    /// Facts at or above this importance come first in their topic, so the cap never drops
    /// them before routine ones.
    public static let criticalImportance = 0.8

    public init(_ configuration: MaintenanceConfiguration.Consolidation) {
        self.configuration = configuration
    }

    struct Fact {
        var fact: ConsolidationFact
        var words: Set<String>
        /// Its words without stop words, for duplicate checks.
        var contentWords: Set<String>
        var changes: [Supersession.Change]

        init(_ fact: ConsolidationFact) {
            self.fact = fact
            let sentences = FactText.sentences(fact.content)
            words = Set(sentences.joined())
            contentWords = words.subtracting(FactText.stopwords)
            changes = sentences.flatMap(Supersession.terms(sentence:))
        }
    }

    /// `facts`: the batch's live memories; `later`: the agent's other memories that may state a
    /// change (any order; those in the batch count once).
    public func plan(_ facts: [ConsolidationFact], later: [ConsolidationFact] = []) -> SummaryPlan {
        plan(facts, changes: ChangeIndex(later, minImportance: configuration.minFactImportance))
    }

    /// With the agent's change statements already indexed (the job builds the index once per
    /// agent); the batch's own statements are added.
    public func plan(_ facts: [ConsolidationFact], changes: ChangeIndex) -> SummaryPlan {
        let batch = facts.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }.map(Fact.init)
        var decisions: [String: SummaryPlan.Decision] = [:]
        for item in batch {
            if let by = item.fact.supersededBy {
                decisions[item.fact.id] = .init(fate: .supersededBy, ref: by, topic: nil)
            } else if item.fact.importance < configuration.minFactImportance {
                decisions[item.fact.id] = .init(fate: .belowFloor, ref: nil, topic: nil)
            }
        }
        var changes = changes
        changes.add(batch.lazy.filter { decisions[$0.fact.id] == nil }.map {
            (id: $0.fact.id, createdAt: $0.fact.createdAt, changes: $0.changes)
        })
        for item in batch where decisions[item.fact.id] == nil {
            if let successor = changes.successor(
                of: item.fact.id, createdAt: item.fact.createdAt, words: item.words, own: item.changes)
            {
                decisions[item.fact.id] = .init(fate: .supersededBy, ref: successor, topic: nil)
            }
        }
        let remaining = batch.filter { decisions[$0.fact.id] == nil }
        var lines = mergeTemplates(remaining, into: &decisions)
        lines = dropDuplicates(lines, facts: Dictionary(uniqueKeysWithValues: remaining.map { ($0.fact.id, $0) }), into: &decisions)
        let byID = Dictionary(uniqueKeysWithValues: batch.map { ($0.fact.id, $0.fact) })
        var topics: [SummaryPlan.Topic] = []
        for topicLines in group(lines, facts: byID) {
            topics += parts(topicLines, firstIndex: topics.count, facts: byID, into: &decisions)
        }
        return SummaryPlan(topics: topics, decisions: decisions)
    }

    /// One line per template: singletons as they are, groups as a counted line.
    func mergeTemplates(_ facts: [Fact], into decisions: inout [String: SummaryPlan.Decision]) -> [SummaryPlan.Line] {
        var order: [String] = []
        var groups: [String: [Fact]] = [:]
        for item in facts {
            let key = TemplateMerge.template(item.fact.content).key
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(item)
        }
        return order.map { key in
            let members = groups[key]!
            let newest = members.last!.fact
            let text: String
            if members.count == 1 {
                text = newest.content.trimmingCharacters(in: .whitespacesAndNewlines)
                decisions[newest.id] = .init(fate: .kept, ref: nil, topic: nil)
            } else {
                text = TemplateMerge.line(members.map { .init(text: $0.fact.content, createdAt: $0.fact.createdAt) })
                for member in members { decisions[member.fact.id] = .init(fate: .merged, ref: text, topic: nil) }
            }
            return SummaryPlan.Line(
                text: text, memberIDs: members.map(\.fact.id), importance: members.map(\.fact.importance).max()!,
                priority: members.map { Self.priority($0) }.min()!, newest: newest.createdAt,
                oldest: members[0].fact.createdAt)
        }
    }

    /// Newest first: a line the same as a newer one joins it as a duplicate.
    func dropDuplicates(
        _ lines: [SummaryPlan.Line], facts: [String: Fact], into decisions: inout [String: SummaryPlan.Decision]
    ) -> [SummaryPlan.Line] {
        var kept: [SummaryPlan.Line] = []
        for line in lines.sorted(by: { ($0.newest, $0.representativeID) > ($1.newest, $1.representativeID) }) {
            let representative = facts[line.representativeID]!
            let same = kept.firstIndex { other in
                let otherFact = facts[other.representativeID]!
                if let vector = representative.fact.vector, let otherVector = otherFact.fact.vector {
                    return Double(TopicClustering.cosine(vector, otherVector)) >= configuration.duplicateSimilarity
                }
                return Self.jaccard(representative.contentWords, otherFact.contentWords) >= wordDuplicateThreshold
            }
            guard let same else {
                kept.append(line)
                continue
            }
            kept[same].importance = max(kept[same].importance, line.importance)
            kept[same].priority = min(kept[same].priority, line.priority)
            kept[same].oldest = min(kept[same].oldest, line.oldest)
            for id in line.memberIDs + line.duplicateIDs {
                kept[same].duplicateIDs.append(id)
                decisions[id] = .init(fate: .duplicateOf, ref: kept[same].representativeID, topic: nil)
            }
        }
        return kept.sorted { ($0.newest, $0.representativeID) < ($1.newest, $1.representativeID) }
    }

    /// Lines grouped into topics: by their vectors when all have one, else by their tags.
    func group(_ lines: [SummaryPlan.Line], facts: [String: ConsolidationFact]) -> [[SummaryPlan.Line]] {
        let vectors = lines.compactMap { facts[$0.representativeID]!.vector }
        let clusters =
            vectors.count == lines.count
            ? TopicClustering.byVectors(vectors, maxTopics: configuration.maxTopics)
            : TopicClustering.byTags(
                lines.map { line in line.memberIDs.flatMap { facts[$0]!.tags } }, maxTopics: configuration.maxTopics)
        return clusters.map { $0.map { lines[$0] } }
    }

    /// A topic's summaries: its lines in order, a summary continued in the next whenever the
    /// next line would take it past `maxSummaryCharacters` or `maxSummaryFacts`, so that no line
    /// is left out for its size (a single line longer than a summary is cut; its memory stays).
    func parts(
        _ lines: [SummaryPlan.Line], firstIndex: Int, facts: [String: ConsolidationFact],
        into decisions: inout [String: SummaryPlan.Decision]
    ) -> [SummaryPlan.Topic] {
        let ordered = lines.sorted { a, b in
            (a.importance >= Self.criticalImportance ? 0 : 1, a.priority, -a.importance, -a.newest, a.text)
                < (b.importance >= Self.criticalImportance ? 0 : 1, b.priority, -b.importance, -b.newest, b.text)
        }
        var chunks: [[SummaryPlan.Line]] = [[]]
        var length = 0
        for var line in ordered {
            let added = line.rendered.count + (chunks[chunks.count - 1].isEmpty ? 0 : 1)
            if !chunks[chunks.count - 1].isEmpty,
                length + added > configuration.maxSummaryCharacters
                    || chunks[chunks.count - 1].count >= configuration.maxSummaryFacts
            {
                chunks.append([])
                length = 0
            }
            let overflow = line.rendered.count - configuration.maxSummaryCharacters
            if overflow > 0 { line.text = Self.truncated(line.text, to: line.text.count - overflow) }
            length += line.rendered.count + (chunks[chunks.count - 1].isEmpty ? 0 : 1)
            chunks[chunks.count - 1].append(line)
        }
        return chunks.enumerated().map { offset, included in
            topic(included, index: firstIndex + offset, facts: facts, into: &decisions)
        }
    }

    /// One summary of `included` lines: its sources are the lines' members and duplicates.
    func topic(
        _ included: [SummaryPlan.Line], index: Int, facts: [String: ConsolidationFact],
        into decisions: inout [String: SummaryPlan.Decision]
    ) -> SummaryPlan.Topic {
        let sourceIDs = included.flatMap { $0.memberIDs + $0.duplicateIDs }.sorted()
        for id in sourceIDs { decisions[id]?.topic = index }
        let sources = sourceIDs.map { facts[$0]! }
        var tagCounts: [String: Int] = [:]
        for tag in sources.flatMap({ Set($0.tags) }) where tag != Memory.summaryTag { tagCounts[tag, default: 0] += 1 }
        let tags = tagCounts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.prefix(3).map(\.key)
        return SummaryPlan.Topic(
            lines: included, tags: [Memory.summaryTag] + tags,
            importance: configuration.summaryImportance.value(keptImportances: included.map(\.importance)),
            periodStart: sources.map(\.createdAt).min()!, periodEnd: sources.map(\.createdAt).max()!,
            sourceIDs: sourceIDs, sessionIDs: Array(Set(sources.compactMap(\.sessionID))).sorted())
    }

    /// Cut at a word boundary, with an ellipsis, within `limit` characters.
    static func truncated(_ text: String, to limit: Int) -> String {
        let head = text.prefix(limit - 1)
        let cut = head.lastIndex(where: \.isWhitespace).map { head[..<$0] } ?? head
        return cut + "…"
    }

    static func jaccard(_ a: Set<String>, _ b: Set<String>) -> Double {
        if a.isEmpty && b.isEmpty { return 1 }
        let common = a.intersection(b).count
        return Double(common) / Double(a.count + b.count - common)
    }

    static let priorityWords: Set<String> = [
        // decisions
        "decided", "decision", "chose", "chosen", "agreed", "settled", "picked", "going",
        // open tasks
        "todo", "next", "pending", "task", "tasks", "need", "needs", "blocked", "remaining", "follow",
        // constraints
        "constraint", "constraints", "must", "only", "cannot", "never", "limit", "budget", "requirement", "required",
        // state changes
        "switched", "moved", "migrated", "upgraded", "done", "completed", "finished", "launched", "deployed", "now",
    ]

    static func priority(_ fact: Fact) -> Int {
        fact.fact.memoryType == .procedural || !fact.words.isDisjoint(with: priorityWords) ? 0 : 1
    }
}
