namespace Issuer2.Core.Wallet;

/// <summary>Names OID4VCI 1.0 and RFC 9396 give the wallet flow, written once.</summary>
public static class Oid4vci
{
    /// <summary>The authorization_details type of a credential request (OID4VCI 1.0 §5.1.1).</summary>
    public const string AuthorizationDetailsType = "openid_credential";

    /// <summary>The only proof type Issuer2 accepts (OID4VCI 1.0 Appendix F.1).</summary>
    public const string JwtProofType = "jwt";
}
