using System.Buffers;
using System.Collections.Concurrent;

namespace AvatarKit.Tests.Media;

/// <summary>A pool that records every rent and return, to prove buffers go back exactly once.</summary>
internal sealed class CountingArrayPool : ArrayPool<byte>
{
    private readonly ConcurrentDictionary<byte[], int> _returns = new(ReferenceEqualityComparer.Instance);

    public int Rented { get; private set; }

    public int Returned => _returns.Values.Sum();

    public int MaxReturnsOfOneBuffer => _returns.IsEmpty ? 0 : _returns.Values.Max();

    public override byte[] Rent(int minimumLength)
    {
        Rented++;
        return new byte[minimumLength];
    }

    public override void Return(byte[] array, bool clearArray = false) => _returns.AddOrUpdate(array, 1, (_, n) => n + 1);
}
