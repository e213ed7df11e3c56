using System.Runtime.InteropServices;
using Ketch.Server;
using Microsoft.Extensions.Logging;

namespace Ketch;

/// <summary>What <c>--version</c> prints, and log level names.</summary>
internal static class VersionInfo
{
    public static string Text() =>
        $"ketch Version: {typeof(KetchServer).Assembly.GetName().Version}\n" +
        "etcd API Version: 3.5\n" +
        $".NET Version: {RuntimeInformation.FrameworkDescription}\n" +
        $"OS/Arch: {RuntimeInformation.OSDescription}/{RuntimeInformation.OSArchitecture}\n";

    public static LogLevel LogLevel(string name) => name switch
    {
        "debug" => Microsoft.Extensions.Logging.LogLevel.Debug,
        "warn" => Microsoft.Extensions.Logging.LogLevel.Warning,
        "error" or "panic" or "fatal" => Microsoft.Extensions.Logging.LogLevel.Error,
        _ => Microsoft.Extensions.Logging.LogLevel.Information,
    };
}
