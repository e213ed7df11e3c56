using System.Buffers;

namespace Ketch.Server.Http.HPack;

/// <summary>
/// Writes HPACK representations (RFC 7541 §6) and their primitives (§5). It holds no dynamic
/// table: the caller chooses each representation, and keeps a table itself if it uses
/// incremental indexing. The HTTP/2 adapter only writes literals without indexing (or never
/// indexed), which leave the receiver's dynamic table untouched.
/// </summary>
internal static class HPackEncoder
{
    /// <summary>§6.1 Indexed Header Field.</summary>
    public static void WriteIndexed(IBufferWriter<byte> output, int index) => WriteInteger(output, index, 7, 0x80);

    /// <summary>A literal field (§6.2): the name by index (<paramref name="nameIndex"/> &gt; 0)
    /// or as a string literal (<paramref name="nameIndex"/> 0, <paramref name="name"/>), then the value.</summary>
    public static void WriteLiteral(IBufferWriter<byte> output, HPackLiteralKind kind, int nameIndex, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool huffman)
    {
        switch (kind)
        {
            case HPackLiteralKind.IncrementalIndexing:
                WriteInteger(output, nameIndex, 6, 0x40);
                break;
            case HPackLiteralKind.WithoutIndexing:
                WriteInteger(output, nameIndex, 4, 0x00);
                break;
            case HPackLiteralKind.NeverIndexed:
                WriteInteger(output, nameIndex, 4, 0x10);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }
        if (nameIndex == 0)
        {
            WriteString(output, name, huffman);
        }
        WriteString(output, value, huffman);
    }

    /// <summary>§6.3 Dynamic Table Size Update.</summary>
    public static void WriteDynamicTableSizeUpdate(IBufferWriter<byte> output, int maxSize) => WriteInteger(output, maxSize, 5, 0x20);

    /// <summary>§5.2 String Literal, raw or Huffman-coded.</summary>
    public static void WriteString(IBufferWriter<byte> output, ReadOnlySpan<byte> value, bool huffman)
    {
        if (huffman)
        {
            WriteInteger(output, HPackHuffman.EncodedLength(value), 7, 0x80);
            HPackHuffman.Encode(value, output);
        }
        else
        {
            WriteInteger(output, value.Length, 7, 0x00);
            output.Write(value);
        }
    }

    /// <summary>§5.1 Integer Representation: <paramref name="value"/> with an N-bit prefix,
    /// <paramref name="flags"/> in the first byte's bits above the prefix.</summary>
    public static void WriteInteger(IBufferWriter<byte> output, int value, int prefixBits, byte flags)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        var span = output.GetSpan(6);
        var max = (1 << prefixBits) - 1;
        if (value < max)
        {
            span[0] = (byte)(flags | value);
            output.Advance(1);
            return;
        }
        span[0] = (byte)(flags | max);
        var n = 1;
        var rest = (uint)(value - max);
        while (rest >= 0x80)
        {
            span[n++] = (byte)((rest & 0x7F) | 0x80);
            rest >>= 7;
        }
        span[n++] = (byte)rest;
        output.Advance(n);
    }
}
