namespace Ketch.Server.Http.HPack;

/// <summary>
/// A full HPACK decoder (RFC 7541): indexed fields (§6.1), literals with incremental indexing
/// (§6.2.1), without indexing (§6.2.2) and never indexed (§6.2.3), dynamic table size updates
/// (§6.3), integers (§5.1) and string literals, raw or Huffman-coded (§5.2). One instance per
/// connection direction: it keeps that direction's dynamic table, so every header block of the
/// connection must go through it, in order. Any malformed input throws
/// <see cref="HPackDecodingException"/>, after which the instance must not be used again.
/// </summary>
internal sealed class HPackDecoder
{
    private readonly int _maxTableSizeLimit;
    private byte[] _nameScratch = new byte[256];
    private byte[] _valueScratch = new byte[256];

    /// <param name="maxTableSizeLimit">The largest dynamic table size an update may ask for: the
    /// SETTINGS_HEADER_TABLE_SIZE the receiving side advertised (§4.2).</param>
    /// <param name="maxHeaderListSize">The largest decoded header list accepted (sum of name +
    /// value + 32 per field, as SETTINGS_MAX_HEADER_LIST_SIZE counts, RFC 9113 §6.5.2).</param>
    public HPackDecoder(int maxTableSizeLimit = 4096, int maxHeaderListSize = 1 << 20)
    {
        _maxTableSizeLimit = maxTableSizeLimit;
        MaxHeaderListSize = maxHeaderListSize;
        // The initial maximum is the protocol default, 4,096 (RFC 9113 §6.5.2), until an update.
        Table = new HPackDynamicTable(Math.Min(4096, maxTableSizeLimit));
    }

    /// <summary>The decoder's dynamic table (mirrors the peer encoder's).</summary>
    public HPackDynamicTable Table { get; }

    /// <summary>The largest decoded header list accepted.</summary>
    public int MaxHeaderListSize { get; }

    /// <summary>Decodes one complete header block (the HEADERS fragment plus every CONTINUATION
    /// fragment), passing each field to <paramref name="sink"/>.</summary>
    public void Decode(ReadOnlySpan<byte> block, IHPackHeaderSink sink)
    {
        var pos = 0;
        var fieldSeen = false;
        long listSize = 0;
        while (pos < block.Length)
        {
            var first = block[pos];
            ReadOnlySpan<byte> name;
            ReadOnlySpan<byte> value;
            int staticNameIndex;
            var neverIndexed = false;
            if ((first & 0x80) != 0)
            {
                // §6.1 Indexed Header Field: 1xxxxxxx, 7-bit prefix index.
                var index = ReadInteger(block, ref pos, 7);
                if (index == 0)
                {
                    throw new HPackDecodingException("HPACK: indexed field with index 0");
                }
                if (index <= HPackStaticTable.Count)
                {
                    name = HPackStaticTable.Name(index);
                    value = HPackStaticTable.Value(index);
                    staticNameIndex = index;
                }
                else
                {
                    ref readonly var e = ref Table[index - HPackStaticTable.Count];
                    name = e.Name;
                    value = e.Value;
                    staticNameIndex = e.StaticNameIndex;
                }
            }
            else if ((first & 0x40) != 0)
            {
                // §6.2.1 Literal with Incremental Indexing: 01xxxxxx, 6-bit prefix name index.
                var nameIndex = ReadInteger(block, ref pos, 6);
                var literalName = ReadName(block, ref pos, nameIndex, out staticNameIndex);
                var literalValue = ReadString(block, ref pos, ref _valueScratch);
                // Copy before inserting: the name may live in an entry the insertion evicts.
                var data = new byte[literalName.Length + literalValue.Length];
                literalName.CopyTo(data);
                literalValue.CopyTo(data.AsSpan(literalName.Length));
                Table.Add(data, literalName.Length, staticNameIndex);
                name = data.AsSpan(0, literalName.Length);
                value = data.AsSpan(literalName.Length);
            }
            else if ((first & 0x20) != 0)
            {
                // §6.3 Dynamic Table Size Update: 001xxxxx, 5-bit prefix. RFC 9113 §4.3.1: only at
                // the beginning of a block.
                if (fieldSeen)
                {
                    throw new HPackDecodingException("HPACK: dynamic table size update after a field");
                }
                var size = ReadInteger(block, ref pos, 5);
                if (size > _maxTableSizeLimit)
                {
                    throw new HPackDecodingException($"HPACK: dynamic table size update to {size} above the limit {_maxTableSizeLimit}");
                }
                Table.SetMaxSize(size);
                continue;
            }
            else
            {
                // §6.2.2 without indexing (0000xxxx) and §6.2.3 never indexed (0001xxxx): 4-bit prefix.
                neverIndexed = (first & 0x10) != 0;
                var nameIndex = ReadInteger(block, ref pos, 4);
                name = ReadName(block, ref pos, nameIndex, out staticNameIndex);
                value = ReadString(block, ref pos, ref _valueScratch);
            }
            fieldSeen = true;
            listSize += name.Length + value.Length + HPackDynamicTable.EntryOverhead;
            if (listSize > MaxHeaderListSize)
            {
                throw new HPackDecodingException($"HPACK: header list larger than {MaxHeaderListSize} bytes");
            }
            sink.OnHeader(name, value, staticNameIndex, neverIndexed);
        }
    }

