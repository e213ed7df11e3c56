using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Ketch.Api.Etcdserverpb;
using Ketch.Server.Http;
using Ketch.Server.Http.HPack;

namespace Ketch.Server.Tests;

/// <summary>etcdctl 3.4's <c>:authority: http://host:port</c> (endpoint status/hashkv --cluster):
/// the HTTP/2 header rewriting below Kestrel, unit by unit and end to end.</summary>
public sealed class Http2AuthorityTests
{
    private static readonly byte[] s_preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();

    private static byte[] A(string s) => Encoding.ASCII.GetBytes(s);

    private static byte[] Frame(byte type, byte flags, uint stream, ReadOnlySpan<byte> payload)
    {
        var f = new byte[9 + payload.Length];
        f[0] = (byte)(payload.Length >> 16);
        f[1] = (byte)(payload.Length >> 8);
        f[2] = (byte)payload.Length;
        f[3] = type;
        f[4] = flags;
        BinaryPrimitives.WriteUInt32BigEndian(f.AsSpan(5), stream);
        payload.CopyTo(f.AsSpan(9));
        return f;
    }

    private static byte[] Block(Action<ArrayBufferWriter<byte>> write)
    {
        var w = new ArrayBufferWriter<byte>();
        write(w);
        return w.WrittenSpan.ToArray();
    }

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    /// <summary>Runs the rewriter over <paramref name="input"/> fed <paramref name="chunk"/> bytes at a time.</summary>
    private static (byte[] Output, Http2HeaderRewriter Rewriter) Rewrite(byte[] input, int chunk)
    {
        var r = new Http2HeaderRewriter(4096);
        var output = new ArrayBufferWriter<byte>();
        var pending = new List<byte>();
        for (var i = 0; i < input.Length; i += chunk)
        {
            pending.AddRange(input.Skip(i).Take(chunk));
            var seq = new ReadOnlySequence<byte>(pending.ToArray());
            var consumed = r.Process(seq, output);
            pending.RemoveRange(0, (int)seq.Slice(0, consumed).Length);
        }
        Assert.Empty(pending);
        return (output.WrittenSpan.ToArray(), r);
    }

    private sealed record ServerFrame(byte Type, byte Flags, uint Stream, byte[] Payload);

    private sealed class Collect : IHPackHeaderSink
    {
        public List<(string Name, string Value, bool Never)> Fields { get; } = [];

