using O3Storage.Chaos.Checking;
using O3Storage.Chaos.History;

namespace O3Storage.Chaos.Tests.Checking;

/// <summary>
/// Hand-written histories with known answers, several of them ones a plausible but broken checker
/// passes (reads judged one at a time, unknown writes taken as "anything goes", failed writes counted).
/// </summary>
public sealed class LinearizabilityCheckerTests
{
    private readonly List<Operation> _history = [];

    private LinearizabilityCheckerTests Put(int client, string value, long invoked, long completed, string key = "k", OperationOutcome outcome = OperationOutcome.Ok) =>
        Add(client, key, OperationKind.Put, value, invoked, completed, outcome);

    private LinearizabilityCheckerTests Get(int client, string? seen, long invoked, long completed, string key = "k", OperationOutcome outcome = OperationOutcome.Ok) =>
        Add(client, key, OperationKind.Get, seen, invoked, completed, outcome);

    private LinearizabilityCheckerTests Delete(int client, long invoked, long completed, string key = "k", OperationOutcome outcome = OperationOutcome.Ok) =>
        Add(client, key, OperationKind.Delete, null, invoked, completed, outcome);

    private LinearizabilityCheckerTests Add(int client, string key, OperationKind kind, string? value, long invoked, long completed, OperationOutcome outcome)
    {
        _history.Add(new Operation(_history.Count, client, key, kind, value, invoked, completed, outcome));
        return this;
    }

    private Verdict Judge() => LinearizabilityChecker.Check(_history, CancellationToken.None).Verdict;

    [Fact]
    public void EmptyHistory_IsLinearizable() => Assert.Equal(Verdict.Linearizable, Judge());

    [Fact]
    public void ReadOfNothingWritten_SeesAbsent() =>
        Assert.Equal(Verdict.Linearizable, Get(1, null, 0, 1).Judge());

    [Fact]
    public void SequentialWriteThenRead_OfItsValue_IsLinearizable() =>
        Assert.Equal(Verdict.Linearizable, Put(1, "a", 0, 10).Get(2, "a", 20, 30).Judge());

    [Fact]
    public void ReadAfterACompletedWrite_ThatSeesTheOlderValue_IsStale() =>
        Assert.Equal(Verdict.NotLinearizable, Put(1, "a", 0, 10).Put(1, "b", 20, 30).Get(2, "a", 40, 50).Judge());

    [Fact]
    public void ReadAfterACompletedWrite_ThatSeesAbsent_LostTheWrite() =>
        Assert.Equal(Verdict.NotLinearizable, Put(1, "a", 0, 10).Get(2, null, 20, 30).Judge());

    [Fact]
    public void ReadConcurrentWithAWrite_MaySeeEitherValue()
    {
        Assert.Equal(Verdict.Linearizable, Put(1, "a", 0, 10).Put(1, "b", 20, 40).Get(2, "a", 25, 30).Judge());
        _history.Clear();
        Assert.Equal(Verdict.Linearizable, Put(1, "a", 0, 10).Put(1, "b", 20, 40).Get(2, "b", 25, 30).Judge());
    }

    [Fact]
    public void ReadOfAValueNoOneWrote_IsNotLinearizable() =>
        Assert.Equal(Verdict.NotLinearizable, Put(1, "a", 0, 10).Get(2, "z", 20, 30).Judge());

    [Fact]
    public void NewThenOldInversion_IsNotLinearizable()
    {
        // Each read alone overlaps the write of "b", so each could see either value; but once a read has
        // seen "b", a read that starts after it ends must not see "a" again. A checker that judges reads
        // one at a time passes this.
        Put(1, "a", 0, 10).Put(1, "b", 20, 100).Get(2, "b", 30, 40).Get(3, "a", 50, 60);
        Assert.Equal(Verdict.NotLinearizable, Judge());
    }

    [Fact]
    public void TwoConcurrentWrites_ThenReadsThatFlipBetweenThem_AreNotLinearizable() =>
        Assert.Equal(Verdict.NotLinearizable, Put(1, "a", 0, 50).Put(2, "b", 0, 50).Get(3, "a", 60, 70).Get(3, "b", 80, 90).Judge());

    [Fact]
    public void TwoConcurrentWrites_EitherOrderIsFine()
    {
        Assert.Equal(Verdict.Linearizable, Put(1, "a", 0, 50).Put(2, "b", 0, 50).Get(3, "a", 60, 70).Get(3, "a", 80, 90).Judge());
        _history.Clear();
        Assert.Equal(Verdict.Linearizable, Put(1, "a", 0, 50).Put(2, "b", 0, 50).Get(3, "b", 60, 70).Judge());
    }

    [Fact]
    public void DeleteThenReadOfTheDeletedValue_IsNotLinearizable() =>
        Assert.Equal(Verdict.NotLinearizable, Put(1, "a", 0, 10).Delete(1, 20, 30).Get(2, "a", 40, 50).Judge());

    [Fact]
    public void DeleteThenRead_SeesAbsent() =>
        Assert.Equal(Verdict.Linearizable, Put(1, "a", 0, 10).Delete(1, 20, 30).Get(2, null, 40, 50).Judge());

    [Fact]
    public void WriteWithUnknownOutcome_MayHaveHappenedLater()
    {
        // The client gave up at 10, but the write may take effect any time after 0, even after a later read.
        Put(1, "a", 0, 10, outcome: OperationOutcome.Unknown).Get(2, null, 20, 30).Get(2, "a", 40, 50);
        Assert.Equal(Verdict.Linearizable, Judge());
    }

