namespace Ketch.Server.Auth;

/// <summary>
/// What a client's token means (etcd's <c>TokenProvider</c>, chosen with <c>--auth-token</c>):
/// <see cref="SimpleTokens"/> (opaque, held in the members' memory) or <see cref="JwtTokens"/>
/// (signed, verified by any member holding the public key, no shared state).
/// </summary>
internal interface ITokenProvider
{
    /// <summary>The caller a token stands for; null when the token is unknown, expired or forged.</summary>
    AuthInfo? Info(string token);

    /// <summary>Forgets a user's tokens (deleted user, changed password), where tokens are kept.</summary>
    void InvalidateUser(string user);

    /// <summary>Forgets every token (auth disabled, store reloaded), where tokens are kept.</summary>
    void Clear();
}
