using System.Buffers;
using System.Text;
using Ketch.Server.Http.HPack;

namespace Ketch.Server.Tests;

/// <summary>The HPACK decoder, encoder and Huffman code against RFC 7541 (Appendix B and the
/// examples of Appendix C).</summary>
public sealed class HPackTests
{
    private static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));

    private static string S(ReadOnlySpan<byte> b) => Encoding.ASCII.GetString(b);

    private sealed class Collect : IHPackHeaderSink
    {
        public List<(string Name, string Value, bool Never)> Fields { get; } = [];

        public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, int staticNameIndex, bool neverIndexed) =>
            Fields.Add((S(name), S(value), neverIndexed));
    }

    private static List<(string, string)> Decode(HPackDecoder d, string hex)
    {
        var sink = new Collect();
        d.Decode(Hex(hex), sink);
        return sink.Fields.Select(f => (f.Name, f.Value)).ToList();
    }

    private static List<(string, string)> Table(HPackDecoder d) =>
        Enumerable.Range(1, d.Table.Count).Select(i => (S(d.Table[i].Name), S(d.Table[i].Value))).ToList();

    private static string Encode(Action<ArrayBufferWriter<byte>> write)
    {
        var w = new ArrayBufferWriter<byte>();
        write(w);
        return Convert.ToHexString(w.WrittenSpan).ToLowerInvariant();
    }

    private static string H(string hex) => hex.Replace(" ", "", StringComparison.Ordinal);

    private static byte[] A(string s) => Encoding.ASCII.GetBytes(s);

    [Fact]
    public void Huffman_code_is_appendix_B()
    {
        // A sample of Appendix B's listed codes, across every length, must equal the canonical
        // codes derived from the lengths.
        (int Sym, uint Code, int Len)[] listed =
        [
            (0, 0x1ff8, 13), (1, 0x7fffd8, 23), (9, 0xffffea, 24), (10, 0x3ffffffc, 30), (22, 0x3ffffffe, 30),
            (32, 0x14, 6), (33, 0x3f8, 10), (36, 0x1ff9, 13), (48, 0x0, 5), (58, 0x5c, 7), (60, 0x7ffc, 15),
            (88, 0xfc, 8), (92, 0x7fff0, 19), (94, 0x3ffc, 14), (116, 0x9, 5), (124, 0x7fc, 11), (127, 0xffffffc, 28),
            (128, 0xfffe6, 20), (153, 0x1fffdc, 21), (195, 0x7fff1, 19), (199, 0x1ffffec, 25), (203, 0x7ffffde, 27),
            (220, 0xffffffd, 28), (230, 0x1fffe8, 21), (249, 0xffffffe, 28), (254, 0x7fffff0, 27), (255, 0x3ffffee, 26),
            (256, 0x3fffffff, 30),
        ];
        foreach (var (sym, code, len) in listed)
        {
            Assert.Equal((sym, code, len), (sym, HPackHuffman.Code(sym), HPackHuffman.CodeLength(sym)));
        }
        // Complete prefix code: Kraft's sum is exactly 1.
        var kraft = Enumerable.Range(0, 257).Sum(s => 1L << (30 - HPackHuffman.CodeLength(s)));
        Assert.Equal(1L << 30, kraft);
    }

    [Fact]
    public void Huffman_round_trips_every_byte_and_rejects_bad_padding_and_eos()
    {
        var all = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        var w = new ArrayBufferWriter<byte>();
        HPackHuffman.Encode(all, w);
        var back = new byte[w.WrittenCount * 8 / 5];
        Assert.Equal(all, back.AsSpan(0, HPackHuffman.Decode(w.WrittenSpan, back)).ToArray());
        var buffer = new byte[64];
        // 'a' (00011) then padding 000: not EOS's prefix.
        Assert.Throws<HPackDecodingException>(() => HPackHuffman.Decode([0x18], buffer));
        // 'a' then 11 bits of ones: padding longer than 7 bits.
        Assert.Throws<HPackDecodingException>(() => HPackHuffman.Decode([0x1F, 0xFF], buffer));
        // EOS (30 ones) then 2 padding ones.
        Assert.Throws<HPackDecodingException>(() => HPackHuffman.Decode([0xFF, 0xFF, 0xFF, 0xFF], buffer));
    }

    [Fact]
    public void C1_integers()
    {
        // C.1.1: 10 with a 5-bit prefix; C.1.2: 1337 with a 5-bit prefix; C.1.3: 42 at an octet boundary.
        Assert.Equal("0a", Encode(w => HPackEncoder.WriteInteger(w, 10, 5, 0)));
        Assert.Equal("1f9a0a", Encode(w => HPackEncoder.WriteInteger(w, 1337, 5, 0)));
        Assert.Equal("2a", Encode(w => HPackEncoder.WriteInteger(w, 42, 8, 0)));
        var pos = 0;
        Assert.Equal(1337, HPackDecoder.ReadInteger(Hex("1f9a0a"), ref pos, 5));
        pos = 0;
        Assert.Throws<HPackDecodingException>(() => HPackDecoder.ReadInteger(Hex("1fffffffff0f"), ref pos, 5));
    }

    [Fact]
    public void C2_field_representations()
    {
        // C.2.1 literal with indexing
        const string c21 = "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572";
        var d = new HPackDecoder();
        Assert.Equal([("custom-key", "custom-header")], Decode(d, c21));
        Assert.Equal([("custom-key", "custom-header")], Table(d));
        Assert.Equal(55, d.Table.Size);
        Assert.Equal(H(c21), Encode(w => HPackEncoder.WriteLiteral(w, HPackLiteralKind.IncrementalIndexing, 0, A("custom-key"), A("custom-header"), false)));

        // C.2.2 literal without indexing
        const string c22 = "040c 2f73 616d 706c 652f 7061 7468";
        d = new HPackDecoder();
        Assert.Equal([(":path", "/sample/path")], Decode(d, c22));
        Assert.Equal(0, d.Table.Count);
        Assert.Equal(H(c22), Encode(w => HPackEncoder.WriteLiteral(w, HPackLiteralKind.WithoutIndexing, 4, default, A("/sample/path"), false)));

        // C.2.3 literal never indexed
        const string c23 = "1008 7061 7373 776f 7264 0673 6563 7265 74";
        d = new HPackDecoder();
        var sink = new Collect();
        d.Decode(Hex(c23), sink);
        Assert.Equal([("password", "secret", true)], sink.Fields);
        Assert.Equal(0, d.Table.Count);
        Assert.Equal(H(c23), Encode(w => HPackEncoder.WriteLiteral(w, HPackLiteralKind.NeverIndexed, 0, A("password"), A("secret"), false)));

        // C.2.4 indexed
        d = new HPackDecoder();
        Assert.Equal([(":method", "GET")], Decode(d, "82"));
        Assert.Equal(0, d.Table.Count);
        Assert.Equal("82", Encode(w => HPackEncoder.WriteIndexed(w, 2)));
    }

    [Theory]
    [InlineData(false, "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
        "8286 84be 5808 6e6f 2d63 6163 6865",
        "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65")]
    [InlineData(true, "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
        "8286 84be 5886 a8eb 1064 9cbf",
        "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf")]
    public void C3_C4_requests(bool huffman, string r1, string r2, string r3)
    {
        var d = new HPackDecoder();
        Assert.Equal([(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com")], Decode(d, r1));
        Assert.Equal([(":authority", "www.example.com")], Table(d));
        Assert.Equal(57, d.Table.Size);
        Assert.Equal(H(r1), Encode(w =>
        {
            HPackEncoder.WriteIndexed(w, 2);
            HPackEncoder.WriteIndexed(w, 6);
            HPackEncoder.WriteIndexed(w, 4);
            HPackEncoder.WriteLiteral(w, HPackLiteralKind.IncrementalIndexing, 1, default, A("www.example.com"), huffman);
        }));

        Assert.Equal([(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com"), ("cache-control", "no-cache")], Decode(d, r2));
        Assert.Equal([("cache-control", "no-cache"), (":authority", "www.example.com")], Table(d));
        Assert.Equal(110, d.Table.Size);
        Assert.Equal(H(r2), Encode(w =>
        {
            HPackEncoder.WriteIndexed(w, 2);
            HPackEncoder.WriteIndexed(w, 6);
            HPackEncoder.WriteIndexed(w, 4);
            HPackEncoder.WriteIndexed(w, 62);
            HPackEncoder.WriteLiteral(w, HPackLiteralKind.IncrementalIndexing, 24, default, A("no-cache"), huffman);
        }));

        Assert.Equal([(":method", "GET"), (":scheme", "https"), (":path", "/index.html"), (":authority", "www.example.com"), ("custom-key", "custom-value")], Decode(d, r3));
        Assert.Equal([("custom-key", "custom-value"), ("cache-control", "no-cache"), (":authority", "www.example.com")], Table(d));
        Assert.Equal(164, d.Table.Size);
        Assert.Equal(H(r3), Encode(w =>
        {
            HPackEncoder.WriteIndexed(w, 2);
            HPackEncoder.WriteIndexed(w, 7);
            HPackEncoder.WriteIndexed(w, 5);
            HPackEncoder.WriteIndexed(w, 63);
            HPackEncoder.WriteLiteral(w, HPackLiteralKind.IncrementalIndexing, 0, A("custom-key"), A("custom-value"), huffman);
        }));
    }

    [Theory]
    [InlineData(false,
        "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
        "4803 3330 37c1 c0bf",
        "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31")]
    [InlineData(true,
        "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
        "4883 640e ffc1 c0bf",
        "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07")]
    public void C5_C6_responses_with_eviction(bool huffman, string r1, string r2, string r3)
    {
        const string date1 = "Mon, 21 Oct 2013 20:13:21 GMT";
        const string date2 = "Mon, 21 Oct 2013 20:13:22 GMT";
        const string location = "https://www.example.com";
        const string cookie = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1";
        // The examples run with SETTINGS_HEADER_TABLE_SIZE 256.
        var d = new HPackDecoder(maxTableSizeLimit: 256);
        Assert.Equal([(":status", "302"), ("cache-control", "private"), ("date", date1), ("location", location)], Decode(d, r1));
        Assert.Equal([("location", location), ("date", date1), ("cache-control", "private"), (":status", "302")], Table(d));
        Assert.Equal(222, d.Table.Size);
        Assert.Equal(H(r1), Encode(w =>
        {
            HPackEncoder.WriteLiteral(w, HPackLiteralKind.IncrementalIndexing, 8, default, A("302"), huffman);
            HPackEncoder.WriteLiteral(w, HPackLiteralKind.IncrementalIndexing, 24, default, A("private"), huffman);
            HPackEncoder.WriteLiteral(w, HPackLiteralKind.IncrementalIndexing, 33, default, A(date1), huffman);
            HPackEncoder.WriteLiteral(w, HPackLiteralKind.IncrementalIndexing, 46, default, A(location), huffman);
        }));

        Assert.Equal([(":status", "307"), ("cache-control", "private"), ("date", date1), ("location", location)], Decode(d, r2));
        Assert.Equal([(":status", "307"), ("location", location), ("date", date1), ("cache-control", "private")], Table(d));
        Assert.Equal(222, d.Table.Size);
        Assert.Equal(H(r2), Encode(w =>
        {
            HPackEncoder.WriteLiteral(w, HPackLiteralKind.IncrementalIndexing, 8, default, A("307"), huffman);
            HPackEncoder.WriteIndexed(w, 65);
            HPackEncoder.WriteIndexed(w, 64);
            HPackEncoder.WriteIndexed(w, 63);
        }));

        Assert.Equal([(":status", "200"), ("cache-control", "private"), ("date", date2), ("location", location), ("content-encoding", "gzip"), ("set-cookie", cookie)], Decode(d, r3));
        Assert.Equal([("set-cookie", cookie), ("content-encoding", "gzip"), ("date", date2)], Table(d));
        Assert.Equal(215, d.Table.Size);
        Assert.Equal(H(r3), Encode(w =>
        {
            HPackEncoder.WriteIndexed(w, 8);
            HPackEncoder.WriteIndexed(w, 65);
            HPackEncoder.WriteLiteral(w, HPackLiteralKind.IncrementalIndexing, 33, default, A(date2), huffman);
            HPackEncoder.WriteIndexed(w, 64);
            HPackEncoder.WriteLiteral(w, HPackLiteralKind.IncrementalIndexing, 26, default, A("gzip"), huffman);
            HPackEncoder.WriteLiteral(w, HPackLiteralKind.IncrementalIndexing, 55, default, A(cookie), huffman);
        }));
    }

    [Fact]
    public void Size_updates_and_eviction()
    {
        var d = new HPackDecoder();
        Decode(d, "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572");
        Assert.Equal(55, d.Table.Size);
        Assert.Equal([(":method", "GET")], Decode(d, "20 82")); // size 0 empties the table
        Assert.Equal(0, d.Table.Count);
        Assert.Equal("3fe11f", Encode(w => HPackEncoder.WriteDynamicTableSizeUpdate(w, 4096)));
        Decode(d, "3fe11f");
        Assert.Equal(4096, d.Table.MaxSize);
        Assert.Throws<HPackDecodingException>(() => Decode(d, "3fe21f")); // 4097: above the limit
        Assert.Throws<HPackDecodingException>(() => Decode(new HPackDecoder(), "82 20")); // after a field

        // An entry larger than the table empties it (RFC 7541 §4.4); many insertions wrap the ring.
        var t = new HPackDynamicTable(100);
        for (var i = 0; i < 50; i++)
        {
            t.Add(A($"k{i}v{i}"), 2 + (i >= 10 ? 1 : 0), 0);
            Assert.True(t.Size <= 100);
        }
        Assert.Equal(2, t.Count);
        Assert.Equal("k49", S(t[1].Name));
        Assert.Equal("k48", S(t[2].Name));
        t.Add(new byte[80], 40, 0);
        Assert.Equal(0, t.Count);
        Assert.Equal(0, t.Size);

        // The ring grows and keeps newest-first order across wrap-around and growth.
        var big = new HPackDynamicTable(40 * 34);
        for (var i = 0; i < 200; i++)
        {
            big.Add([(byte)'n', (byte)i], 1, 0);
            Assert.Equal(Math.Min(i + 1, 40), big.Count);
            for (var j = 1; j <= big.Count; j++)
            {
                Assert.Equal((byte)(i - j + 1), big[j].Value[0]);
            }
        }
    }

    [Theory]
    [InlineData("80")] // index 0
    [InlineData("be")] // index 62, empty dynamic table
    [InlineData("7f00 0161")] // name index past both tables
    [InlineData("0005 6162")] // string longer than the block
    [InlineData("0081")] // block ends inside a literal
    [InlineData("00 81 18 01 61")] // Huffman name with bad padding
    [InlineData("ff")] // integer cut short
    public void Malformed_blocks_are_refused(string hex)
    {
        Assert.Throws<HPackDecodingException>(() => Decode(new HPackDecoder(), hex));
    }

    [Fact]
    public void Header_list_size_is_bounded()
    {
        var d = new HPackDecoder(maxHeaderListSize: 80);
        Decode(d, "82 84"); // (7 + 3 + 32) + (5 + 1 + 32) = 80: at the limit
        Assert.Throws<HPackDecodingException>(() => Decode(d, "82 84 86"));
    }
}
