using System.Collections.Immutable;
using O3Storage.Cluster.Metadata;

namespace O3Storage.Cluster.Tests.Metadata;

public sealed class SharedValuesTests
{
    [Fact]
    public void ObjectsDecodedApart_ShareTheirContentTypeAndReplicaList()
    {
        // A million objects in a 3-node cluster repeat one content type and one replica list: each used to
        // hold its own copies (bench/MetadataBench: 264 of 680 bytes an object).
        ObjectVersion first = Decoded("a/1"), second = Decoded("a/2");

        Assert.NotSame(first.Key, second.Key);
        Assert.Same(first.ContentType, second.ContentType);
        Assert.Same(first.Replicas[0], second.Replicas[0]);
        Assert.True(first.Replicas == second.Replicas, "the same list instance");
        Assert.Equal(new[] { "10.0.0.1:8080", "10.0.0.2:8080", "10.0.0.3:8080" }, second.Replicas.ToArray());
    }

    [Fact]
    public void PastItsCapacity_ValuesAreKeptAsRead_AndThoseKeptStayShared()
    {
        var pool = new SharedValues(capacity: 2);
        string kept = pool.String(new string("text/plain".AsSpan()));
        pool.String("image/png");

        string late = new("application/x-endless-1".AsSpan());
        Assert.Same(late, pool.String(late));
        Assert.NotSame(pool.String(new string("application/x-endless-1".AsSpan())), late); // not kept: a new read is its own
        Assert.Same(kept, pool.String(new string("text/plain".AsSpan())));

        ImmutableArray<string> list = ["a:1", "b:1"];
        Assert.True(pool.Replicas(list) == list);
        Assert.True(pool.Replicas(["a:1", "b:1"]) == list);
        Assert.True(pool.Replicas(["b:1", "a:1"]) != list, "order is placement's ranking: another list");

        // What a decoder asks with (no string or list made for the lookup) finds the same kept values.
        Assert.Same(kept, pool.String("text/plain".AsSpan()));
        Assert.True(pool.ReplicasOf(["a:1", "b:1"]) == list);
        Assert.Equal("application/x-endless-2", pool.String("application/x-endless-2".AsSpan()));
    }

    [Fact]
    public void AReplicaListLongerThanTheDecodersRoom_RoundTrips()
    {
        string[] nodes = [.. Enumerable.Range(1, 20).Select(n => $"10.0.0.{n}:8080")];
        var version = new ObjectVersion("k", 5, 100, "\"e\"", "text/plain", 0, [], [new BlobRef(7, 100, 9)], [.. nodes]);

        ObjectVersion decoded = ((PutObject)MetadataCodec.Decode(MetadataCodec.Encode(new PutObject("b", version)))).Version;

        Assert.Equal(nodes, decoded.Replicas.ToArray());
    }

    private static ObjectVersion Decoded(string key)
    {
        var version = new ObjectVersion(key, 5, 100, "\"e\"", new string("application/octet-stream".AsSpan()), 0, [], [new BlobRef(7, 100, 9)],
            [new string("10.0.0.1:8080".AsSpan()), "10.0.0.2:8080", "10.0.0.3:8080"]);
        return ((PutObject)MetadataCodec.Decode(MetadataCodec.Encode(new PutObject("b", version)))).Version;
    }
}
