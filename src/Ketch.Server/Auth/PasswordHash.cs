using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Ketch.Server.Auth;

/// <summary>
/// Password hashes as etcd stores them in <c>authpb.User.password</c>: bcrypt in the modular crypt
/// form <c>$2a$&lt;cost&gt;$&lt;22 chars salt&gt;&lt;31 chars hash&gt;</c> (golang.org/x/crypto/bcrypt),
/// so a user restored from an etcd snapshot into ketch, or from ketch into etcd, logs in with the
/// same password. The hash is computed once, on the member that receives the request, off the Raft
/// loop, and travels through Raft, so every member stores the same bytes.
/// Ketch before bcrypt stored <c>pbkdf2-sha256$iterations$salt$hash</c> (base64); those still verify,
/// so data directories written then keep their logins (etcd cannot read them: change the password
/// before moving such a user to etcd).
/// </summary>
internal static class PasswordHash
{
    /// <summary>etcd's <c>--bcrypt-cost</c> default (bcrypt.DefaultCost): 105-210 ms per hash or
    /// verify measured on the shared 2-core box under load (cost 4: 4-5 ms).</summary>
    public const int DefaultCost = 10;

    /// <summary>The range etcd accepts (bcrypt.MinCost, bcrypt.MaxCost).</summary>
    public const int MinCost = 4;

    /// <inheritdoc cref="MinCost"/>
    public const int MaxCost = 31;

    private const string Pbkdf2Scheme = "pbkdf2-sha256";

    /// <summary>True when etcd would use <paramref name="cost"/> as given; etcd 3.4 (auth.NewAuthStore)
    /// logs "Use default bcrypt-cost 10 instead of the invalid value N" and uses 10 otherwise.</summary>
    public static bool IsValidCost(int cost) => cost is >= MinCost and <= MaxCost;

    /// <summary>A bcrypt hash of <paramref name="password"/> (UTF-8) at <paramref name="cost"/>,
    /// minor version <c>a</c> as Go's bcrypt writes.</summary>
    public static string Hash(string password, int cost)
    {
        if (!IsValidCost(cost))
        {
            throw new ArgumentOutOfRangeException(nameof(cost), cost, $"bcrypt cost must be between {MinCost} and {MaxCost}");
        }
        return BCrypt.Net.BCrypt.HashPassword(password, BCrypt.Net.BCrypt.GenerateSalt(cost, 'a'));
    }

    /// <summary>True when <paramref name="password"/> matches <paramref name="stored"/> (bcrypt, or
    /// ketch's former PBKDF2 form); compared in constant time. An unreadable hash matches nothing.</summary>
    public static bool Verify(string password, ReadOnlySpan<byte> stored)
    {
        var text = Encoding.ASCII.GetString(stored);
        if (text.StartsWith("$2", StringComparison.Ordinal))
        {
            try
            {
                return BCrypt.Net.BCrypt.Verify(password, text);
            }
            catch (Exception e) when (e is BCrypt.Net.SaltParseException or ArgumentException or FormatException)
            {
                return false;
            }
        }
        return VerifyPbkdf2(password, text);
    }

    private static bool VerifyPbkdf2(string password, string stored)
    {
        var parts = stored.Split('$');
        if (parts.Length != 4 || parts[0] != Pbkdf2Scheme
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var iterations) || iterations <= 0)
        {
            return false;
        }
        try
        {
            var salt = Convert.FromBase64String(parts[2]);
            var expected = Convert.FromBase64String(parts[3]);
            if (expected.Length == 0)
            {
                return false;
            }
            var actual = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, expected.Length);
            return CryptographicOperations.FixedTimeEquals(actual, expected);
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
