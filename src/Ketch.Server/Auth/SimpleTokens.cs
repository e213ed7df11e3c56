using System.Security.Cryptography;

namespace Ketch.Server.Auth;

/// <summary>
/// etcd's <c>--auth-token simple</c>: opaque tokens <c>&lt;16 random letters&gt;.&lt;raft index&gt;</c>
/// held in memory only. The random prefix is chosen by the member that receives Authenticate and
/// travels through Raft, so every member that applies the entry knows the token (as in etcd) and a
/// client can fail over with it; a restart forgets them all and clients authenticate again.
/// A token lives <c>--auth-token-ttl</c> (default 5 minutes, etcd's <c>simpleTokenTTLDefault</c>)
/// after its last use.
/// </summary>
internal sealed class SimpleTokens(TimeProvider time, TimeSpan? ttl = null) : ITokenProvider
{
    public static readonly TimeSpan DefaultTtl = TimeSpan.FromMinutes(5);

    private readonly TimeSpan _ttl = ttl is { } t && t > TimeSpan.Zero ? t : DefaultTtl;

    private const string Letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

    private readonly Lock _lock = new();
    private readonly Dictionary<string, (string User, DateTimeOffset LastUsed)> _tokens = new(StringComparer.Ordinal);

    public static string NewPrefix() => RandomNumberGenerator.GetString(Letters, 16);

    public void Assign(string token, string user)
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            if (_tokens.Count > 1024)
            {
                // Expired tokens are dropped lazily, when the table grows.
                foreach (var (t, v) in _tokens.ToList().Where(kv => now - kv.Value.LastUsed > _ttl))
                {
                    _tokens.Remove(t);
                }
            }
            _tokens[token] = (user, now);
        }
    }

    /// <summary>The caller of a live token, renewing it; null when unknown or expired.</summary>
    public AuthInfo? Info(string token) => User(token) is { } user ? new AuthInfo(user) : null;

    /// <summary>The user of a live token, renewing it; null when unknown or expired.</summary>
    public string? User(string token)
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            if (!_tokens.TryGetValue(token, out var v))
            {
                return null;
            }
            if (now - v.LastUsed > _ttl)
            {
                _tokens.Remove(token);
                return null;
            }
            _tokens[token] = (v.User, now);
            return v.User;
        }
    }

    /// <summary>Forgets a user's tokens (deleted user, changed password).</summary>
    public void InvalidateUser(string user)
    {
        lock (_lock)
        {
            foreach (var t in _tokens.Where(kv => kv.Value.User == user).Select(kv => kv.Key).ToList())
            {
                _tokens.Remove(t);
            }
        }
    }

    /// <summary>Forgets every token (auth disabled).</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _tokens.Clear();
        }
    }
}
