using System.Buffers;
using System.Buffers.Binary;
using Ketch.Server.Http.HPack;

namespace Ketch.Server.Http;

/// <summary>
/// The client-to-server byte stream of one HTTP/2 connection, rewritten so that an
/// <c>:authority</c> (or <c>host</c>) holding a URL reaches Kestrel as <c>host:port</c> (see
/// <see cref="AuthorityNormalizer"/>). It reads the connection preface (RFC 9113 §3.4) and then
/// frames (§4.1: 24-bit length, type, flags, 31-bit stream id). Every frame but HEADERS and
/// CONTINUATION is copied through as it arrives, without buffering. A header block (HEADERS plus
/// CONTINUATIONs up to END_HEADERS, which §6.10 requires to be contiguous) is buffered whole,
/// then HPACK-decoded with a decoder that mirrors the client's dynamic table.
///
/// HPACK state (RFC 7541 §2.3.2): the client's encoder and Kestrel's decoder share a dynamic
/// table that only the header blocks change. While no block has needed a rewrite, each block is
/// forwarded byte for byte, so Kestrel's table goes through exactly the client's operations and
/// stays equal to ours. From the first block that needs a rewrite on, the connection is in
/// rewriting mode for good: every block is re-encoded with literals without indexing (or never
/// indexed, kept as such: §7.1.3), names by static index where the client's were static, and no
/// size updates. Those representations neither read nor change Kestrel's dynamic table (§6.2.2),
/// so whatever it held stays unused and can never be read with a different meaning than the
/// client intended, while our decoder keeps following the client's table. Normal clients
/// (ketch's, grpc-go dialing host:port) never trigger rewriting and pay only the decode.
/// </summary>
internal sealed class Http2HeaderRewriter : IHPackHeaderSink
{
    /// <summary>Largest frame payload we emit: the initial (and smallest allowed) value of
    /// SETTINGS_MAX_FRAME_SIZE (RFC 9113 §6.5.2), which any server accepts.</summary>
    public const int MaxOutputFramePayload = 16_384;

    private const byte TypeHeaders = 0x1;
    private const byte TypeContinuation = 0x9;
    private const byte FlagEndStream = 0x1;
    private const byte FlagEndHeaders = 0x4;
    private const byte FlagPadded = 0x8;
    private const byte FlagPriority = 0x20;
    private const int FrameHeaderLength = 9;
    private const int PriorityLength = 5;

    private readonly HPackDecoder _decoder;
    private readonly int _maxBlockBytes;
    private readonly byte[] _priority = new byte[PriorityLength];
    private ArrayBufferWriter<byte> _raw = new(); // the block's frames as received
    private ArrayBufferWriter<byte> _fragments = new(); // the block's HPACK bytes
    private ArrayBufferWriter<byte> _encoded = new(); // the block re-encoded
    private State _state = State.Preface;
    private int _remaining; // payload bytes still to come in the current frame
    private int _frameStart; // offset in _raw of the current header frame
    private byte _frameType;
    private byte _frameFlags;
    private bool _inBlock;
    private uint _blockStream;
    private byte _blockFlags;
    private bool _changed;

    /// <param name="maxHeaderTableSize">The server's SETTINGS_HEADER_TABLE_SIZE.</param>
    /// <param name="maxBlockBytes">Largest header block (frames as received) accepted.</param>
    public Http2HeaderRewriter(int maxHeaderTableSize, int maxBlockBytes = 1 << 20)
    {
        _decoder = new HPackDecoder(maxHeaderTableSize, maxBlockBytes);
        _maxBlockBytes = maxBlockBytes;
    }

    private enum State
    {
        Preface,
        FrameHeader,
        PassThrough,
        HeaderPayload,
    }

    /// <summary>Whether the connection is in rewriting mode (see the class summary).</summary>
    public bool Rewriting { get; private set; }

    /// <summary>Header blocks re-encoded so far.</summary>
    public long BlocksRewritten { get; private set; }

    private static ReadOnlySpan<byte> Preface => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8;

