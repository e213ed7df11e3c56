namespace Ketch.Bench;

/// <summary>A counter shared by all clients (sequential keys).</summary>
internal sealed class SharedCounter
{
    private long _value = -1;

    public long Next() => Interlocked.Increment(ref _value);
}
