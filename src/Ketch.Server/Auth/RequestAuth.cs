namespace Ketch.Server.Auth;

/// <summary>
/// What a proposal carries about its sender (etcd's <c>RequestHeader.Username</c> and
/// <c>AuthRevision</c>): the user ("" without a token) and the auth revision its permissions were
/// checked at. The applier re-checks the request with them (<see cref="AuthStore.CheckEntry"/>):
/// an auth store that moved past <see cref="Revision"/> refuses it with
/// <c>revision of auth store is old</c>, else the permission is checked again against the
/// state of that moment, so a role revoked between the check and the apply stops the write.
/// </summary>
/// <param name="User">The token's user, "" for none.</param>
/// <param name="Revision">The auth revision of the check (a JWT's own revision claim).</param>
/// <param name="Pinned">The revision comes from the token (a JWT): retrying cannot refresh it.</param>
internal sealed record RequestAuth(string User, ulong Revision, bool Pinned = false)
{
    private static readonly AsyncLocal<RequestAuth?> s_current = new();

    /// <summary>The sender of the request being served on this async flow, set by
    /// <see cref="AuthInterceptor"/> (gRPC) and the JSON gateway once the request passed its
    /// checks; proposals made for the request carry it. Null outside a client request (lease
    /// expiry, auto compaction, member attributes): those entries are not checked at apply.</summary>
    public static RequestAuth? Current
    {
        get => s_current.Value;
        set => s_current.Value = value;
    }

    /// <summary>The proposal header for <paramref name="caller"/>, checked at <paramref name="revision"/>.</summary>
    public static RequestAuth For(AuthInfo? caller, ulong revision) =>
        caller is { Revision: > 0 } jwt
            ? new RequestAuth(jwt.User, jwt.Revision, Pinned: true)
            : new RequestAuth(caller?.User ?? "", revision);
}
