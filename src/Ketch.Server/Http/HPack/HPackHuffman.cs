using System.Buffers;

namespace Ketch.Server.Http.HPack;

/// <summary>
/// The HPACK Huffman code (RFC 7541 §5.2 and Appendix B). The code of Appendix B is canonical:
/// codes of equal length are consecutive in symbol order and each length's first code follows
/// the last code of the shorter lengths. So the code is fully determined by each symbol's length,
/// which is all this class stores; the codes are derived from the lengths at start-up (and the
/// tests check them against Appendix B's listed codes and that the code is complete).
/// </summary>
internal static class HPackHuffman
{
    /// <summary>The end-of-string symbol (256); a decoder must reject it inside a string (§5.2).</summary>
    public const int Eos = 256;

    /// <summary>The longest code (30 bits).</summary>
    public const int MaxCodeLength = 30;

    /// <summary>Code length in bits of each symbol 0–256 (RFC 7541 Appendix B), 16 per row.</summary>
    private static ReadOnlySpan<byte> Lengths =>
    [
        13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, // 0-15
        28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28, // 16-31
        6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, // ' ' to '/'
        5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10, // '0' to '?'
        13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, // '@' to 'O'
        7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6, // 'P' to '_'
        15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, // '`' to 'o'
        6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28, // 'p' to 127
        20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, // 128-143
        24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, // 144-159
        22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, // 160-175
        21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, // 176-191
        26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, // 192-207
        19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, // 208-223
        20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, // 224-239
        26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, // 240-255
        30, // EOS
    ];

    private static readonly uint[] s_codes = new uint[257];
    // Canonical decoding: for each length, the first code, how many codes, and where their
    // symbols start in s_sorted (symbols ordered by length, then value).
    private static readonly uint[] s_firstCode = new uint[MaxCodeLength + 1];
    private static readonly uint[] s_countByLength = new uint[MaxCodeLength + 1];
    private static readonly int[] s_firstSorted = new int[MaxCodeLength + 1];
    private static readonly short[] s_sorted = new short[257];

#pragma warning disable CA1810 // the tables depend on each other: one static constructor builds them
    static HPackHuffman()
#pragma warning restore CA1810
    {
        var n = 0;
        uint code = 0;
        for (var length = 1; length <= MaxCodeLength; length++)
        {
            s_firstCode[length] = code;
            s_firstSorted[length] = n;
            for (var sym = 0; sym <= Eos; sym++)
            {
                if (Lengths[sym] == length)
                {
                    s_codes[sym] = code++;
                    s_sorted[n++] = (short)sym;
                    s_countByLength[length]++;
                }
            }
            code <<= 1;
        }
    }

    /// <summary>The code of <paramref name="symbol"/>, aligned to the least significant bit.</summary>
    public static uint Code(int symbol) => s_codes[symbol];

    /// <summary>The code length of <paramref name="symbol"/> in bits.</summary>
    public static int CodeLength(int symbol) => Lengths[symbol];

    /// <summary>Bytes that <paramref name="source"/> takes Huffman-encoded (padding included).</summary>
    public static int EncodedLength(ReadOnlySpan<byte> source)
    {
        long bits = 0;
        foreach (var b in source)
        {
            bits += Lengths[b];
        }
        return (int)((bits + 7) / 8);
    }

    /// <summary>Huffman-encodes <paramref name="source"/>, padding the last byte with the most
    /// significant bits of EOS (all ones, §5.2).</summary>
    public static void Encode(ReadOnlySpan<byte> source, IBufferWriter<byte> output)
    {
        var span = output.GetSpan(EncodedLength(source));
        var n = 0;
        ulong acc = 0; // pending bits, right-aligned
        var pending = 0;
        foreach (var b in source)
        {
            acc = (acc << Lengths[b]) | s_codes[b];
            pending += Lengths[b];
            while (pending >= 8)
            {
                pending -= 8;
                span[n++] = (byte)(acc >> pending);
            }
        }
        if (pending > 0)
        {
            span[n++] = (byte)((acc << (8 - pending)) | (0xFFu >> pending));
        }
        output.Advance(n);
    }

    /// <summary>
    /// Decodes a Huffman-encoded string into <paramref name="destination"/> (at least
    /// <c>source.Length * 8 / 5</c> bytes: the shortest code has 5 bits) and returns its length.
    /// Throws <see cref="HPackDecodingException"/> on EOS inside the string, padding longer than
    /// 7 bits, or padding that is not a prefix of EOS (RFC 7541 §5.2).
    /// </summary>
    public static int Decode(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        var n = 0;
        uint code = 0;
        var length = 0;
        foreach (var b in source)
        {
            for (var bit = 7; bit >= 0; bit--)
            {
                code = (code << 1) | ((uint)(b >> bit) & 1);
                length++;
                // A canonical code's prefix of `length` bits that is not a complete code is above
                // every code of that length, so the unsigned difference is out of range.
                var offset = code - s_firstCode[length];
                if (offset < s_countByLength[length])
                {
                    var symbol = s_sorted[s_firstSorted[length] + (int)offset];
                    if (symbol == Eos)
                    {
                        throw new HPackDecodingException("HPACK: EOS symbol inside a Huffman-encoded string");
                    }
                    destination[n++] = (byte)symbol;
                    code = 0;
                    length = 0;
                }
                else if (length == MaxCodeLength)
                {
                    throw new HPackDecodingException("HPACK: invalid Huffman code");
                }
            }
        }
        if (length > 7 || code != (1u << length) - 1)
        {
            throw new HPackDecodingException("HPACK: invalid Huffman padding");
        }
        return n;
    }
}
