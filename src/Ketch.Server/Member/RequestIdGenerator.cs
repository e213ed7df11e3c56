namespace Ketch.Server.Member;

/// <summary>
/// Unique request ids across members and restarts, as etcd's idutil: the member id's low 16
/// bits on top, then the start time in milliseconds (40 bits) and an 8-bit counter that carries
/// into the time part.
/// </summary>
internal sealed class RequestIdGenerator(ulong memberId, DateTimeOffset now)
{
    private const int SuffixBits = 48;
    private readonly ulong _prefix = memberId << SuffixBits;
    private ulong _suffix = ((ulong)now.ToUnixTimeMilliseconds() & ((1UL << 40) - 1)) << 8;

    public ulong Next()
    {
        var s = Interlocked.Increment(ref _suffix);
        return _prefix | (s & ((1UL << SuffixBits) - 1));
    }
}
