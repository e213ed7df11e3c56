using System.Formats.Asn1;
using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Ketch.Server.Tls;

/// <summary>
/// The serial numbers a certificate revocation list (RFC 5280 §5.1) names, for
/// <c>--client-crl-file</c> / <c>--peer-crl-file</c>. etcd 3.4 (pkg/transport
/// <c>checkCRL</c>) parses the file (PEM <c>X509 CRL</c> or DER) and refuses a connection whose
/// certificates carry a listed serial number; it checks neither the list's signature nor its
/// issuer, and neither do we: the file is the operator's own, as trusted as the CA file.
/// </summary>
internal sealed class RevocationList
{
    private readonly HashSet<BigInteger> _serials;

    private RevocationList(HashSet<BigInteger> serials) => _serials = serials;

    /// <summary>Number of revoked serial numbers in the list.</summary>
    public int Count => _serials.Count;

    /// <summary>Reads <paramref name="file"/>.</summary>
    /// <exception cref="ArgumentException">The file is missing or is no CRL; the message names <paramref name="flagName"/>.</exception>
    public static RevocationList Load(string file, string flagName)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"{flagName} \"{file}\": {(e is FileNotFoundException or DirectoryNotFoundException ? "no such file" : e.Message)}", e);
        }
        try
        {
            return new RevocationList(Parse(Der(bytes)));
        }
        catch (Exception e) when (e is AsnContentException or CryptographicException or FormatException)
        {
            throw new ArgumentException($"{flagName} \"{file}\": not a certificate revocation list ({e.Message})", e);
        }
    }

    /// <summary>True when <paramref name="certificate"/>'s serial number is listed.</summary>
    public bool Revokes(X509Certificate2 certificate) =>
        _serials.Contains(new BigInteger(certificate.SerialNumberBytes.Span, isUnsigned: false, isBigEndian: true));

    private static byte[] Der(byte[] bytes)
    {
        var text = System.Text.Encoding.ASCII.GetString(bytes);
        if (PemEncoding.TryFind(text, out var fields) && text[fields.Label] == "X509 CRL")
        {
            return Convert.FromBase64String(text[fields.Base64Data]);
        }
        return bytes;
    }

    // CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue }
    // TBSCertList ::= SEQUENCE { version INTEGER OPTIONAL, signature AlgorithmIdentifier,
    //     issuer Name, thisUpdate Time, nextUpdate Time OPTIONAL,
    //     revokedCertificates SEQUENCE OF SEQUENCE { userCertificate INTEGER, revocationDate Time,
    //     crlEntryExtensions Extensions OPTIONAL } OPTIONAL, crlExtensions [0] EXPLICIT OPTIONAL }
    private static HashSet<BigInteger> Parse(byte[] der)
    {
        var list = new AsnReader(der, AsnEncodingRules.DER).ReadSequence();
        var tbs = list.ReadSequence();
        if (tbs.PeekTag().HasSameClassAndValue(Asn1Tag.Integer))
        {
            tbs.ReadInteger(); // version
        }
        tbs.ReadSequence(); // signature algorithm
        tbs.ReadSequence(); // issuer
        tbs.ReadEncodedValue(); // thisUpdate
        var serials = new HashSet<BigInteger>();
        if (tbs.HasData && IsTime(tbs.PeekTag()))
        {
            tbs.ReadEncodedValue(); // nextUpdate
        }
        if (tbs.HasData && tbs.PeekTag().HasSameClassAndValue(Asn1Tag.Sequence))
        {
            var revoked = tbs.ReadSequence();
            while (revoked.HasData)
            {
                var entry = revoked.ReadSequence();
                serials.Add(entry.ReadInteger());
            }
        }
        return serials;
    }

    private static bool IsTime(Asn1Tag tag) =>
        tag.HasSameClassAndValue(new Asn1Tag(UniversalTagNumber.UtcTime)) || tag.HasSameClassAndValue(new Asn1Tag(UniversalTagNumber.GeneralizedTime));
}
