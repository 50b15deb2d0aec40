namespace O3Storage.Cluster.Metadata;

/// <summary>
/// A metadata record or snapshot this node cannot decode: written by a newer version, or damaged.
/// Raised instead of guessing, because applying a misunderstood command would fork the state machine.
/// </summary>
public sealed class MetadataFormatException(string message) : Exception(message)
{
    /// <summary>The bytes ended before the record did: a snapshot read from a stream may complete it with more.</summary>
    internal bool Truncated { get; init; }
}
