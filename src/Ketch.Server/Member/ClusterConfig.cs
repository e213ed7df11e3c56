namespace Ketch.Server.Member;

/// <summary>The initial cluster of <c>--initial-cluster</c>: names, peer URLs, derived ids.</summary>
internal static class ClusterConfig
{
    /// <summary>Parses <c>name=url,name=url2,other=url3</c> (a name may repeat for several URLs).</summary>
    public static IReadOnlyList<MemberInfo> Parse(string initialCluster, string token)
    {
        var byName = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var part in initialCluster.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || eq == part.Length - 1)
            {
                throw new ArgumentException($"--initial-cluster: \"{part}\" is not name=url");
            }
            var name = part[..eq];
            var url = part[(eq + 1)..];
            if (!Uri.TryCreate(url, UriKind.Absolute, out _))
            {
                throw new ArgumentException($"--initial-cluster: \"{url}\" is not a URL");
            }
            if (!byName.TryGetValue(name, out var urls))
            {
                byName[name] = urls = [];
                order.Add(name);
            }
            urls.Add(url);
        }
        return [.. order.Select(n => new MemberInfo(MemberIds.MemberId(byName[n], token), n, byName[n], [], false))];
    }
}
