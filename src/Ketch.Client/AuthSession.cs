using Grpc.Core;

namespace Ketch.Client;

/// <summary>
/// The token a client sends as <c>token</c> metadata, and how it gets one: from
/// <see cref="KetchClientOptions.Username"/> before the first request, or from an explicit
/// <see cref="AuthClient.AuthenticateAsync"/>. As etcd's clientv3, a server without auth enabled
/// is used without a token, and a rejected token is replaced once per request.
/// </summary>
internal sealed class AuthSession
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private string? _token;
    private bool _ready;

    /// <summary>Gets a token for the given credentials; null when auth is not enabled.</summary>
    public Func<string, string, CancellationToken, Task<string?>>? Login { get; set; }

    public string? Token => Volatile.Read(ref _token);

    /// <summary>The credentials in use (from the options, or the last explicit authenticate).</summary>
    public (string User, string Password)? Credentials { get; set; }

    public bool CanRefresh => Credentials is not null && Login is not null;

    public void Set(string? token, string user, string password)
    {
        Volatile.Write(ref _token, token);
        Credentials = (user, password);
        _ready = true;
    }

    /// <summary>Authenticates once, before the first request, when credentials are configured.</summary>
    public async Task EnsureAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _ready) || !CanRefresh)
        {
            return;
        }
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_ready)
            {
                var (user, password) = Credentials!.Value;
                Volatile.Write(ref _token, await Login!(user, password, cancellationToken).ConfigureAwait(false));
                Volatile.Write(ref _ready, true);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        Volatile.Write(ref _ready, false);
        await EnsureAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>clientv3's <c>shouldRefreshToken</c>: the token is unknown, or the server saw none.</summary>
    public static bool ShouldRefresh(RpcException ex) =>
        ex.Status.Detail is "etcdserver: invalid auth token" or "etcdserver: user name is empty" or "etcdserver: revision of auth store is old";
}
