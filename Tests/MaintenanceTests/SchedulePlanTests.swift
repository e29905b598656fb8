import MemoryStore
import Testing

@testable import Maintenance

@Suite struct JobPlanTests {
    let t0: UnixMillis = 1_780_000_000_000
    var jobs: MaintenanceConfiguration.Jobs {
        var jobs = MaintenanceConfiguration.Jobs()
        jobs.interval[.decay] = .seconds(3600)
        jobs.jitter[.decay] = .seconds(300)
        jobs.backoffInitial = .seconds(5)
        jobs.backoffMax = .seconds(60)
        return jobs
    }

    func report(_ status: JobReport.Status, complete: Bool = true) -> JobReport {
        var report = JobReport(job: .decay, status: status)
        report.complete = complete
        report.changed = 7
        return report
    }

    @Test func aJobNeverRunIsDueAtStartPlusItsJitter() {
        let plan = JobPlan.initial(job: .decay, lastCompleteRunAt: nil, now: t0, jobs: jobs, jitterFraction: 0.5)
        #expect(plan.nextDue == t0 + 150_000)
    }

    @Test func aRestartWaitsOutTheIntervalSinceTheLastCompleteRun() {
        let recent = JobPlan.initial(job: .decay, lastCompleteRunAt: t0 - 600_000, now: t0, jobs: jobs, jitterFraction: 0)
        #expect(recent.nextDue == t0 + 3_000_000)
        let old = JobPlan.initial(job: .decay, lastCompleteRunAt: t0 - 86_400_000, now: t0, jobs: jobs, jitterFraction: 0)
        #expect(old.nextDue == t0)
    }

    @Test func successSchedulesTheNextRunAfterTheIntervalAndJitter() {
        var plan = JobPlan(job: .decay, nextDue: t0)
        plan.record(report(.ok), at: t0, jobs: jobs, jitterFraction: 1)
        #expect(plan.nextDue == t0 + 3_600_000 + 300_000)
        #expect(plan.lastRun == JobPlan.LastRun(finishedAt: t0, status: .ok, changed: 7))
    }

    @Test func aRunStoppedByItsBudgetContinuesAfterAShortPause() {
        var plan = JobPlan(job: .decay, nextDue: t0)
        plan.record(report(.ok, complete: false), at: t0, jobs: jobs, jitterFraction: 1)
        #expect(plan.nextDue == t0 + JobPlan.continueAfter)
    }

    @Test func failuresBackOffExponentiallyUpToTheCapAndSuccessResetsThem() {
        var plan = JobPlan(job: .decay, nextDue: t0)
        var delays: [UnixMillis] = []
        for _ in 0..<6 {
            plan.record(report(.failed), at: t0, jobs: jobs, jitterFraction: 0)
            delays.append(plan.nextDue - t0)
        }
        #expect(delays == [5_000, 10_000, 20_000, 40_000, 60_000, 60_000])
        plan.record(report(.ok), at: t0, jobs: jobs, jitterFraction: 0)
        #expect(plan.failures == 0)
        #expect(plan.nextDue == t0 + 3_600_000)
    }

    @Test func aRunSkippedForAnotherHoldersLeaseIsNotAFailure() {
        var plan = JobPlan(job: .decay, nextDue: t0)
        plan.record(report(.failed), at: t0, jobs: jobs, jitterFraction: 0)
        plan.record(report(.skipped), at: t0, jobs: jobs, jitterFraction: 0)
        #expect(plan.failures == 0)
        #expect(plan.nextDue == t0 + 3_600_000)
    }

    @Test func backoffHandlesLongFailureStreaksWithoutOverflow() {
        #expect(JobPlan.backoff(failures: 0, jobs: jobs) == .zero)
        #expect(JobPlan.backoff(failures: 1_000, jobs: jobs) == .seconds(60))
    }
}

@Suite struct OrphanPlanTests {
    let t0: UnixMillis = 1_780_000_000_000
    let maxSleep = Duration.seconds(60)
    var jobs: MaintenanceConfiguration.Jobs {
        var jobs = MaintenanceConfiguration.Jobs()
        jobs.backoffInitial = .seconds(5)
        return jobs
    }

    @Test func atStartTheSweepAsksTheStoreForTheEarliestDeadline() {
        #expect(OrphanPlan().next(now: t0, maxSleep: maxSleep) == .lookUp)
    }

    @Test func itSleepsUntilTheEarliestDeadlineButNoLongerThanMaxSleep() {
        var plan = OrphanPlan()
        plan.lookedUp(deadline: t0 + 5_000, at: t0)
        #expect(plan.next(now: t0, maxSleep: maxSleep) == .sleep(until: t0 + 5_000))
        plan.lookedUp(deadline: t0 + 3_600_000, at: t0)
        #expect(plan.next(now: t0, maxSleep: maxSleep) == .sleep(until: t0 + 60_000))
        plan.lookedUp(deadline: nil, at: t0)
        #expect(plan.next(now: t0, maxSleep: maxSleep) == .sleep(until: t0 + 60_000))
        #expect(plan.next(now: t0 + 60_000, maxSleep: maxSleep) == .lookUp)
    }

    @Test func aPassedDeadlineTriggersTheSweepAndAfterItTheStoreIsAskedAgain() {
        var plan = OrphanPlan()
        plan.lookedUp(deadline: t0 + 5_000, at: t0)
        #expect(plan.next(now: t0 + 5_000, maxSleep: maxSleep) == .sweep)
        plan.record(JobReport(job: .orphans), at: t0 + 5_010, jobs: jobs)
        #expect(plan.next(now: t0 + 5_010, maxSleep: maxSleep) == .lookUp)
    }

