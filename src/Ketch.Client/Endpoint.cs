namespace Ketch.Client;

/// <summary>Helpers for the endpoint strings etcd tools accept.</summary>
public static class Endpoint
{
    /// <summary>Turns <c>host:port</c> into <c>http://host:port</c>; leaves URLs with a scheme as they are.
    /// <c>unix://</c> is not supported.</summary>
    /// <param name="endpoint">An endpoint as given by a user.</param>
    /// <returns>An absolute URI.</returns>
    public static Uri Normalize(string endpoint)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(endpoint);
        var e = endpoint.Trim();
        if (!e.Contains("://", StringComparison.Ordinal))
        {
            e = "http://" + e;
        }
        return new Uri(e);
    }
}
