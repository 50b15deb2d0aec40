// Owns: the sequential specification the checker holds a key's history to: one register per key whose
// value is the last PUT's value, or absent after a DELETE (or before any PUT).
// Assumes: every PUT writes a value no other PUT writes, so equal values mean the same write.
using O3Storage.Chaos.History;

namespace O3Storage.Chaos.Checking;

public static class RegisterModel
{
    /// <summary>The state of a key nobody has written: absent.</summary>
    public const string? Initial = null;

    /// <summary>
    /// Applies <paramref name="operation"/> to <paramref name="state"/>: false when the operation's
    /// result is impossible in that state (a read that saw something else).
    /// </summary>
    public static bool Step(string? state, Operation operation, out string? next)
    {
        switch (operation.Kind)
        {
            case OperationKind.Put:
                next = operation.Value;
                return true;
            case OperationKind.Delete:
                next = null;
                return true;
            default:
                next = state;
                return string.Equals(state, operation.Value, StringComparison.Ordinal);
        }
    }
}
