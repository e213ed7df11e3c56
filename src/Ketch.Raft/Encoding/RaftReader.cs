namespace Ketch.Raft.Encoding;

/// <summary>Reads the primitives of the Raft binary encoding. Byte fields are returned as
/// slices of the input, not copies, so a decoded entry shares the buffer it came in.</summary>
internal ref struct RaftReader(ReadOnlyMemory<byte> input)
{
    private readonly ReadOnlyMemory<byte> _input = input;
    private int _position;

    public readonly int Position => _position;

    public readonly bool AtEnd => _position == _input.Length;

    public byte ReadByte()
    {
        if (_position >= _input.Length)
        {
            throw Truncated("a byte");
        }
        return _input.Span[_position++];
    }

    public ulong ReadVarint()
    {
        var start = _position;
        if (TryReadVarint(_input.Span, ref _position, out var value))
        {
            return value;
        }
        if (_position >= _input.Length)
        {
            _position = start;
            throw Truncated("a varint");
        }
        throw new RaftDecodeException($"varint overflows 64 bits at offset {start}");
    }

    /// <summary>The one LEB128 decoder: 7 bits a byte, low bits first, high bit = more; false
    /// when truncated or wider than 64 bits (then <paramref name="position"/> is past the
    /// bytes examined).</summary>
    public static bool TryReadVarint(ReadOnlySpan<byte> span, ref int position, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (position >= span.Length)
            {
                return false;
            }
            var b = span[position++];
            if (shift == 63 && b > 1)
            {
                return false;
            }
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80)
            {
                return true;
            }
        }
        return false;
    }

    public int ReadLength(string what)
    {
        var start = _position;
        var n = ReadVarint();
        if (n > (ulong)(_input.Length - _position))
        {
            throw new RaftDecodeException($"{what} length {n} at offset {start} runs past the end ({_input.Length - _position} bytes left)");
        }
        return (int)n;
    }

    public ReadOnlyMemory<byte> ReadBytes(string what)
    {
        var n = ReadLength(what);
        var slice = _input.Slice(_position, n);
        _position += n;
        return slice;
    }

    public ulong[] ReadIds()
    {
        var n = ReadLength("id list");
        var ids = new ulong[n];
        for (var i = 0; i < n; i++)
        {
            ids[i] = ReadVarint();
        }
        return ids;
    }

    private readonly RaftDecodeException Truncated(string what) =>
        new($"truncated input: expected {what} at offset {_position} of {_input.Length}");
}
