using Issuer2.Core.Nonces;
using Issuer2.Core.Profiles;
using Issuer2.Core.Wallet;

namespace Issuer2.Core.Credentials;

/// <summary>
/// What OID4VCI draft 13 says differently from 1.0 at the credential endpoint, in one place: which configuration a
/// <c>format</c> and <c>vct</c> name (§7.2, Appendix A.3.4), and how a refusal decided by the one set of rules is
/// told to a draft-13 wallet (§7.3.1, §7.3.2). Nothing here decides a proof, a nonce or a session.
/// </summary>
public static class Draft13Errors
{
    /// <summary>
    /// Why <paramref name="type"/> does not name the session's configuration (<paramref name="granted"/>); null when it
    /// does. The format by any of its draft-13 identifiers (<see cref="CredentialFormats.Draft13Identifiers"/>); for
    /// SD-JWT VC the <c>vct</c>, which is required. Another configuration of the tenant is not granted by this token;
    /// a type nobody here issues is unsupported.
    /// </summary>
    public static WalletError? TypeProblem(RequestedCredentialType type, ProfileDefinition granted, IEnumerable<Profile> profiles)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(granted);
        if (!CredentialFormats.Draft13Identifiers.TryGetValue(type.Format, out var format) || !CredentialFormats.Issued.ContainsKey(format))
        {
            return new WalletError(WalletErrorCode.UnsupportedCredentialFormat,
                $"This issuer issues {string.Join(" (also named ", CredentialFormats.SdJwtVc, CredentialFormats.LegacySdJwtVc)}).");
        }
        if (format == CredentialFormats.SdJwtVc && string.IsNullOrEmpty(type.Vct))
            return WalletError.InvalidCredentialRequest($"vct is required with format {type.Format}.");
        if (granted.Format == format && granted.Vct == type.Vct) return null;
        return profiles.Any(p => p.Definition.Format == format && p.Definition.Vct == type.Vct)
            ? WalletError.Denied("This access token does not grant that credential type.")
            : new WalletError(WalletErrorCode.UnsupportedCredentialType, "This issuer issues no credential of that vct.");
    }

    /// <summary>
    /// A refusal as draft 13 words it: its codes (§7.3.1.2: invalid_credential_request, unsupported_credential_type,
    /// unsupported_credential_format, invalid_proof, invalid_encryption_parameters; §7.3.1.1: RFC 6750's for a token that
    /// does not enable the credential), and every invalid_proof — an unknown, used or expired nonce among them —
    /// carrying a fresh c_nonce (§7.3.2). Codes both versions share pass unchanged.
    /// </summary>
    public static WalletError Of(WalletError error, Func<FreshCNonce> freshNonce)
    {
        ArgumentNullException.ThrowIfNull(error);
        ArgumentNullException.ThrowIfNull(freshNonce);
        return error.Code switch
        {
            WalletErrorCode.InvalidProof or WalletErrorCode.InvalidNonce => error with { Code = WalletErrorCode.InvalidProof, CNonce = freshNonce() },
            WalletErrorCode.UnknownCredentialConfiguration => error with { Code = WalletErrorCode.UnsupportedCredentialType },
            WalletErrorCode.UnknownCredentialIdentifier => error with { Code = WalletErrorCode.InvalidCredentialRequest },
            // §7.3.1.1: the access token does not enable issuance of the requested credential (RFC 6750 §3.1, 403).
            WalletErrorCode.CredentialRequestDenied => error with { Code = WalletErrorCode.InsufficientScope },
            _ => error,
        };
    }
}
