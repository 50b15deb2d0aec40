// Owns: what o3ctl's exit status means. A script branches on these, so they are a contract (docs/o3ctl.md):
// add, never renumber.
namespace O3Storage.Ctl;

public enum ExitCode
{
    /// <summary>Done; for <c>status</c>: every member up and serving.</summary>
    Ok = 0,

    /// <summary>The cluster refused or could not do what was asked (a conflict, an unsafe removal, no such snapshot).</summary>
    Refused = 1,

    /// <summary>Wrong flags or arguments, or a request the node called malformed; nothing was changed.</summary>
    Usage = 2,

    /// <summary>No node answered, or the cluster has no leader or quorum (the node said 503).</summary>
    Unreachable = 3,

    /// <summary>The call needs a key (or an admin key) that o3ctl was not given.</summary>
    NotAuthorized = 4,

    /// <summary>The nodes run a release without this call.</summary>
    NotSupported = 5,

    /// <summary><c>status</c> only: the cluster answers but is not healthy (a member down, no quorum, maintenance, writes off).</summary>
    Degraded = 6,
}

/// <summary>An error o3ctl reports and exits with: what went wrong, what to do, and the exit code.</summary>
public sealed class CtlException(ExitCode code, string error, string? detail = null) : Exception(error)
{
    public ExitCode Code { get; } = code;

    public string? Detail { get; } = detail;
}
