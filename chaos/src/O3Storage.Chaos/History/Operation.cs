// Owns: one client operation as the chaos suite records it: what was asked, when, and what came back.
// Assumes: times come from one monotonic clock on the machine running the clients (microseconds since the
// workload began), so "completed before invoked" between two operations means real-time order.
namespace O3Storage.Chaos.History;

/// <summary>What a client asked of one key.</summary>
public enum OperationKind
{
    /// <summary>PUT of a value no other operation writes (so a read names the write it saw).</summary>
    Put,

    /// <summary>GET: <see cref="Operation.Value"/> is what it returned, null for 404.</summary>
    Get,

    /// <summary>DELETE.</summary>
    Delete,
}

/// <summary>What the client knows about the operation's effect.</summary>
public enum OperationOutcome
{
    /// <summary>Answered with success: it took effect between its invocation and its completion.</summary>
    Ok,

    /// <summary>Known not to have taken effect (refused before anything was written, e.g. connection refused).</summary>
    Failed,

    /// <summary>May or may not have taken effect, at any time after its invocation (timeout, reset, a 5xx).</summary>
    Unknown,
}

/// <param name="Id">Unique in its history.</param>
/// <param name="Client">The client that issued it; one client has one operation open at a time.</param>
/// <param name="Value">Put: the value written. Get with <see cref="OperationOutcome.Ok"/>: the value read, null when absent. Otherwise null.</param>
/// <param name="InvokedUs">When the request was sent (microseconds on the clients' clock).</param>
/// <param name="CompletedUs">When the answer (or the client's giving up) came.</param>
/// <param name="Detail">What the node answered or what failed, for the report.</param>
public sealed record Operation(
    int Id,
    int Client,
    string Key,
    OperationKind Kind,
    string? Value,
    long InvokedUs,
    long CompletedUs,
    OperationOutcome Outcome,
    string? Detail = null)
{
    public override string ToString()
    {
        string what = Kind switch
        {
            OperationKind.Put => $"put {Key}={Value}",
            OperationKind.Get when Outcome == OperationOutcome.Ok => $"get {Key} -> {Value ?? "absent"}",
            OperationKind.Get => $"get {Key}",
            _ => $"delete {Key}",
        };
        string outcome = Outcome == OperationOutcome.Ok ? (Detail is null ? "" : $" ({Detail})") : $" ({Outcome.ToString().ToLowerInvariant()}{(Detail is null ? "" : ": " + Detail)})";
        return $"#{Id} client {Client}: {what} [{InvokedUs / 1000.0:0.000}, {CompletedUs / 1000.0:0.000} ms]{outcome}";
    }
}
