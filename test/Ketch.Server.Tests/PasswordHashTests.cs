using System.Text;
using Grpc.Core;
using Ketch.Api.Etcdserverpb;
using Ketch.Server.Auth;
using AuthClient = Ketch.Api.Etcdserverpb.Auth.AuthClient;

namespace Ketch.Server.Tests;

/// <summary>Password hashes: bcrypt as etcd writes them, ketch's former PBKDF2 hashes still
/// accepted, and <c>--bcrypt-cost</c> as etcd 3.4 treats it.</summary>
public sealed class PasswordHashTests
{
    /// <summary>Written by etcd 3.4.23 (Go's bcrypt, default cost) for user add with the password
    /// "pässwörd 72+", read out of its snapshot: non-ASCII, so the UTF-8 bytes must agree too.</summary>
    private const string EtcdHash = "$2a$10$x0aPXmyVSbHu9H0NFUtOIu/xdLnqMWLIbx94CklpbSPcwXBN9Cjra";

    /// <summary>What ketch stored before bcrypt for "old-secret": PBKDF2-SHA256, 10,000 iterations,
    /// salt 00..0f, computed independently with Python's hashlib.pbkdf2_hmac.</summary>
    private const string KetchPbkdf2Hash = "pbkdf2-sha256$10000$AAECAwQFBgcICQoLDA0ODw==$NZ8rqMFIf4b8KNGOvLNwOzshQonNhNVOVTdUwUmY3Ik=";

    private static bool Verify(string password, string stored) => PasswordHash.Verify(password, Encoding.ASCII.GetBytes(stored));

    [Fact]
    public void A_hash_written_by_etcd_verifies()
    {
        Assert.True(Verify("pässwörd 72+", EtcdHash));
        Assert.False(Verify("passwörd 72+", EtcdHash));
        Assert.False(Verify("", EtcdHash));
    }

    [Fact]
    public void Hashes_are_bcrypt_2a_at_the_given_cost_and_salted()
    {
        var a = PasswordHash.Hash("secret", 4);
        var b = PasswordHash.Hash("secret", 4);
        Assert.Matches(@"^\$2a\$04\$[./A-Za-z0-9]{53}$", a);
        Assert.NotEqual(a, b);
        Assert.True(Verify("secret", a));
        Assert.False(Verify("Secret", a));
        Assert.Throws<ArgumentOutOfRangeException>(() => PasswordHash.Hash("secret", 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => PasswordHash.Hash("secret", 32));
    }

    [Fact]
    public void Old_pbkdf2_hashes_still_verify()
    {
        Assert.True(Verify("old-secret", KetchPbkdf2Hash));
        Assert.False(Verify("old-secreT", KetchPbkdf2Hash));
    }

    [Theory]
    [InlineData("")]
    [InlineData("plain")]
    [InlineData("$2a$10$short")]
    [InlineData("$2a$xx$x0aPXmyVSbHu9H0NFUtOIu/xdLnqMWLIbx94CklpbSPcwXBN9Cjra")]
    [InlineData("pbkdf2-sha256$10000$AAECAwQFBgcICQoLDA0ODw==$")]
    [InlineData("pbkdf2-sha256$0$AAECAwQFBgcICQoLDA0ODw==$NZ8rqMFIf4b8KNGOvLNwOzshQonNhNVOVTdUwUmY3Ik=")]
    [InlineData("pbkdf2-sha256$10000$not base64$NZ8rqMFIf4b8KNGOvLNwOzshQonNhNVOVTdUwUmY3Ik=")]
    public void Unreadable_hashes_match_nothing(string stored) => Assert.False(Verify("", stored) || Verify("old-secret", stored));

    private static string StoredHash(TestMember m, string user) =>
        m.Server.Loop.Auth.GetUser(user)!.Password.ToStringUtf8();

    [Fact]
    public async Task The_member_hashes_at_its_cost_and_an_invalid_cost_falls_back_to_10_as_etcd()
    {
        await using (var m = await TestMember.StartSingleAsync(o => o with { BcryptCost = 5 }))
        {
            var auth = new AuthClient(m.Channel);
            await auth.UserAddAsync(new AuthUserAddRequest { Name = "u", Password = "p1" });
            Assert.StartsWith("$2a$05$", StoredHash(m, "u"), StringComparison.Ordinal);
            await auth.UserChangePasswordAsync(new AuthUserChangePasswordRequest { Name = "u", Password = "p2" });
            var changed = StoredHash(m, "u");
            Assert.StartsWith("$2a$05$", changed, StringComparison.Ordinal);
            Assert.True(Verify("p2", changed));
        }
        // etcd 3.4 starts with a cost outside 4..31 and uses its default instead (a warning in the log).
        await using (var m = await TestMember.StartSingleAsync(o => o with { BcryptCost = 3 }))
        {
            await new AuthClient(m.Channel).UserAddAsync(new AuthUserAddRequest { Name = "u", Password = "p1" });
            Assert.StartsWith("$2a$10$", StoredHash(m, "u"), StringComparison.Ordinal);
        }
    }

    /// <summary>A user whose stored hash is ketch's former PBKDF2 (as in a data directory written
    /// before bcrypt; here sent as a prehashed password, which lands in the same bucket) logs in.</summary>
    [Fact]
    public async Task A_user_with_an_old_pbkdf2_hash_still_authenticates()
    {
        await using var m = await TestMember.StartSingleAsync();
        var auth = new AuthClient(m.Channel);
        await auth.UserAddAsync(new AuthUserAddRequest { Name = "root", HashedPassword = KetchPbkdf2Hash });
        await auth.UserGrantRoleAsync(new AuthUserGrantRoleRequest { User = "root", Role = "root" });
        await auth.AuthEnableAsync(new AuthEnableRequest());
        Assert.Equal(KetchPbkdf2Hash, StoredHash(m, "root"));
        Assert.NotEmpty((await auth.AuthenticateAsync(new AuthenticateRequest { Name = "root", Password = "old-secret" })).Token);
        var e = await Assert.ThrowsAsync<RpcException>(() => auth.AuthenticateAsync(new AuthenticateRequest { Name = "root", Password = "wrong" }).ResponseAsync);
        Assert.Equal("etcdserver: authentication failed, invalid user ID or password", e.Status.Detail);
    }
}
