// Owns: the one-use challenges a member hands to nodes that want to enrol, so that a seen enrolment
// request cannot be sent again. Bounded in number and in time: a flood of requests for challenges pushes
// out the oldest, it does not grow memory.
using System.Security.Cryptography;

namespace O3Storage.Node.Auth;

internal sealed class EnrollChallenges(TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(1);
    public const int Outstanding = 256;

    private readonly Dictionary<string, DateTimeOffset> _issued = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();

    /// <summary>A new challenge, good once within <see cref="Lifetime"/>.</summary>
    public string Issue()
    {
        string challenge = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        lock (_issued)
        {
            while (_order.Count >= Outstanding)
            {
                _issued.Remove(_order.Dequeue());
            }

            _issued[challenge] = time.GetUtcNow() + Lifetime;
            _order.Enqueue(challenge);
        }

        return challenge;
    }

    /// <summary>True once for a challenge this member issued and that has not expired; it is used up either way.</summary>
    public bool Take(string? challenge)
    {
        if (challenge is null)
        {
            return false;
        }

        lock (_issued)
        {
            return _issued.Remove(challenge, out DateTimeOffset expires) && time.GetUtcNow() <= expires;
        }
    }
}
