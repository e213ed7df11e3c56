using System.ComponentModel;
using System.Diagnostics;
using Ketch.Api.Etcdserverpb;
using Ketch.Client;

namespace Ketch.Ctl.Commands;

/// <summary><c>watch [options] [key or prefix] [range_end] [--] [exec-command arg1 arg2 ...]</c>, and <c>watch -i</c>
/// (reads <c>watch [options] key ...</c> and <c>progress</c> lines from stdin), as etcdctl 3.4: prints events until
/// interrupted; with an exec command, runs it after each event with <c>ETCD_WATCH_REVISION</c>,
/// <c>ETCD_WATCH_EVENT_TYPE</c>, <c>ETCD_WATCH_KEY</c> and <c>ETCD_WATCH_VALUE</c> set (the last three Go-quoted);
/// <c>ETCDCTL_WATCH_KEY</c> and <c>ETCDCTL_WATCH_RANGE_END</c> stand for the key arguments.</summary>
internal sealed class WatchCommand : Command
{
    private const string BadArgsNum = "bad number of arguments";
    private const string BadArgsConflictEnv = "bad number of arguments (found conflicting environment key)";
    private const string BadArgsSeparator = "bad number of arguments (found separator --, but no commands)";

    public override string Name => "watch";

    public override string Short => "Watches keys or prefixes and prints their events";

    public override string Usage => "[options] [key or prefix] [range_end] [--] [exec-command arg1 arg2 ...]";

    public override IReadOnlyList<Flag> Flags =>
    [
        new("interactive", IsBool: true, Short: "i", Usage: "read watch commands from standard input"),
        new("prefix", IsBool: true, Usage: "watch every key that starts with the key"),
        new("rev", Default: "0", Usage: "the revision to start watching at", Kind: FlagKind.Int),
        new("prev-kv", IsBool: true, Usage: "print each event's previous key-value pair too"),
        new("progress-notify", IsBool: true, Usage: "ask the server for progress notifications"),
    ];

    /// <summary>What one watch asks for.</summary>
    private sealed record Spec(string Key, WatchOptions Options);

    /// <summary>A command run after an event failed: etcdctl exits with 1 after saying so.</summary>
    private sealed class ExecFailedException(string message) : Exception(message);

    public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
    {
        var envKey = ctx.Env.GetValueOrDefault("ETCDCTL_WATCH_KEY") ?? "";
        var envRange = ctx.Env.GetValueOrDefault("ETCDCTL_WATCH_RANGE_END") ?? "";
        if (envKey.Length == 0 && envRange.Length > 0)
        {
            throw CtlContext.BadArgs($"ETCDCTL_WATCH_KEY is empty but got ETCDCTL_WATCH_RANGE_END={GoFormat.Quote(envRange)}");
        }
        var gate = new SemaphoreSlim(1, 1);
        try
        {
            if (args.Bool("interactive"))
            {
                return await InteractiveAsync(ctx, envKey, envRange, gate).ConfigureAwait(false);
            }
            var exec = args.AfterSeparator;
            if (exec is { Count: 0 })
            {
                throw CtlContext.BadArgs(BadArgsSeparator);
            }
            var before = args.Positional.Take(args.Positional.Count - (exec?.Count ?? 0)).ToList();
            if (envKey.Length > 0 && before.Count > 0)
            {
                throw CtlContext.BadArgs(BadArgsConflictEnv);
            }
            var spec = MakeSpec(args, [.. EnvKeys(envKey, envRange), .. before]);
            using var client = ctx.Client();
            await WatchAsync(ctx, client.Watch.Watch(spec.Key, spec.Options), exec, gate, ctx.Interrupt).ConfigureAwait(false);
            throw new CtlException(ExitCode.Interrupted, "watch is canceled by the server");
        }
        catch (ExecFailedException ex)
        {
            await ctx.Err.WriteAsync(ex.Message + "\n").ConfigureAwait(false);
            return ExitCode.Error;
        }
        finally
        {
            gate.Dispose();
        }
    }

    private static IEnumerable<string> EnvKeys(string envKey, string envRange) =>
        envKey.Length == 0 ? [] : envRange.Length == 0 ? [envKey] : [envKey, envRange];

