// Owns: deciding whether a history of PUT, GET and DELETE on keys is linearizable: whether some order
// of its operations, each placed between its invocation and its completion, explains every result by
// one register per key.
// Assumes: keys are independent (a register per key), so each key is checked alone (P-compositionality).
// An operation whose outcome is unknown may take effect at any time after its invocation, or never: its
// completion is taken as "after everything". A failed one never took effect and is left out, as are
// reads that got no answer.
// How: the Wing-Gong search with Lowe's memoisation, as Porcupine (anishathalye/porcupine, checker.go)
// does it: walk the invocations and completions in time order, linearize an operation whose invocation
// comes before any pending completion if the register allows its result, backtrack at a completion whose
// operation is not yet linearized, and skip (linearized set, state) pairs already explored.
using O3Storage.Chaos.History;

namespace O3Storage.Chaos.Checking;

public static class LinearizabilityChecker
{
    /// <summary>Checks every key; the token is the time limit (a key not decided by then is <see cref="Verdict.Unknown"/>).</summary>
    public static CheckResult Check(IReadOnlyList<Operation> history, CancellationToken limit)
    {
        var keys = new List<KeyVerdict>();
        foreach (IGrouping<string, Operation> key in history.GroupBy(o => o.Key, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            keys.Add(CheckKey(key.Key, key.ToList(), limit));
        }

        Verdict verdict = keys.Any(k => k.Verdict == Verdict.NotLinearizable) ? Verdict.NotLinearizable
            : keys.Any(k => k.Verdict == Verdict.Unknown) ? Verdict.Unknown
            : Verdict.Linearizable;
        return new CheckResult(verdict, keys);
    }

    /// <summary>One key's history (every operation on <paramref name="key"/>).</summary>
    public static KeyVerdict CheckKey(string key, IReadOnlyList<Operation> operations, CancellationToken limit)
    {
        Operation[] ops = operations.Where(Counts).ToArray();
        foreach (Operation op in ops)
        {
            if (op.CompletedUs < op.InvokedUs)
            {
                throw new ArgumentException($"operation {op.Id} completed before it was invoked", nameof(operations));
            }
        }

        var search = new Search(ops);
        return search.Run(key, limit);
    }

    /// <summary>False for what cannot have had an effect or told anything: failed operations and unanswered reads.</summary>
    private static bool Counts(Operation op) =>
        op.Outcome == OperationOutcome.Ok || (op.Outcome == OperationOutcome.Unknown && op.Kind != OperationKind.Get);

    /// <summary>An invocation or a completion in the time-ordered, doubly linked list the search lifts operations out of.</summary>
    private sealed class Event(int op, Event? completion)
    {
        public readonly int Op = op;

        /// <summary>For an invocation: its completion. Null for a completion (and the head).</summary>
        public readonly Event? Completion = completion;

        public Event? Previous;
        public Event? Next;
    }

    private sealed class Search
    {
        private readonly Operation[] _ops;
        private readonly Event _head = new(-1, null);

        public Search(Operation[] ops)
        {
            _ops = ops;
            // Invocations before completions at equal times: operations that touch at an instant count
            // as concurrent (the more permissive reading; the clock cannot order them).
            var events = new List<(long Time, bool IsCompletion, int Op, Event Event)>();
            for (int i = 0; i < ops.Length; i++)
            {
                Operation op = ops[i];
                long completed = op.Outcome == OperationOutcome.Unknown ? long.MaxValue : op.CompletedUs;
                var completion = new Event(i, null);
                events.Add((op.InvokedUs, false, i, new Event(i, completion)));
                events.Add((completed, true, i, completion));
            }

            events.Sort((a, b) => a.Time != b.Time ? a.Time.CompareTo(b.Time)
                : a.IsCompletion != b.IsCompletion ? a.IsCompletion.CompareTo(b.IsCompletion)
                : a.Op.CompareTo(b.Op));
            Event last = _head;
            foreach ((_, _, _, Event e) in events)
            {
                last.Next = e;
                e.Previous = last;
                last = e;
            }
        }

        public KeyVerdict Run(string key, CancellationToken limit)
        {
            var linearized = new Bits(_ops.Length);
            var seen = new Dictionary<Bits, List<string?>>();
            var stack = new Stack<(Event Invocation, string? StateBefore)>();
            string? state = RegisterModel.Initial;
            List<int> longest = [];
            string? longestState = state;
            List<int> blocked = [];
            long steps = 0;

            Event? e = _head.Next;
            while (_head.Next is not null)
            {
                if ((++steps & 0x3FF) == 0 && limit.IsCancellationRequested)
                {
                    return new KeyVerdict(key, Verdict.Unknown, _ops.Length, [], null, []);
                }

                if (e!.Completion is not null)
                {
                    // An invocation: try to linearize its operation here.
                    if (RegisterModel.Step(state, _ops[e.Op], out string? next))
                    {
                        Bits after = linearized.With(e.Op);
                        if (Remember(seen, after, next))
                        {
                            stack.Push((e, state));
                            state = next;
                            linearized = after;
                            Lift(e);
                            e = _head.Next;
                            continue;
                        }
                    }

                    e = e.Next;
                    continue;
                }

                // A completion whose operation is not linearized yet: nothing after it may come first.
                if (stack.Count >= longest.Count)
                {
                    longest = stack.Reverse().Select(s => s.Invocation.Op).ToList();
                    longestState = state;
                    blocked = Pending(e);
                }

                if (stack.Count == 0)
                {
                    return new KeyVerdict(key, Verdict.NotLinearizable, _ops.Length, longest.Select(i => _ops[i]).ToList(), longestState, blocked.Select(i => _ops[i]).ToList());
                }

                (Event invocation, string? before) = stack.Pop();
                state = before;
                linearized = linearized.Without(invocation.Op);
                Unlift(invocation);
                e = invocation.Next;
            }

            return new KeyVerdict(key, Verdict.Linearizable, _ops.Length, [], state, []);
        }

        /// <summary>The operations that could come next by real time: every invocation before <paramref name="completion"/>, which is the first pending completion.</summary>
        private List<int> Pending(Event completion)
        {
            var ops = new List<int>();
            for (Event? e = _head.Next; e is not null && e != completion; e = e.Next)
            {
                if (e.Completion is not null)
                {
                    ops.Add(e.Op);
                }
            }

            ops.Add(completion.Op);
            return ops.Distinct().ToList();
        }

        private static bool Remember(Dictionary<Bits, List<string?>> seen, Bits linearized, string? state)
        {
            if (!seen.TryGetValue(linearized, out List<string?>? states))
            {
                seen[linearized] = [state];
                return true;
            }

            if (states.Contains(state, StringComparer.Ordinal))
            {
                return false;
            }

            states.Add(state);
            return true;
        }

        private static void Lift(Event invocation)
        {
            invocation.Previous!.Next = invocation.Next;
            invocation.Next!.Previous = invocation.Previous;
            Event completion = invocation.Completion!;
            completion.Previous!.Next = completion.Next;
            if (completion.Next is not null)
            {
                completion.Next.Previous = completion.Previous;
            }
        }

        private static void Unlift(Event invocation)
        {
            Event completion = invocation.Completion!;
            completion.Previous!.Next = completion;
            if (completion.Next is not null)
            {
                completion.Next.Previous = completion;
            }

            invocation.Previous!.Next = invocation;
            invocation.Next!.Previous = invocation;
        }
    }

    /// <summary>An immutable set of operation indexes, compared by value (the memo's key).</summary>
    private sealed class Bits : IEquatable<Bits>
    {
        private readonly ulong[] _words;
        private readonly int _hash;

        public Bits(int count) : this(new ulong[(count + 63) / 64])
        {
        }

        private Bits(ulong[] words)
        {
            _words = words;
            var hash = new HashCode();
            foreach (ulong word in words)
            {
                hash.Add(word);
            }

            _hash = hash.ToHashCode();
        }

        public Bits With(int index)
        {
            ulong[] words = (ulong[])_words.Clone();
            words[index / 64] |= 1UL << (index % 64);
            return new Bits(words);
        }

        public Bits Without(int index)
        {
            ulong[] words = (ulong[])_words.Clone();
            words[index / 64] &= ~(1UL << (index % 64));
            return new Bits(words);
        }

        public bool Equals(Bits? other) => other is not null && _words.AsSpan().SequenceEqual(other._words);

        public override bool Equals(object? obj) => Equals(obj as Bits);

        public override int GetHashCode() => _hash;
    }
}
