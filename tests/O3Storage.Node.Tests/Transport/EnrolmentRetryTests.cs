using System.Net.Http;
using System.Net.Sockets;
using O3Storage.Node.Transport;

namespace O3Storage.Node.Tests.Transport;

/// <summary>
/// A joining board enrols with a member that has just answered its ping; a member that has just
/// bootstrapped on a small or emulated board may take seconds to finish a TLS handshake (seen in
/// make test-fleet: the joiner gave up after one timed-out call and systemd restarted it).
/// </summary>
public sealed class EnrolmentRetryTests
{
    private static readonly EnrolmentClient.Outcome s_refused = new EnrolmentClient.Outcome.Refused("not this cluster's token");

    [Fact]
    public async Task AMemberThatCannotBeReachedYet_IsTriedAgain_UntilItAnswers()
    {
        var failures = new List<string>();
        int calls = 0;
        EnrolmentClient.Outcome outcome = await EnrolmentClient.UntilAnsweredAsync(
            _ => ++calls switch
            {
                1 => throw new HttpRequestException("Connection refused", new SocketException((int)SocketError.ConnectionRefused)),
                2 => throw new TaskCanceledException("the TLS handshake took too long"),
                _ => Task.FromResult(s_refused),
            },
            failures.Add, new InstantTime(), CancellationToken.None);

        Assert.Same(s_refused, outcome);
        Assert.Equal(3, calls);
        Assert.Equal(["Connection refused", "timed out"], failures);
    }

    [Fact]
    public async Task AnAnswer_EvenARefusal_IsFinal()
    {
        int calls = 0;
        EnrolmentClient.Outcome outcome = await EnrolmentClient.UntilAnsweredAsync(
            _ =>
            {
                calls++;
                return Task.FromResult(s_refused);
            },
            _ => Assert.Fail("nothing failed"), new InstantTime(), CancellationToken.None);
        Assert.Same(s_refused, outcome);
        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task AtTheDeadline_TheLastFailureIsReported_WithTheAttempts()
    {
        using var deadline = new CancellationTokenSource();
        int calls = 0;
        var e = await Assert.ThrowsAsync<EnrolmentClient.UnreachableException>(() => EnrolmentClient.UntilAnsweredAsync(
            token =>
            {
                if (++calls == 4)
                {
                    deadline.Cancel();
                    throw new OperationCanceledException(token);
                }

                throw new HttpRequestException("No route to host", new SocketException((int)SocketError.HostUnreachable));
            },
            _ => { }, new InstantTime(), deadline.Token));
        Assert.Equal(4, e.Attempts);
        Assert.Equal("timed out", e.LastFailure);
    }

    [Fact]
    public async Task WhatIsNotAFailureToReach_IsNotRetried()
    {
        int calls = 0;
        await Assert.ThrowsAsync<InvalidDataException>(() => EnrolmentClient.UntilAnsweredAsync(
            _ =>
            {
                calls++;
                throw new InvalidDataException("a CA that does not parse");
            },
            _ => { }, new InstantTime(), CancellationToken.None));
        Assert.Equal(1, calls);
    }

    /// <summary>Every pause is over at once: the tests count attempts, not seconds.</summary>
    private sealed class InstantTime : TimeProvider
    {
        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            if (dueTime != Timeout.InfiniteTimeSpan)
            {
                ThreadPool.QueueUserWorkItem(_ => callback(state));
            }

            return new NoTimer();
        }

        private sealed class NoTimer : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => true;

            public void Dispose()
            {
            }

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }
}
