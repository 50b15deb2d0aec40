using Microsoft.Extensions.Logging;
using O3Storage.Node.Diagnostics;

namespace O3Storage.Node.Tests;

public sealed class RecentEventsTests
{
    [Fact]
    public void KeepsTheNodesOwnEvents_InformationAndUp_NewestFirst_AtMostCapacity()
    {
        var events = new RecentEvents(TimeProvider.System);
        ILogger node = events.CreateLogger(RecentEvents.Category);
        ILogger kestrel = events.CreateLogger("Microsoft.AspNetCore.Server.Kestrel");
        node.LogDebug("not kept: debug");
        kestrel.LogWarning("not kept: another category");
        node.Log(LogLevel.Information, new EventId(2005), "leader is now {Leader}", "10.0.0.1:8080");
        node.Log(LogLevel.Warning, new EventId(4001), "AUTHENTICATION IS OFF");
        IReadOnlyList<RecentEvent> kept = events.Newest();
        Assert.Equal([("warning", 4001, "AUTHENTICATION IS OFF"), ("information", 2005, "leader is now 10.0.0.1:8080")], kept.Select(e => (e.Level, e.EventId, e.Message)));

        for (int i = 0; i < RecentEvents.Capacity + 10; i++)
        {
            node.LogInformation("event {Number}", i);
        }

        kept = events.Newest();
        Assert.Equal(RecentEvents.Capacity, kept.Count);
        Assert.Equal($"event {RecentEvents.Capacity + 9}", kept[0].Message);
        Assert.Equal("event 10", kept[^1].Message);
    }
}
