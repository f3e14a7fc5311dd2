namespace Issuer2.Core.Wallet;

/// <summary>
/// The OID4VCI versions a credential request may speak on the same offer. Its shape says which (a singular
/// <c>proof</c>, <c>format</c> or <c>vct</c>: draft 13; otherwise 1.0); docs/wallet-endpoints.md states the rule.
/// </summary>
public enum Oid4vciVersion
{
    /// <summary>OpenID for Verifiable Credential Issuance 1.0 (final).</summary>
    V1,

    /// <summary>OpenID for Verifiable Credential Issuance draft 13 (openid-4-verifiable-credential-issuance-1_0-13).</summary>
    Draft13,
}
