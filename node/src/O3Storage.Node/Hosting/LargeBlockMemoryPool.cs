// Owns: the buffers Kestrel reads sockets into and writes responses from on the API port. Kestrel's own
// pool hands out 4 KiB blocks, and a socket read fills at most one block: a 4 MiB blob from a peer took
// about 2,000 receive calls (strace counted 199,145 recvfrom for 384 MiB on one node). Blocks of 64 KiB,
// what one loopback or coalesced LAN segment carries, make that about 64, and each call costs the same.
// Memory: a block is taken when data arrives and given back when the request has consumed it; at most
// FreeBlocksKept (16 MiB) stay for reuse, the rest go to the garbage collector.
using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections;

namespace O3Storage.Node.Hosting;

internal sealed class LargeBlockMemoryPool : MemoryPool<byte>
{
    public const int BlockBytes = 64 * 1024;

    /// <summary>Free blocks kept for reuse: 16 MiB.</summary>
    public const int FreeBlocksKept = 256;

    private readonly ConcurrentQueue<Block> _free = new();
    private long _rented;

    public override int MaxBufferSize => BlockBytes;

    /// <summary>Blocks handed out since the pool was made (for tests and diagnostics).</summary>
    public long Rented => Interlocked.Read(ref _rented);

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockBytes);
        Interlocked.Increment(ref _rented);
        return _free.TryDequeue(out Block? block) ? block.Reuse() : new Block(this);
    }

    protected override void Dispose(bool disposing)
    {
        _free.Clear();
    }

    private void Return(Block block)
    {
        if (_free.Count < FreeBlocksKept)
        {
            _free.Enqueue(block);
        }
    }

    private sealed class Block(LargeBlockMemoryPool pool) : IMemoryOwner<byte>
    {
        // On the pinned object heap, as Kestrel's own blocks: sockets read into them without pinning each time.
        private readonly byte[] _array = GC.AllocateUninitializedArray<byte>(BlockBytes, pinned: true);
        private int _returned;

        public Memory<byte> Memory => _array;

        public Block Reuse()
        {
            Volatile.Write(ref _returned, 0);
            return this;
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _returned, 1) == 0)
            {
                pool.Return(this);
            }
        }
    }
}

/// <summary>Gives Kestrel (its socket transport and its HTTP layers) the one <see cref="LargeBlockMemoryPool"/>.</summary>
internal sealed class LargeBlockMemoryPoolFactory : IMemoryPoolFactory<byte>
{
    public LargeBlockMemoryPool Pool { get; } = new();

    public MemoryPool<byte> Create(MemoryPoolOptions? options = null) => Pool;
}
