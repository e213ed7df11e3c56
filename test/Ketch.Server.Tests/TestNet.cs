using System.Net;
using System.Net.Sockets;

namespace Ketch.Server.Tests;

/// <summary>Free loopback ports (never 2379/2380) and polling with a deadline.</summary>
internal static class TestNet
{
    private static readonly HashSet<(string Ip, int Port)> s_handedOut = [];

    /// <summary>A port free on <paramref name="ip"/> right now, and never handed out before in this
    /// process: tests run in parallel, and a member restarted on its old ports must not find them
    /// taken by a cluster that another test started meanwhile.</summary>
    public static int FreePort(string ip = "127.0.0.1")
    {
        while (true)
        {
            using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            s.Bind(new IPEndPoint(IPAddress.Parse(ip), 0));
            var port = ((IPEndPoint)s.LocalEndPoint!).Port;
            if (port is (2379 or 2380))
            {
                continue;
            }
            lock (s_handedOut)
            {
                if (s_handedOut.Add((ip, port)))
                {
                    return port;
                }
            }
        }
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or the deadline passes (then fails).</summary>
    public static async Task WaitUntil(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (Exception e)
            {
                last = e;
            }
            await Task.Delay(20);
        }
        throw new TimeoutException($"timed out waiting for {what}" + (last is null ? "" : $" (last error: {last.Message})"));
    }

    public static Task WaitUntil(Func<bool> condition, TimeSpan timeout, string what) =>
        WaitUntil(() => Task.FromResult(condition()), timeout, what);
}
