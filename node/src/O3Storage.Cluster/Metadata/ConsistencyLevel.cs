namespace O3Storage.Cluster.Metadata;

/// <summary>How reads see the metadata: linearizable through the leader, or this node's applied state.</summary>
public enum ConsistencyLevel : byte
{
    Strong = 1,
    Eventual = 2,
}

public static class ConsistencyLevelNames
{
    public static string ToWireName(this ConsistencyLevel level) => level switch
    {
        ConsistencyLevel.Strong => "strong",
        ConsistencyLevel.Eventual => "eventual",
        _ => throw new ArgumentOutOfRangeException(nameof(level), level, "unknown consistency level"),
    };

    public static bool TryParse(string? text, out ConsistencyLevel level)
    {
        switch (text)
        {
            case "strong":
                level = ConsistencyLevel.Strong;
                return true;
            case "eventual":
                level = ConsistencyLevel.Eventual;
                return true;
            default:
                level = default;
                return false;
        }
    }
}