    /// <summary>
    /// Consumes what it can of <paramref name="input"/>, writing the rewritten stream to
    /// <paramref name="output"/>, and returns how far it consumed (an incomplete preface or frame
    /// header is left for the next call). Throws <see cref="InvalidDataException"/> on a framing
    /// error and <see cref="HPackDecodingException"/> on a bad header block: both end the connection.
    /// </summary>
    public SequencePosition Process(ReadOnlySequence<byte> input, IBufferWriter<byte> output)
    {
        var reader = new SequenceReader<byte>(input);
        Span<byte> header = stackalloc byte[Preface.Length];
        while (!reader.End)
        {
            switch (_state)
            {
                case State.Preface:
                    if (!reader.TryCopyTo(header))
                    {
                        return reader.Position;
                    }
                    if (!header.SequenceEqual(Preface))
                    {
                        throw new InvalidDataException("HTTP/2: bad connection preface (RFC 9113 §3.4)");
                    }
                    output.Write(header);
                    reader.Advance(header.Length);
                    _state = State.FrameHeader;
                    break;
                case State.FrameHeader:
                    if (!reader.TryCopyTo(header[..FrameHeaderLength]))
                    {
                        return reader.Position;
                    }
                    reader.Advance(FrameHeaderLength);
                    StartFrame(header[..FrameHeaderLength], output);
                    break;
                case State.PassThrough:
                {
                    var n = (int)Math.Min(_remaining, reader.Remaining);
                    foreach (var segment in reader.UnreadSequence.Slice(0, n))
                    {
                        output.Write(segment.Span);
                    }
                    reader.Advance(n);
                    _remaining -= n;
                    if (_remaining == 0)
                    {
                        _state = State.FrameHeader;
                    }
                    break;
                }
                case State.HeaderPayload:
                {
                    var n = (int)Math.Min(_remaining, reader.Remaining);
                    reader.UnreadSequence.Slice(0, n).CopyTo(_raw.GetSpan(n));
                    _raw.Advance(n);
                    reader.Advance(n);
                    _remaining -= n;
                    if (_remaining == 0)
                    {
                        EndHeaderFrame(output);
                    }
                    break;
                }
            }
        }
        return reader.Position;
    }

