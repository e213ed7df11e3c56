using System.Buffers;

namespace Ketch.Raft.Encoding;

/// <summary>Appends the primitives of the Raft binary encoding (see docs/raft-encoding.md)
/// to an <see cref="IBufferWriter{T}"/>.</summary>
internal readonly ref struct RaftWriter(IBufferWriter<byte> output)
{
    private readonly IBufferWriter<byte> _output = output;

    public void WriteByte(byte value)
    {
        var span = _output.GetSpan(1);
        span[0] = value;
        _output.Advance(1);
    }

    /// <summary>An unsigned LEB128 varint: 7 bits a byte, low bits first, high bit = more.</summary>
    public void WriteVarint(ulong value)
    {
        var span = _output.GetSpan(10);
        var n = 0;
        while (value >= 0x80)
        {
            span[n++] = (byte)(value | 0x80);
            value >>= 7;
        }
        span[n++] = (byte)value;
        _output.Advance(n);
    }

    public void WriteBytes(ReadOnlySpan<byte> bytes)
    {
        WriteVarint((ulong)bytes.Length);
        _output.Write(bytes);
    }

    public void WriteIds(IReadOnlyList<ulong> ids)
    {
        WriteVarint((ulong)ids.Count);
        for (var i = 0; i < ids.Count; i++)
        {
            WriteVarint(ids[i]);
        }
    }

    /// <summary>The number of bytes <see cref="WriteVarint"/> writes for <paramref name="value"/>.</summary>
    public static int VarintSize(ulong value)
    {
        var n = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            n++;
        }
        return n;
    }
}