    /// <summary>The name of a literal: an index into either table, or (index 0) a string literal.</summary>
    private ReadOnlySpan<byte> ReadName(ReadOnlySpan<byte> block, scoped ref int pos, int nameIndex, out int staticNameIndex)
    {
        if (nameIndex == 0)
        {
            staticNameIndex = 0;
            return ReadString(block, ref pos, ref _nameScratch);
        }
        if (nameIndex <= HPackStaticTable.Count)
        {
            staticNameIndex = nameIndex;
            return HPackStaticTable.Name(nameIndex);
        }
        ref readonly var e = ref Table[nameIndex - HPackStaticTable.Count];
        staticNameIndex = e.StaticNameIndex;
        return e.Name;
    }

    /// <summary>§5.2 String Literal: H bit, 7-bit prefix length, then the octets.</summary>
    private static ReadOnlySpan<byte> ReadString(ReadOnlySpan<byte> block, scoped ref int pos, scoped ref byte[] scratch)
    {
        if (pos >= block.Length)
        {
            throw new HPackDecodingException("HPACK: header block ends before a string literal");
        }
        var huffman = (block[pos] & 0x80) != 0;
        var length = ReadInteger(block, ref pos, 7);
        if (length > block.Length - pos)
        {
            throw new HPackDecodingException("HPACK: string literal longer than the header block");
        }
        var raw = block.Slice(pos, length);
        pos += length;
        if (!huffman)
        {
            return raw;
        }
        var max = (int)Math.Min((long)length * 8 / 5, int.MaxValue);
        if (scratch.Length < max)
        {
            scratch = new byte[Math.Max(max, scratch.Length * 2)];
        }
        var n = HPackHuffman.Decode(raw, scratch);
        return scratch.AsSpan(0, n);
    }

    /// <summary>§5.1 Integer Representation with an N-bit prefix; values above
    /// <see cref="int.MaxValue"/> are refused (no header block can need them).</summary>
    internal static int ReadInteger(ReadOnlySpan<byte> block, ref int pos, int prefixBits)
    {
        if (pos >= block.Length)
        {
            throw new HPackDecodingException("HPACK: header block ends inside an integer");
        }
        var max = (1 << prefixBits) - 1;
        var value = block[pos++] & max;
        if (value < max)
        {
            return value;
        }
        long result = max;
        for (var shift = 0; ; shift += 7)
        {
            if (pos >= block.Length)
            {
                throw new HPackDecodingException("HPACK: header block ends inside an integer");
            }
            var b = block[pos++];
            result += (long)(b & 0x7F) << shift;
            if (result > int.MaxValue || shift > 28)
            {
                throw new HPackDecodingException("HPACK: integer overflow");
            }
            if ((b & 0x80) == 0)
            {
                return (int)result;
            }
        }
    }
}
