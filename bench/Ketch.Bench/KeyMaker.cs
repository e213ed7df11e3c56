using System.Buffers.Text;
using Google.Protobuf;

namespace Ketch.Bench;

/// <summary>
/// Chooses key numbers in [0, key space) — sequentially over all clients or at random per
/// client — and writes them as zero-padded decimal into a reusable key buffer, so a client
/// sends a new key without allocating: <see cref="Key"/> wraps the buffer once.
/// </summary>
internal sealed class KeyMaker
{
    private readonly byte[] _buffer;
    private readonly long _keySpace;
    private readonly bool _sequential;
    private readonly Random _random;
    private readonly SharedCounter _sequence;

    public KeyMaker(BenchOptions options, int clientIndex, SharedCounter sequence)
    {
        _buffer = new byte[options.KeySizeBytes];
        _keySpace = options.KeySpace;
        _sequential = options.SequentialKeys;
        _random = new Random(HashCode.Combine(options.Seed, clientIndex));
        _sequence = sequence;
        Key = UnsafeByteOperations.UnsafeWrap(_buffer);
        Write(_buffer, 0);
    }

    /// <summary>The key buffer as a ByteString; its bytes change on each <see cref="Next"/>.</summary>
    public ByteString Key { get; }

    /// <summary>Moves to the next key number and writes it into <see cref="Key"/>.</summary>
    public long Next()
    {
        var n = _sequential ? _sequence.Next() % _keySpace : _random.NextInt64(_keySpace);
        Write(_buffer, n);
        return n;
    }

    /// <summary>Writes key number <paramref name="n"/> as a decimal, '0'-padded to the buffer's length.</summary>
    public static void Write(Span<byte> key, long n)
    {
        key.Fill((byte)'0');
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(n, digits, out var length);
        var take = Math.Min(length, key.Length);
        digits.Slice(length - take, take).CopyTo(key[(key.Length - take)..]);
    }

    public static byte[] KeyBytes(int keySizeBytes, long n)
    {
        var key = new byte[keySizeBytes];
        Write(key, n);
        return key;
    }
}