        public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, int staticNameIndex, bool neverIndexed) =>
            Fields.Add((Encoding.ASCII.GetString(name), Encoding.ASCII.GetString(value), neverIndexed));
    }

    /// <summary>What a server sees: the frames, and each header block decoded with the server's
    /// own dynamic table (which must agree with what the client meant).</summary>
    private static (List<ServerFrame> Frames, List<List<(string, string, bool)>> Blocks, HPackDecoder Decoder) Serve(byte[] output)
    {
        Assert.Equal(s_preface, output.Take(24).ToArray());
        var frames = new List<ServerFrame>();
        var blocks = new List<List<(string, string, bool)>>();
        var decoder = new HPackDecoder();
        var pos = 24;
        var block = new List<byte>();
        while (pos < output.Length)
        {
            var length = (output[pos] << 16) | (output[pos + 1] << 8) | output[pos + 2];
            var f = new ServerFrame(output[pos + 3], output[pos + 4], BinaryPrimitives.ReadUInt32BigEndian(output.AsSpan(pos + 5)) & 0x7FFFFFFF,
                output.AsSpan(pos + 9, length).ToArray());
            Assert.True(length <= 16_384, $"frame of {length} bytes");
            frames.Add(f);
            pos += 9 + length;
            if (f.Type is 1 or 9)
            {
                var fragment = f.Payload.AsSpan();
                if (f.Type == 1 && (f.Flags & 0x8) != 0)
                {
                    fragment = fragment[1..^f.Payload[0]];
                }
                if (f.Type == 1 && (f.Flags & 0x20) != 0)
                {
                    fragment = fragment[5..];
                }
                block.AddRange(fragment.ToArray());
                if ((f.Flags & 0x4) != 0)
                {
                    var sink = new Collect();
                    decoder.Decode(block.ToArray(), sink);
                    blocks.Add(sink.Fields);
                    block.Clear();
                }
            }
        }
        return (frames, blocks, decoder);
    }

    private static (string, string, bool) F(string name, string value, bool never = false) => (name, value, never);

    [Theory]
    [InlineData("http://127.0.0.1:2379", "127.0.0.1:2379")]
    [InlineData("https://member-1.example:2379/", "member-1.example:2379")]
    [InlineData("http://user:pw@[::1]:2379/x?y#z", "[::1]:2379")]
    [InlineData("host:1/path", "host:1")]
    [InlineData("unix://localhost:1", "localhost:1")]
    public void Url_authorities_are_normalized(string value, string expected)
    {
        Assert.True(AuthorityNormalizer.TryNormalize(A(value), out var authority));
        Assert.Equal(expected, Encoding.ASCII.GetString(authority));
    }

    [Theory]
    [InlineData("127.0.0.1:2379")]
    [InlineData("[::1]:2379")]
    [InlineData("localhost")]
    [InlineData("")]
    [InlineData("unix:///tmp/sock")]
    public void Valid_authorities_are_left_alone(string value)
    {
        Assert.False(AuthorityNormalizer.TryNormalize(A(value), out _));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(100_000)]
    public void Stream_without_url_authority_passes_byte_for_byte(int chunk)
    {
        // The client's table fills up (incremental indexing, Huffman), later blocks index it.
        var b1 = Block(w =>
        {
            HPackEncoder.WriteIndexed(w, 3); // :method POST
            HPackEncoder.WriteIndexed(w, 6); // :scheme http
            HPackEncoder.WriteLiteral(w, HPackLiteralKind.IncrementalIndexing, 4, default, A("/etcdserverpb.KV/Range"), true);
            HPackEncoder.WriteLiteral(w, HPackLiteralKind.IncrementalIndexing, 1, default, A("127.0.0.1:2379"), true);
            HPackEncoder.WriteLiteral(w, HPackLiteralKind.IncrementalIndexing, 0, A("te"), A("trailers"), false);
        });
        var b2 = Block(w =>
        {
            HPackEncoder.WriteIndexed(w, 3);
            HPackEncoder.WriteIndexed(w, 6);
            HPackEncoder.WriteIndexed(w, 64);
            HPackEncoder.WriteIndexed(w, 63);
            HPackEncoder.WriteIndexed(w, 62);
        });
        var input = Concat(s_preface, Frame(4, 0, 0, []), Frame(1, 0x4, 1, b1), Frame(0, 0x1, 1, new byte[40_000]),
            Frame(1, 0x5, 3, b2), Frame(8, 0, 0, [0, 0, 1, 0]), Frame(0, 0, 3, []));
        var (output, r) = Rewrite(input, chunk);
        Assert.Equal(input, output);
        Assert.False(r.Rewriting);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(100_000)]
    public void Url_authority_is_rewritten_and_server_table_stays_consistent(int chunk)
    {
        // Block 1 needs no rewrite and is forwarded as is: the server's table gets its entries.
        var b1 = Block(w =>
        {
            HPackEncoder.WriteIndexed(w, 3);
            HPackEncoder.WriteLiteral(w, HPackLiteralKind.IncrementalIndexing, 4, default, A("/etcdserverpb.Maintenance/Status"), true);
            HPackEncoder.WriteLiteral(w, HPackLiteralKind.IncrementalIndexing, 1, default, A("127.0.0.1:1"), true);
            HPackEncoder.WriteLiteral(w, HPackLiteralKind.IncrementalIndexing, 0, A("x-custom"), A("one"), true);
        });
        // Block 2: a URL authority, inserted into the client's table, plus indexes into block 1's entries.
        var b2 = Block(w =>
        {
            HPackEncoder.WriteIndexed(w, 3);
            HPackEncoder.WriteIndexed(w, 64); // path from block 1
            HPackEncoder.WriteLiteral(w, HPackLiteralKind.IncrementalIndexing, 1, default, A("http://127.0.0.1:2379"), true);
            HPackEncoder.WriteIndexed(w, 63); // x-custom: one (pushed from 62 to 63 by the insertion above)
            HPackEncoder.WriteLiteral(w, HPackLiteralKind.NeverIndexed, 23, default, A("Bearer secret"), false);
        });
        // Block 3: a size update that evicts everything, then indexes the authority again.
        var b3 = Block(w =>
        {
            HPackEncoder.WriteDynamicTableSizeUpdate(w, 0);
            HPackEncoder.WriteDynamicTableSizeUpdate(w, 4096);
            HPackEncoder.WriteIndexed(w, 3);
            HPackEncoder.WriteLiteral(w, HPackLiteralKind.IncrementalIndexing, 0, A("host"), A("https://h.example:2379/"), false);
            HPackEncoder.WriteIndexed(w, 62);
        });
        var data = Enumerable.Range(0, 1000).Select(i => (byte)i).ToArray();
        var input = Concat(s_preface, Frame(4, 0, 0, []), Frame(1, 0x4, 1, b1), Frame(1, 0x4, 3, b2), Frame(0, 0x1, 3, data),
            Frame(1, 0x4, 5, b3), Frame(6, 0, 0, new byte[8]));
        var (output, r) = Rewrite(input, chunk);
        Assert.True(r.Rewriting);
        Assert.Equal(2, r.BlocksRewritten);
        var (frames, blocks, server) = Serve(output);
        Assert.Equal([1, 1, 0, 1, 6], frames.Skip(1).Select(f => (int)f.Type));
        Assert.Equal(data, frames[3].Payload);
        Assert.Equal([F(":method", "POST"), F(":path", "/etcdserverpb.Maintenance/Status"), F(":authority", "127.0.0.1:1"), F("x-custom", "one")], blocks[0]);
        Assert.Equal([F(":method", "POST"), F(":path", "/etcdserverpb.Maintenance/Status"), F(":authority", "127.0.0.1:2379"),
            F("x-custom", "one"), F("authorization", "Bearer secret", true)], blocks[1]);
        Assert.Equal([F(":method", "POST"), F("host", "h.example:2379"), F("host", "h.example:2379")], blocks[2]);
        // The server's table holds block 1's entries only: rewritten blocks never touch it.
        Assert.Equal(3, server.Table.Count);
    }

    [Fact]
    public void Padding_priority_continuation_and_frame_size_are_handled()
    {
        var big = new string('v', 30_000);
        var block = Block(w =>
        {
            HPackEncoder.WriteIndexed(w, 3);
            HPackEncoder.WriteLiteral(w, HPackLiteralKind.WithoutIndexing, 1, default, A("http://10.0.0.1:2379"), false);
            HPackEncoder.WriteLiteral(w, HPackLiteralKind.WithoutIndexing, 0, A("x-big"), A(big), true);
        });
        // HEADERS (PADDED | PRIORITY | END_STREAM) with the first 10,000 block bytes, then two CONTINUATIONs.
        var priority = new byte[] { 0x80, 0, 0, 0x03, 0x20 };
        var headersPayload = Concat([7], priority, block[..10_000], new byte[7]);
        var input = Concat(s_preface, Frame(1, 0x8 | 0x20 | 0x1, 7, headersPayload), Frame(9, 0, 7, block[10_000..15_000]),
            Frame(9, 0x4, 7, block[15_000..]), Frame(0, 0x1, 9, [1, 2, 3]));
        var (output, _) = Rewrite(input, 4096);
        var (frames, blocks, _) = Serve(output);
        Assert.Equal([F(":method", "POST"), F(":authority", "10.0.0.1:2379"), F("x-big", big)], blocks[0]);
        // Raw re-encoding makes the block ~30 KB: HEADERS + CONTINUATION frames of at most 16 KiB.
        Assert.True(frames.Count >= 3);
        var headers = frames[0];
        Assert.Equal(1, headers.Type);
        Assert.Equal(0x20 | 0x1, headers.Flags); // priority and END_STREAM kept, not padded, not last
        Assert.Equal(priority, headers.Payload[..5]);
        Assert.All(frames.Skip(1).SkipLast(1), f => Assert.Equal(9, f.Type));
        Assert.Equal(0x4, frames[^2].Flags);
        Assert.Equal((byte)0, frames[^1].Type);
        Assert.All(frames, f => Assert.True(f.Type == 0 ? f.Stream == 9 : f.Stream == 7));
    }

    [Fact]
    public void Malformed_streams_are_refused()
    {
        var ok = Block(w => HPackEncoder.WriteIndexed(w, 2));
        Assert.Throws<InvalidDataException>(() => Rewrite(Concat("PRI * HTTP/1.1\r\n\r\nSM\r\n\r\n"u8.ToArray()), 100));
        Assert.Throws<InvalidDataException>(() => Rewrite(Concat(s_preface, Frame(9, 0x4, 1, ok)), 100));
        Assert.Throws<InvalidDataException>(() => Rewrite(Concat(s_preface, Frame(1, 0, 1, ok), Frame(0, 0, 1, [1])), 100));
        Assert.Throws<InvalidDataException>(() => Rewrite(Concat(s_preface, Frame(1, 0, 1, ok), Frame(9, 0x4, 3, ok)), 100));
        Assert.Throws<InvalidDataException>(() => Rewrite(Concat(s_preface, Frame(1, 0x8 | 0x4, 1, Concat([9], ok))), 100));
        Assert.Throws<HPackDecodingException>(() => Rewrite(Concat(s_preface, Frame(1, 0x4, 1, [0x80])), 100));
        Assert.Throws<InvalidDataException>(() => Rewrite(Concat(s_preface, Frame(1, 0, 1, new byte[16_000]),
            Enumerable.Range(0, 70).SelectMany(_ => Frame(9, 0, 1, new byte[16_000])).ToArray()), 100_000));
    }

    [Fact]
    public async Task Etcdctl_endpoint_status_and_hashkv_cluster_list_every_member()
    {
        Etcdctl.Require();
        await using var c = await TestCluster.StartAsync(3);
        await c.LeaderAsync();
        await TestCluster.PutAsync(c.Members[0], "h2/k", "v");
        var urls = c.Members.Select(m => m.ClientUrl).OrderBy(u => u, StringComparer.Ordinal).ToList();
        var ep = c.Members[1].ClientUrl.Replace("http://", "", StringComparison.Ordinal);

        var status = await Etcdctl.RunAsync(ep, "endpoint status --cluster -w json");
        Assert.True(status.Exit == 0, status.Err);
        using var json = JsonDocument.Parse(status.Out);
        var listed = json.RootElement.EnumerateArray().Select(e => e.GetProperty("Endpoint").GetString()!).OrderBy(u => u, StringComparer.Ordinal).ToList();
        Assert.Equal(urls, listed);
        Assert.All(json.RootElement.EnumerateArray(), e => Assert.Equal("3.5.13", e.GetProperty("Status").GetProperty("version").GetString()));
        Assert.Single(json.RootElement.EnumerateArray(), e =>
            e.GetProperty("Status").GetProperty("leader").GetUInt64() == e.GetProperty("Status").GetProperty("header").GetProperty("member_id").GetUInt64());

        // Every member answers; once all have applied the put, their hashes agree.
        await TestNet.WaitUntil(async () =>
        {
            var hash = await Etcdctl.RunAsync(ep, "endpoint hashkv --cluster");
            Assert.True(hash.Exit == 0, hash.Err);
            var lines = hash.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(", ")).ToList();
            Assert.Equal(urls, lines.Select(l => l[0]).OrderBy(u => u, StringComparer.Ordinal));
            return lines.Select(l => l[1]).Distinct().Count() == 1;
        }, TimeSpan.FromSeconds(20), "equal hashkv on every member");

        // Normal gRPC clients (Grpc.Net.Client) and HTTP/1 on the same ports are unaffected.
        foreach (var m in c.Members)
        {
            var range = await m.Kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("h2/k") });
            Assert.Equal("v", range.Kvs.Single().Value.ToStringUtf8());
            using var http = new HttpClient();
            Assert.Contains("\"health\"", await http.GetStringAsync(m.ClientUrl + "/health"), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Malformed_header_block_closes_only_that_connection()
    {
        await using var m = await TestMember.StartSingleAsync();
        var uri = new Uri(m.ClientUrl);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Parse(uri.Host), uri.Port));
        // Indexed field 0 is a COMPRESSION_ERROR (RFC 7541 §6.1).
        await socket.SendAsync(Concat(s_preface, Frame(4, 0, 0, []), Frame(1, 0x5, 1, [0x80])));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var buffer = new byte[4096];
        try
        {
            while (await socket.ReceiveAsync(buffer, cts.Token) > 0)
            {
                // the server's SETTINGS and maybe a GOAWAY, then the close
            }
        }
        catch (SocketException)
        {
            // a reset is a close too
        }
        Assert.False(cts.IsCancellationRequested);
        var put = await m.Kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("after"), Value = ByteString.CopyFromUtf8("bad") });
        Assert.True(put.Header.Revision > 1);
    }
}
