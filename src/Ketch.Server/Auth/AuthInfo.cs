namespace Ketch.Server.Auth;

/// <summary>Who sent a request: the user its token belongs to (etcd's <c>auth.AuthInfo</c>).
/// A request without a token has none (null), which etcd treats as the empty user.</summary>
internal sealed record AuthInfo(string User);