    @Test func anEarlierDeadlineFromThisProcessReplansAtOnceALaterOneDoesNot() {
        var plan = OrphanPlan()
        plan.lookedUp(deadline: t0 + 50_000, at: t0)
        let earlier = plan.noteDeadline(t0 + 2_000)
        #expect(earlier)
        #expect(plan.next(now: t0, maxSleep: maxSleep) == .sleep(until: t0 + 2_000))
        let later = plan.noteDeadline(t0 + 9_000)
        #expect(!later)
        #expect(plan.next(now: t0, maxSleep: maxSleep) == .sleep(until: t0 + 2_000))
    }

    @Test func aDeadlineNotedWhileTheStoreIsAskedSurvivesTheOlderAnswer() {
        var plan = OrphanPlan()
        plan.beginLookUp()
        plan.noteDeadline(t0 + 1_000)
        // The store was read before that session was written: it knows no deadline.
        plan.lookedUp(deadline: nil, at: t0)
        #expect(plan.next(now: t0, maxSleep: maxSleep) == .sleep(until: t0 + 1_000))
        plan.beginLookUp()
        plan.lookedUp(deadline: t0 + 9_000, at: t0)
        #expect(plan.next(now: t0, maxSleep: maxSleep) == .sleep(until: t0 + 9_000))
    }

    @Test func aFailedSweepIsRetriedAfterTheBackoffNotInAHotLoop() {
        var plan = OrphanPlan()
        plan.lookedUp(deadline: t0, at: t0)
        plan.record(JobReport(job: .orphans, status: .failed), at: t0, jobs: jobs)
        #expect(plan.next(now: t0 + 1, maxSleep: maxSleep) == .sleep(until: t0 + 5_000))
        #expect(plan.next(now: t0 + 5_000, maxSleep: maxSleep) == .sweep)
        plan.record(JobReport(job: .orphans, status: .failed), at: t0 + 5_000, jobs: jobs)
        #expect(plan.next(now: t0 + 5_001, maxSleep: maxSleep) == .sleep(until: t0 + 15_000))
    }

    @Test func aFailedLookUpIsRetriedAfterTheBackoff() {
        var plan = OrphanPlan()
        plan.lookUpFailed(at: t0, jobs: jobs)
        #expect(plan.next(now: t0, maxSleep: maxSleep) == .sleep(until: t0 + 5_000))
        #expect(plan.next(now: t0 + 5_000, maxSleep: maxSleep) == .lookUp)
    }
}

@Suite struct SchedulerStatusTests {
    let t0: UnixMillis = 1_780_000_000_000

    @Test func theStatusLineNamesTheLatestRunAndTheNextDueJob() {
        var decay = JobPlan(job: .decay, nextDue: t0 + 240_000)
        decay.lastRun = JobPlan.LastRun(finishedAt: t0 - 600_000, status: .ok, changed: 12)
        let purge = JobPlan(job: .purge, nextDue: t0 + 3_600_000)
        var orphans = OrphanPlan()
        orphans.lookedUp(deadline: nil, at: t0)
        orphans.lastRun = JobPlan.LastRun(finishedAt: t0 - 2_000, status: .ok, changed: 3)
        let line = SchedulerStatus.line(plans: [decay, purge], orphans: orphans, now: t0, maxSleep: .seconds(60))
        #expect(line == "orphans: 3 closed 2s ago · next decay in 4m")
    }

    @Test func aCloserIdleDeadlineIsTheNextThingDue() {
        var orphans = OrphanPlan()
        orphans.lookedUp(deadline: t0 + 30_000, at: t0)
        let line = SchedulerStatus.line(
            plans: [JobPlan(job: .decay, nextDue: t0 + 240_000)], orphans: orphans, now: t0, maxSleep: .seconds(60))
        #expect(line == "no run yet · next orphans in 30s")
    }

    @Test func failuresAreShown() {
        var purge = JobPlan(job: .purge, nextDue: t0 + 5_000)
        purge.lastRun = JobPlan.LastRun(finishedAt: t0 - 1_000, status: .failed, changed: 0)
        let line = SchedulerStatus.line(plans: [purge], orphans: OrphanPlan(), now: t0, maxSleep: .seconds(60))
        #expect(line == "purge: failed 1s ago · next purge in 5s")
    }

    @Test func durationsReadForPeople() {
        #expect(SchedulerStatus.human(850) == "850ms")
        #expect(SchedulerStatus.human(42_000) == "42s")
        #expect(SchedulerStatus.human(3 * 3_600_000) == "3h")
        #expect(SchedulerStatus.human(2 * 86_400_000 + 5) == "2d")
        #expect(SchedulerStatus.human(-5) == "0ms")
    }
}

@Suite struct LivenessTests {
    @Test func aLoopPastItsWordPlusSlackIsOverdue() {
        var liveness = Liveness()
        let now = AnyClock.Instant(offset: .seconds(5))
        liveness.expect("decay", by: now + .seconds(10))
        liveness.expect("orphans", by: now + .seconds(60))
        #expect(liveness.overdue(at: now + .seconds(39)).isEmpty)
        #expect(liveness.overdue(at: now + .seconds(41)) == ["decay"])
        liveness.finished("decay")
        #expect(liveness.overdue(at: now + .seconds(41)).isEmpty)
        #expect(liveness.overdue(at: now + .seconds(91)) == ["orphans"])
    }
}
