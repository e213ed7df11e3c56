namespace Ketch.Server.Auth;

/// <summary>Who sent a request: the user its token belongs to (etcd's <c>auth.AuthInfo</c>).
/// A request without a token has none (null), which etcd treats as the empty user.</summary>
/// <param name="User">The token's user.</param>
/// <param name="Revision">The auth revision the caller's rights are bound to: a JWT's
/// <c>revision</c> claim, or at apply the revision the proposal was checked at. A store that has
/// moved past it refuses key permissions with <c>revision of auth store is old</c> (etcd's
/// <c>isOpPermitted</c>). 0: the store's current revision (a simple token).</param>
internal sealed record AuthInfo(string User, ulong Revision = 0);
