using System.Net.Sockets;
using Ketch.Server.Peer;
using Xunit;

namespace Ketch.Server.Tests;

public sealed class AcceptLoopTests
{
    /// <summary>Accepts that fail in the order given (null: succeed), then wait for the stop.</summary>
    private sealed class ScriptedAccepts(params SocketError?[] script)
    {
        private int _next;

        public List<TcpClient> Served { get; } = [];

        public List<TimeSpan> Waits { get; } = [];

        public TaskCompletionSource ScriptDone { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async ValueTask<TcpClient> Accept(CancellationToken ct)
        {
            if (_next == script.Length)
            {
                ScriptDone.TrySetResult();
                await Task.Delay(Timeout.Infinite, ct);
            }
            var step = script[_next++];
            return step is { } error ? throw new SocketException((int)error) : new TcpClient();
        }
    }

    [Fact]
    public async Task Failed_accepts_are_retried_with_a_growing_wait_and_the_loop_goes_on_serving()
    {
        var accepts = new ScriptedAccepts(SocketError.TooManyOpenSockets, SocketError.TooManyOpenSockets, null, SocketError.NoBufferSpaceAvailable, null);
        using var stop = new CancellationTokenSource();
        var loop = AcceptLoop.RunAsync(accepts.Accept, accepts.Served.Add, (_, wait) => accepts.Waits.Add(wait), TimeProvider.System, stop.Token);

        await accepts.ScriptDone.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(2, accepts.Served.Count);
        // 5 ms, doubled on the next failure, back to 5 ms after a connection was accepted.
        Assert.Equal([TimeSpan.FromMilliseconds(5), TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(5)], accepts.Waits);

        await stop.CancelAsync();
        await loop.WaitAsync(TimeSpan.FromSeconds(10));
        foreach (var c in accepts.Served)
        {
            c.Dispose();
        }
    }

    [Fact]
    public async Task An_accept_failing_because_the_listener_stopped_ends_the_loop()
    {
        using var stop = new CancellationTokenSource();
        var failures = 0;
        var loop = AcceptLoop.RunAsync(
            async ct =>
            {
                await stop.CancelAsync(); // the transport stops: its listener's pending accept fails
                throw new SocketException((int)SocketError.OperationAborted);
            },
            _ => { },
            (_, _) => failures++,
            TimeProvider.System,
            stop.Token);
        await loop.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, failures);
    }
}