    /// <summary>etcdctl's getWatchChan: the key, an optional range end (extra arguments are ignored), the flags.</summary>
    private static Spec MakeSpec(ParsedArgs args, IReadOnlyList<string> keys)
    {
        if (keys.Count < 1)
        {
            throw CtlContext.BadArgs(BadArgsNum);
        }
        var prefix = args.Bool("prefix");
        if (keys.Count == 2 && prefix)
        {
            throw CtlContext.BadArgs("`range_end` and `--prefix` are mutually exclusive");
        }
        return new Spec(keys[0], new WatchOptions
        {
            Prefix = prefix,
            RangeEnd = keys.Count == 2 ? KvFlags.KeyBytes(keys[1]) : null,
            StartRevision = args.Long("rev"),
            PrevKv = args.Bool("prev-kv"),
            ProgressNotify = args.Bool("progress-notify"),
            // etcdctl watches with clientv3.WithRequireLeader: a member that loses its leader
            // cancels the watch ("etcdserver: no leader") rather than leaving it silent.
            EndWithoutLeader = true,
        });
    }

    /// <summary>Reads request lines until stdin ends (then fails with exit code 3, as etcdctl); each watch prints on its own.</summary>
    private async Task<int> InteractiveAsync(CtlContext ctx, string envKey, string envRange, SemaphoreSlim gate)
    {
        using var client = ctx.Client();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ctx.Interrupt);
        var fatal = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        var streams = new List<WatchStream>();
        var running = new List<Task>();
        try
        {
            while (true)
            {
                var read = ctx.In.ReadLineAsync(stop.Token).AsTask();
                if (await Task.WhenAny(read, fatal.Task).ConfigureAwait(false) == fatal.Task)
                {
                    throw await fatal.Task.ConfigureAwait(false);
                }
                var line = await read.ConfigureAwait(false)
                    ?? throw new CtlException(ExitCode.InvalidInput, "Error reading watch request line: EOF");
                var words = TxnCommand.Argify(line);
                switch (words.FirstOrDefault())
                {
                    case null:
                        await Say(ctx, gate, $"Invalid command: {line} (watch and progress supported)").ConfigureAwait(false);
                        break;
                    case "watch" when words.Count < 2 && envKey.Length == 0:
                        await Say(ctx, gate, $"Invalid command {line} (command type or key is not provided)").ConfigureAwait(false);
                        break;
                    case "watch":
                        var (parsed, keys, exec) = ParseLine(words, envKey, envRange);
                        Spec spec;
                        try
                        {
                            spec = MakeSpec(parsed, keys);
                        }
                        catch (CtlException ex)
                        {
                            await Say(ctx, gate, $"Invalid command {line} ({ex.Message})").ConfigureAwait(false);
                            break;
                        }
                        var stream = client.Watch.Watch(spec.Key, spec.Options);
                        lock (streams)
                        {
                            streams.Add(stream);
                        }
                        running.Add(Task.Run(async () =>
                        {
                            try
                            {
                                await WatchAsync(ctx, stream, exec, gate, stop.Token).ConfigureAwait(false);
                            }
                            catch (ExecFailedException ex)
                            {
                                fatal.TrySetResult(ex);
                            }
                            catch (OperationCanceledException)
                            {
                            }
                        }));
                        break;
                    case "progress":
                        WatchStream[] all;
                        lock (streams)
                        {
                            all = [.. streams];
                        }
                        foreach (var s in all)
                        {
                            try
                            {
                                await s.RequestProgressAsync(stop.Token).ConfigureAwait(false);
                            }
                            catch (InvalidOperationException)
                            {
                                // That watch is not running (ended or reconnecting).
                            }
                        }
                        break;
                    default:
                        await Say(ctx, gate, $"Invalid command {line} (only support watch)").ConfigureAwait(false);
                        break;
                }
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(running).ConfigureAwait(false);
        }
    }

    /// <summary>etcdctl's parseWatchArgs for one interactive line (words after <c>watch</c>): its own flags only;
    /// a bad flag or a bad argument count ends ketchctl (exit 128), as in etcdctl.</summary>
    private (ParsedArgs Args, List<string> Keys, IReadOnlyList<string>? Exec) ParseLine(List<string> words, string envKey, string envRange)
    {
        ParsedArgs parsed;
        try
        {
            parsed = ParsedArgs.Parse(words.Skip(1).ToList(), Flags);
            parsed.Long("rev");
        }
        catch (CtlException ex)
        {
            throw CtlContext.BadArgs(ex.Message);
        }
        var exec = parsed.AfterSeparator;
        if (exec is { Count: 0 })
        {
            throw CtlContext.BadArgs(BadArgsSeparator);
        }
        var before = parsed.Positional.Take(parsed.Positional.Count - (exec?.Count ?? 0)).ToList();
        if (exec is null && envKey.Length == 0 && before.Count < 1)
        {
            throw CtlContext.BadArgs(BadArgsNum);
        }
        if (exec is null && envKey.Length > 0 && before.Count > 0)
        {
            throw CtlContext.BadArgs(BadArgsConflictEnv);
        }
        return (parsed, [.. EnvKeys(envKey, envRange), .. before], exec);
    }