    [Fact]
    public void WriteWithUnknownOutcome_MayNeverHaveHappened() =>
        Assert.Equal(Verdict.Linearizable, Put(1, "a", 0, 10, outcome: OperationOutcome.Unknown).Get(2, null, 20, 30).Judge());

    [Fact]
    public void WriteWithUnknownOutcome_CannotUnhappen()
    {
        // Seen, then gone without a delete: "unknown" is not "anything goes".
        Put(1, "a", 0, 10, outcome: OperationOutcome.Unknown).Get(2, "a", 20, 30).Get(2, null, 40, 50);
        Assert.Equal(Verdict.NotLinearizable, Judge());
    }

    [Fact]
    public void WriteWithUnknownOutcome_CannotTakeEffectBeforeItsInvocation() =>
        Assert.Equal(Verdict.NotLinearizable, Get(2, "a", 0, 5).Put(1, "a", 10, 20, outcome: OperationOutcome.Unknown).Judge());

    [Fact]
    public void FailedWrite_NeverTookEffect() =>
        Assert.Equal(Verdict.NotLinearizable, Put(1, "a", 0, 10, outcome: OperationOutcome.Failed).Get(2, "a", 20, 30).Judge());

    [Fact]
    public void ADeleteRecordedAsFailed_CannotExplainAnAbsentRead_ButAsUnknownItCan()
    {
        // Seeds 22, 80 and 83 of the first make chaos: a DELETE the node committed was recorded as never sent.
        Put(1, "a", 0, 10).Delete(2, 20, 30, outcome: OperationOutcome.Failed).Get(3, null, 40, 50);
        Assert.Equal(Verdict.NotLinearizable, Judge());
        _history[1] = _history[1] with { Outcome = OperationOutcome.Unknown };
        Assert.Equal(Verdict.Linearizable, Judge());
    }

    [Fact]
    public void UnansweredRead_TellsNothing() =>
        Assert.Equal(Verdict.Linearizable, Put(1, "a", 0, 10).Get(2, "zzz", 20, 30, outcome: OperationOutcome.Unknown).Judge());

    [Fact]
    public void OperationsThatTouchAtAnInstant_CountAsConcurrent() =>
        Assert.Equal(Verdict.Linearizable, Put(1, "a", 0, 10).Get(2, null, 10, 20).Judge());

    [Fact]
    public void Keys_AreJudgedApart()
    {
        // Fine on each key; only "mixing" the keys into one register would fail it.
        Put(1, "a", 0, 10, key: "x").Put(2, "b", 0, 10, key: "y").Get(3, "a", 20, 30, key: "x").Get(3, "b", 40, 50, key: "y");
        CheckResult result = LinearizabilityChecker.Check(_history, CancellationToken.None);
        Assert.Equal(Verdict.Linearizable, result.Verdict);
        Assert.Equal(["x", "y"], result.Keys.Select(k => k.Key));
    }

    [Fact]
    public void OneBadKey_MakesTheHistoryNotLinearizable_AndTheReportNamesIt()
    {
        Put(1, "a", 0, 10, key: "good").Get(2, "a", 20, 30, key: "good");
        Put(1, "b", 40, 50, key: "bad").Get(2, null, 60, 70, key: "bad");
        CheckResult result = LinearizabilityChecker.Check(_history, CancellationToken.None);

        Assert.Equal(Verdict.NotLinearizable, result.Verdict);
        KeyVerdict bad = Assert.Single(result.Keys, k => k.Verdict == Verdict.NotLinearizable);
        Assert.Equal("bad", bad.Key);
        Assert.Equal([2], bad.LongestPrefix.Select(o => o.Id));
        Assert.Equal("b", bad.StateAfterPrefix);
        Assert.Contains(bad.Blocked, o => o.Id == 3 && o.Kind == OperationKind.Get);
        string report = result.Describe();
        Assert.Contains("key bad: NotLinearizable", report, StringComparison.Ordinal);
        Assert.Contains("get bad -> absent", report, StringComparison.Ordinal);
        Assert.DoesNotContain("key good", report, StringComparison.Ordinal);
    }

    [Fact]
    public void AnOperationCompletedBeforeItsInvocation_IsRefused() =>
        Assert.Throws<ArgumentException>(() => Put(1, "a", 10, 0).Judge());

    [Fact]
    public void OutOfTime_IsUnknown_NotAVerdict()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        RandomHistories.Linearizable(new Random(7), clients: 6, operations: 3000, keys: 1, _history);
        CheckResult result = LinearizabilityChecker.Check(_history, cancelled.Token);
        Assert.Equal(Verdict.Unknown, result.Verdict);
        Assert.Contains("ran out of time", result.Describe(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void RandomHistories_MadeByARealRegister_AreLinearizable_AndOneCorruptedReadIsCaught(int seed)
    {
        var random = new Random(seed);
        RandomHistories.Linearizable(random, clients: 5, operations: 400, keys: 3, _history);
        Assert.Equal(Verdict.Linearizable, Judge());

        // A read that returns a value no one wrote can never be explained.
        int read = _history.FindIndex(o => o.Kind == OperationKind.Get && o.Outcome == OperationOutcome.Ok);
        _history[read] = _history[read] with { Value = "never-written" };
        Assert.Equal(Verdict.NotLinearizable, Judge());
    }
}
