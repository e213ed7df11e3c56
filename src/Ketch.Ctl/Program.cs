using System.Collections;
using System.Text;

namespace Ketch.Ctl;

/// <summary>The <c>ketchctl</c> entry point.</summary>
public static class Program
{
    /// <summary>Runs ketchctl with the process's arguments, environment and console.</summary>
    /// <param name="args">Command-line arguments.</param>
    /// <returns>The exit code (etcdctl's).</returns>
    public static async Task<int> Main(string[] args)
    {
        using var interrupt = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            interrupt.Cancel();
        };
        using var term = System.Runtime.InteropServices.PosixSignalRegistration.Create(
            System.Runtime.InteropServices.PosixSignal.SIGTERM, c =>
            {
                c.Cancel = true;
                interrupt.Cancel();
            });
        var env = Environment.GetEnvironmentVariables().Cast<DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? "");
        var utf8 = new UTF8Encoding(false);
        await using var stdout = new StreamWriter(Console.OpenStandardOutput(), utf8) { AutoFlush = true };
        await using var stderr = new StreamWriter(Console.OpenStandardError(), utf8) { AutoFlush = true };
        using var stdin = new StreamReader(Console.OpenStandardInput(), utf8);
        return await Runner.RunAsync(args, stdout, stderr, stdin, env, interrupt.Token, stdinIsTerminal: !Console.IsInputRedirected).ConfigureAwait(false);
    }
}
