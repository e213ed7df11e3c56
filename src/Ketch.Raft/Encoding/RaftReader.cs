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
        var span = _input.Span;
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (_position >= span.Length)
            {
                throw Truncated("a varint");
            }
            var b = span[_position++];
            if (shift == 63 && b > 1)
            {
                throw new RaftDecodeException($"varint overflows 64 bits at offset {_position - 1}");
            }
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
        throw new RaftDecodeException($"varint longer than 10 bytes at offset {_position}");
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
