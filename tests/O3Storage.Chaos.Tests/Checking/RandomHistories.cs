using O3Storage.Chaos.History;

namespace O3Storage.Chaos.Tests.Checking;

/// <summary>
/// Histories a real register produces: each client's operation gets a linearization point inside its own
/// interval, applied to per-key registers in point order, so the history is linearizable by construction.
/// </summary>
internal static class RandomHistories
{
    public static void Linearizable(Random random, int clients, int operations, int keys, List<Operation> history)
    {
        var clientFree = new long[clients];
        var planned = new List<(long Point, Operation Operation)>();
        for (int i = 0; i < operations; i++)
        {
            int client = random.Next(clients);
            long invoked = clientFree[client] + random.Next(0, 20);
            long completed = invoked + random.Next(1, 60);
            long point = random.NextInt64(invoked, completed + 1);
            clientFree[client] = completed + 1;
            string key = $"k{random.Next(keys)}";
            OperationKind kind = (OperationKind)random.Next(3);
            var outcome = random.Next(10) == 0 && kind != OperationKind.Get ? OperationOutcome.Unknown : OperationOutcome.Ok;
            planned.Add((point, new Operation(i, client, key, kind, kind == OperationKind.Put ? $"v{i}" : null, invoked, completed, outcome)));
        }

        var registers = new Dictionary<string, string?>();
        foreach ((long _, Operation op) in planned.OrderBy(p => p.Point).ThenBy(p => p.Operation.Id))
        {
            Operation recorded = op;
            switch (op.Kind)
            {
                case OperationKind.Put:
                    registers[op.Key] = op.Value;
                    break;
                case OperationKind.Delete:
                    registers[op.Key] = null;
                    break;
                default:
                    recorded = op with { Value = registers.GetValueOrDefault(op.Key) };
                    break;
            }

            history.Add(recorded);
        }

        history.Sort((a, b) => a.Id.CompareTo(b.Id));
    }
}
