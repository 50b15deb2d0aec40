using System.Collections.Concurrent;
using O3Storage.Node.Data;
using O3Storage.Node.Transport;
using O3Storage.Storage;

namespace O3Storage.Node.Tests.Data;

/// <summary>Replicas in memory: each node a dictionary of blobs; nodes can be made to fail, fill up, or hold damaged bytes.</summary>
internal sealed class FakeReplicas : IBlobReplicas
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<BlobId, byte[]>> _nodes = new();

    /// <summary>Nodes that refuse every call (down).</summary>
    public HashSet<string> Down { get; } = [];

    /// <summary>Nodes that answer "full" to stores.</summary>
    public HashSet<string> Full { get; } = [];

    /// <summary>Node → how many more stores succeed before it goes down (for mid-object failures).</summary>
    public Dictionary<string, int> FailAfterStores { get; } = [];

    public List<(string Node, BlobId Id)> Deleted { get; } = [];

    public IReadOnlyDictionary<BlobId, byte[]> On(string node) => _nodes.GetOrAdd(node, _ => new());

    public Task StoreAsync(string nodeId, BlobId id, ReadOnlyMemory<byte> content, uint crc32C, CancellationToken token)
    {
        lock (FailAfterStores)
        {
            if (FailAfterStores.TryGetValue(nodeId, out int left))
            {
                if (left == 0)
                {
                    Down.Add(nodeId);
                }

                FailAfterStores[nodeId] = left - 1;
            }
        }

        if (Down.Contains(nodeId))
        {
            throw new ReplicaException(nodeId, "down");
        }

        if (Full.Contains(nodeId))
        {
            throw new ReplicaException(nodeId, "full") { Full = true };
        }

        _nodes.GetOrAdd(nodeId, _ => new())[id] = content.ToArray();
        return Task.CompletedTask;
    }

    public Task FetchAsync(string nodeId, BlobId id, Memory<byte> destination, CancellationToken token)
    {
        if (Down.Contains(nodeId) || !On(nodeId).TryGetValue(id, out byte[]? blob))
        {
            throw new ReplicaException(nodeId, Down.Contains(nodeId) ? "down" : "no such blob");
        }

        if (blob.Length != destination.Length)
        {
            throw new ReplicaException(nodeId, "wrong length");
        }

        blob.CopyTo(destination);
        return Task.CompletedTask;
    }

    public Task DeleteAsync(string nodeId, BlobId id, CancellationToken token)
    {
        lock (Deleted)
        {
            Deleted.Add((nodeId, id));
        }

        _nodes.GetOrAdd(nodeId, _ => new()).TryRemove(id, out _);
        return Task.CompletedTask;
    }

    /// <summary>Flips a byte of every blob <paramref name="node"/> holds.</summary>
    public void Damage(string node)
    {
        foreach (byte[] blob in On(node).Values)
        {
            blob[blob.Length / 2] ^= 0xFF;
        }
    }
}