    private static async Task Say(CtlContext ctx, SemaphoreSlim gate, string message)
    {
        await gate.WaitAsync().ConfigureAwait(false);
        try
        {
            await ctx.Err.WriteAsync(message + "\n").ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>etcdctl's printWatchCh: prints each response (and "progress notify: rev"), runs the command per event;
    /// returns when the server cancels the watch (after saying why on stderr).</summary>
    private static async Task WatchAsync(CtlContext ctx, WatchStream stream, IReadOnlyList<string>? exec, SemaphoreSlim gate, CancellationToken ct)
    {
        var printer = ctx.Printer();
        try
        {
            await foreach (var r in stream.WithCancellation(ct).ConfigureAwait(false))
            {
                if (r.Created)
                {
                    continue;
                }
                await gate.WaitAsync(ct).ConfigureAwait(false);
                try
                {
                    if (r.Events.Count == 0 && !r.Canceled && r.CompactRevision == 0 && r.Header is { Revision: not 0 })
                    {
                        await ctx.Out.WriteAsync($"progress notify: {r.Header.Revision}\n").ConfigureAwait(false);
                    }
                    printer.Watch(r);
                    await ctx.Out.FlushAsync(ct).ConfigureAwait(false);
                    if (exec is not null)
                    {
                        foreach (var e in r.Events)
                        {
                            await ExecAsync(ctx, exec, r, e, ct).ConfigureAwait(false);
                        }
                    }
                }
                finally
                {
                    gate.Release();
                }
            }
        }
        catch (Grpc.Core.RpcException ex) when (ex.StatusCode == Grpc.Core.StatusCode.Cancelled && ct.IsCancellationRequested)
        {
            // Interrupted (or the interactive session ended): not the server's doing.
            throw new OperationCanceledException(ct);
        }
        catch (WatchCanceledException ex)
        {
            var why = ex is WatchCompactedException ? "etcdserver: mvcc: required revision has been compacted" : ex.Message;
            await Say(ctx, gate, $"watch was canceled ({why})").ConfigureAwait(false);
        }
    }

    /// <summary>Runs the command for one event, its output going to ketchctl's; a failure ends ketchctl with 1.</summary>
    private static async Task ExecAsync(CtlContext ctx, IReadOnlyList<string> exec, WatchResponse r, Ketch.Api.Mvccpb.Event e, CancellationToken ct)
    {
        var psi = new ProcessStartInfo(exec[0], exec.Skip(1))
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.Environment["ETCD_WATCH_REVISION"] = GoFormat.D(r.Header.Revision);
        psi.Environment["ETCD_WATCH_EVENT_TYPE"] = e.Type == Ketch.Api.Mvccpb.Event.Types.EventType.Put ? "\"PUT\"" : "\"DELETE\"";
        psi.Environment["ETCD_WATCH_KEY"] = GoFormat.Quote(e.Kv.Key.Span);
        psi.Environment["ETCD_WATCH_VALUE"] = GoFormat.Quote(e.Kv.Value.Span);
        var command = "[" + string.Join(" ", exec.Select(GoFormat.Quote)) + "]";
        Process p;
        try
        {
            p = Process.Start(psi) ?? throw new Win32Exception();
        }
        catch (Win32Exception)
        {
            throw new ExecFailedException($"command {command} error (exec: {GoFormat.Quote(exec[0])}: executable file not found in $PATH)");
        }
        using (p)
        {
            var copyOut = p.StandardOutput.BaseStream.CopyToAsync(new TextWriterStream(ctx.Out), ct);
            var copyErr = p.StandardError.BaseStream.CopyToAsync(new TextWriterStream(ctx.Err), ct);
            try
            {
                await p.WaitForExitAsync(ct).ConfigureAwait(false);
                await Task.WhenAll(copyOut, copyErr).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                p.Kill(entireProcessTree: true);
                throw;
            }
            await ctx.Out.FlushAsync(ct).ConfigureAwait(false);
            if (p.ExitCode != 0)
            {
                throw new ExecFailedException($"command {command} error (exit status {p.ExitCode})");
            }
        }
    }

    /// <summary>A write-only stream over a <see cref="TextWriter"/> (the command's bytes as UTF-8 text).</summary>
    private sealed class TextWriterStream(TextWriter writer) : Stream
    {
        private readonly System.Text.Decoder _decoder = System.Text.Encoding.UTF8.GetDecoder();

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => writer.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
            var chars = new char[_decoder.GetCharCount(buffer, offset, count)];
            _decoder.GetChars(buffer, offset, count, chars, 0);
            writer.Write(chars);
        }
    }
}
