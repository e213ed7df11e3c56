using System.Diagnostics;
using System.Text;
using System.Threading.Channels;
using Ketch.Testing;
using Xunit;

namespace Ketch.Ctl.Tests;

/// <summary>A command that runs until stopped (watch, watch -i), as etcdctl (a process) or ketchctl (in-process):
/// stdin fed line by line, stdout and stderr readable while it runs, polled with deadlines.</summary>
public sealed class LiveRun : IAsyncDisposable
{
    private readonly StringBuilder _out = new();
    private readonly StringBuilder _err = new();
    private readonly Func<string?, Task> _write;
    private readonly Func<Task> _stop;
    private readonly Task<int> _exit;

    private LiveRun(Func<string?, Task> write, Func<Task> stop, Func<LiveRun, Task<int>> start)
    {
        _write = write;
        _stop = stop;
        _exit = start(this);
    }

    public string Stdout
    {
        get
        {
            lock (_out)
            {
                return _out.ToString();
            }
        }
    }

    public string Stderr
    {
        get
        {
            lock (_err)
            {
                return _err.ToString();
            }
        }
    }

    /// <summary>Writes a line to stdin; null closes stdin.</summary>
    public Task WriteLineAsync(string? line) => _write(line);

    /// <summary>Waits until <paramref name="done"/> holds for (stdout, stderr), or fails after 20 s.</summary>
    public async Task WaitForAsync(Func<string, string, bool> done, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!done(Stdout, Stderr))
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}");
            Assert.False(_exit.IsCompleted && !done(Stdout, Stderr), $"exited ({(_exit.IsCompletedSuccessfully ? _exit.Result : -1)}) before {what}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}");
            await Task.Delay(20);
        }
    }

    /// <summary>The exit code once it ends by itself (fails after <paramref name="seconds"/>, 20 by default).</summary>
    public Task<int> ExitAsync(int seconds = 20) => _exit.WaitAsync(TimeSpan.FromSeconds(seconds));

    /// <summary>Stops it (kills etcdctl, interrupts ketchctl) and returns its exit code (fails after 20 s).</summary>
    public async Task<int> StopAsync()
    {
        if (!_exit.IsCompleted)
        {
            await _stop();
        }
        return await _exit.WaitAsync(TimeSpan.FromSeconds(20));
    }

    /// <summary>Stops it (kills etcdctl, interrupts ketchctl) if still running.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_exit.IsCompleted)
        {
            await _stop();
        }
        try
        {
            await _exit.WaitAsync(TimeSpan.FromSeconds(20));
        }
        catch (Exception) when (_exit.IsFaulted || _exit.IsCanceled)
        {
        }
    }

    public static LiveRun Etcdctl(string endpoint, string[] args, Dictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo(Tools.Require("etcdctl", "etcd-client"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("--endpoints=" + endpoint);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        psi.Environment["ETCDCTL_API"] = "3";
        foreach (var (k, v) in env ?? [])
        {
            psi.Environment[k] = v;
        }
        var p = Process.Start(psi)!;
        return new LiveRun(
            async line =>
            {
                if (line is null)
                {
                    p.StandardInput.Close();
                }
                else
                {
                    await p.StandardInput.WriteAsync(line + "\n");
                    await p.StandardInput.FlushAsync();
                }
            },
            () =>
            {
                // The caller then awaits the exit through the run's task. Waiting here raced with
                // that task, which disposes the process once it exits ("No process is associated").
                try
                {
                    p.Kill();
                }
                catch (InvalidOperationException)
                {
                    // Exited and disposed already.
                }
                return Task.CompletedTask;
            },
            async run =>
            {
                var o = Pump(p.StandardOutput, run._out);
                var e = Pump(p.StandardError, run._err);
                await p.WaitForExitAsync();
                await Task.WhenAll(o, e);
                var code = p.ExitCode;
                p.Dispose();
                return code;
            });
    }

    /// <summary>ketchctl in-process; <paramref name="clock"/> times its periodic output (null: the system's).</summary>
    public static LiveRun Ketchctl(string endpoint, string[] args, Dictionary<string, string>? env = null, TimeProvider? clock = null)
    {
        var stdin = new ChannelReader();
        var cts = new CancellationTokenSource();
        return new LiveRun(
            line =>
            {
                stdin.Feed(line);
                return Task.CompletedTask;
            },
            async () =>
            {
                try
                {
                    await cts.CancelAsync();
                }
                catch (ObjectDisposedException)
                {
                    // It ended (and disposed its token source) in the meantime.
                }
            },
            async run =>
            {
                var o = new BuilderWriter(run._out);
                var e = new BuilderWriter(run._err);
                try
                {
                    return await Task.Run(() => Runner.RunAsync(["--endpoints=" + endpoint, .. args], o, e, stdin, env ?? [], cts.Token, clock: clock));
                }
                finally
                {
                    cts.Dispose();
                }
            });
    }

    private static async Task Pump(StreamReader reader, StringBuilder into)
    {
        var buf = new char[4096];
        int n;
        while ((n = await reader.ReadAsync(buf)) > 0)
        {
            lock (into)
            {
                into.Append(buf, 0, n);
            }
        }
    }

    /// <summary>A thread-safe writer into a string builder.</summary>
    private sealed class BuilderWriter(StringBuilder into) : TextWriter
    {
        public override Encoding Encoding => Encoding.UTF8;

        public override void Write(char value)
        {
            lock (into)
            {
                into.Append(value);
            }
        }

        public override void Write(string? value)
        {
            lock (into)
            {
                into.Append(value);
            }
        }

        public override void Write(char[] buffer, int index, int count)
        {
            lock (into)
            {
                into.Append(buffer, index, count);
            }
        }

        public override Task WriteAsync(string? value)
        {
            Write(value);
            return Task.CompletedTask;
        }

        public override Task WriteAsync(char value)
        {
            Write(value);
            return Task.CompletedTask;
        }
    }

    /// <summary>stdin as lines fed by the test; null ends it.</summary>
    private sealed class ChannelReader : TextReader
    {
        private readonly Channel<string?> _lines = Channel.CreateUnbounded<string?>();
        private bool _ended;

        public void Feed(string? line)
        {
            if (line is null)
            {
                _lines.Writer.TryComplete();
            }
            else
            {
                _lines.Writer.TryWrite(line);
            }
        }

        public override async ValueTask<string?> ReadLineAsync(CancellationToken cancellationToken)
        {
            if (_ended)
            {
                return null;
            }
            if (await _lines.Reader.WaitToReadAsync(cancellationToken) && _lines.Reader.TryRead(out var line))
            {
                return line;
            }
            _ended = true;
            return null;
        }

        public override Task<string?> ReadLineAsync() => ReadLineAsync(CancellationToken.None).AsTask();

        public override string? ReadLine() => ReadLineAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();

        public override string ReadToEnd()
        {
            var sb = new StringBuilder();
            while (ReadLine() is { } l)
            {
                sb.Append(l).Append('\n');
            }
            return sb.ToString();
        }

        public override Task<string> ReadToEndAsync() => Task.Run(ReadToEnd);
    }
}