    /// <summary>A decoded field of the current block: normalize a URL authority, re-encode.</summary>
    void IHPackHeaderSink.OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, int staticNameIndex, bool neverIndexed)
    {
        if ((staticNameIndex is HPackStaticTable.Authority or HPackStaticTable.Host || name.SequenceEqual(":authority"u8) || name.SequenceEqual("host"u8))
            && AuthorityNormalizer.TryNormalize(value, out var authority))
        {
            value = authority;
            _changed = true;
        }
        // The re-encoding is needed only if this block (or an earlier one) needs a rewrite, which
        // is known at the block's end; writing it always costs a copy of a few hundred bytes.
        HPackEncoder.WriteLiteral(_encoded, neverIndexed ? HPackLiteralKind.NeverIndexed : HPackLiteralKind.WithoutIndexing,
            staticNameIndex, name, value, huffman: false);
    }

    private void StartFrame(ReadOnlySpan<byte> header, IBufferWriter<byte> output)
    {
        var length = (header[0] << 16) | (header[1] << 8) | header[2];
        var type = header[3];
        var flags = header[4];
        var stream = BinaryPrimitives.ReadUInt32BigEndian(header[5..]) & 0x7FFF_FFFF;
        if (_inBlock && type != TypeContinuation)
        {
            throw new InvalidDataException("HTTP/2: frame inside a header block (RFC 9113 §6.10)");
        }
        if (type is not (TypeHeaders or TypeContinuation))
        {
            output.Write(header);
            _remaining = length;
            _state = length == 0 ? State.FrameHeader : State.PassThrough;
            return;
        }
        if (type == TypeContinuation && (!_inBlock || stream != _blockStream))
        {
            throw new InvalidDataException("HTTP/2: CONTINUATION without a HEADERS frame on its stream (RFC 9113 §6.10)");
        }
        if ((long)_raw.WrittenCount + FrameHeaderLength + length > _maxBlockBytes)
        {
            throw new InvalidDataException($"HTTP/2: header block larger than {_maxBlockBytes} bytes");
        }
        if (type == TypeHeaders)
        {
            _inBlock = true;
            _blockStream = stream;
            _blockFlags = flags;
        }
        _frameStart = _raw.WrittenCount;
        _frameType = type;
        _frameFlags = flags;
        _raw.Write(header);
        _remaining = length;
        _state = State.HeaderPayload;
        if (length == 0)
        {
            EndHeaderFrame(output);
        }
    }

    /// <summary>A whole HEADERS or CONTINUATION frame is in <c>_raw</c>: keep its fragment (RFC
    /// 9113 §6.2: without padding and priority fields); at END_HEADERS, the block is complete.</summary>
    private void EndHeaderFrame(IBufferWriter<byte> output)
    {
        _state = State.FrameHeader;
        var fragment = _raw.WrittenSpan[(_frameStart + FrameHeaderLength)..];
        if (_frameType == TypeHeaders)
        {
            var padding = 0;
            if ((_frameFlags & FlagPadded) != 0)
            {
                if (fragment.IsEmpty)
                {
                    throw new InvalidDataException("HTTP/2: PADDED HEADERS frame without a pad length");
                }
                padding = fragment[0];
                fragment = fragment[1..];
            }
            if ((_frameFlags & FlagPriority) != 0)
            {
                if (fragment.Length < PriorityLength)
                {
                    throw new InvalidDataException("HTTP/2: HEADERS frame too short for its priority fields");
                }
                fragment[..PriorityLength].CopyTo(_priority);
                fragment = fragment[PriorityLength..];
            }
            if (padding > fragment.Length)
            {
                throw new InvalidDataException("HTTP/2: HEADERS padding longer than the frame (RFC 9113 §6.2)");
            }
            fragment = fragment[..^padding];
        }
        _fragments.Write(fragment);
        if ((_frameFlags & FlagEndHeaders) != 0)
        {
            EndBlock(output);
        }
    }

    private void EndBlock(IBufferWriter<byte> output)
    {
        _encoded.ResetWrittenCount();
        _changed = false;
        _decoder.Decode(_fragments.WrittenSpan, this);
        if (_changed || Rewriting)
        {
            Rewriting = true;
            BlocksRewritten++;
            WriteBlock(output, _encoded.WrittenSpan);
        }
        else
        {
            output.Write(_raw.WrittenSpan);
        }
        _inBlock = false;
        Reset(ref _raw);
        Reset(ref _fragments);
        Reset(ref _encoded);
    }

    /// <summary>The re-encoded block as a HEADERS frame (END_STREAM and priority as the client
    /// sent them, no padding) and as many CONTINUATION frames as its size needs.</summary>
    private void WriteBlock(IBufferWriter<byte> output, ReadOnlySpan<byte> block)
    {
        var first = true;
        do
        {
            var priority = first && (_blockFlags & FlagPriority) != 0;
            var n = Math.Min(block.Length, MaxOutputFramePayload - (priority ? PriorityLength : 0));
            var flags = (byte)(n == block.Length ? FlagEndHeaders : 0);
            if (first)
            {
                flags |= (byte)(_blockFlags & (FlagEndStream | FlagPriority));
            }
            var span = output.GetSpan(FrameHeaderLength);
            var length = n + (priority ? PriorityLength : 0);
            span[0] = (byte)(length >> 16);
            span[1] = (byte)(length >> 8);
            span[2] = (byte)length;
            span[3] = first ? TypeHeaders : TypeContinuation;
            span[4] = flags;
            BinaryPrimitives.WriteUInt32BigEndian(span[5..], _blockStream);
            output.Advance(FrameHeaderLength);
            if (priority)
            {
                output.Write(_priority);
            }
            output.Write(block[..n]);
            block = block[n..];
            first = false;
        }
        while (!block.IsEmpty);
    }

    /// <summary>Empties a buffer; one that grew past 64 KiB for a big block is dropped so that a
    /// connection does not hold it for its lifetime.</summary>
    private static void Reset(ref ArrayBufferWriter<byte> buffer)
    {
        if (buffer.Capacity > 64 * 1024)
        {
            buffer = new ArrayBufferWriter<byte>();
        }
        else
        {
            buffer.ResetWrittenCount();
        }
    }
}
