namespace O3Storage.Node.Diagnostics;

/// <summary>
/// Lets one log line per key through every <paramref name="interval"/>, and counts what it held back: a
/// stranger retrying a refused connection every few milliseconds must not fill the log or the card.
/// </summary>
internal sealed class RepeatFilter(TimeProvider time, TimeSpan interval)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, (DateTimeOffset Logged, int Held)> _seen = new(StringComparer.Ordinal);

    /// <summary>Whether to log <paramref name="key"/> now; if so, <paramref name="held"/> says how many were held back since it last was.</summary>
    public bool Pass(string key, out int held)
    {
        DateTimeOffset now = time.GetUtcNow();
        lock (_lock)
        {
            if (_seen.TryGetValue(key, out (DateTimeOffset Logged, int Held) last) && now - last.Logged < interval)
            {
                _seen[key] = (last.Logged, last.Held + 1);
                held = 0;
                return false;
            }

            if (_seen.Count >= 1024)
            {
                _seen.Clear(); // bounded: a flood of distinct reasons costs at most one line each per clear
            }

            held = last.Held;
            _seen[key] = (now, 0);
            return true;
        }
    }
}
