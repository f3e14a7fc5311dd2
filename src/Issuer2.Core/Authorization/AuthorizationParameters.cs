using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Issuer2.Core.Offers;

namespace Issuer2.Core.Authorization;

/// <summary>
/// The parameters of an authorization request (RFC 6749 §4.1.1, RFC 7636, RFC 9126, RFC 8707, OID4VCI 1.0 §5.1), as
/// the edge read them: each at most once. The same record serves a pushed request and one sent to /authorize directly.
/// </summary>
public sealed record AuthorizationParameters(
    string? ClientId,
    string? ResponseType,
    string? RedirectUri,
    string? CodeChallenge,
    string? CodeChallengeMethod,
    string? Scope,
    string? AuthorizationDetails,
    string? IssuerState,
    string? State,
    string? Resource,
    string? RequestUri,
    string? DpopJkt = null);

/// <summary>PKCE with S256 only (RFC 7636 §4.2; HAIP 1.0 §4): the challenge and verifier shapes and their check.</summary>
public static class Pkce
{
    public const string S256 = "S256";

    /// <summary>BASE64URL(SHA-256(verifier)) is always 43 characters.</summary>
    public static bool IsWellFormedChallenge(string? challenge) =>
        challenge is { Length: 43 } && challenge.All(IsBase64Url);

    /// <summary>43 to 128 unreserved characters (RFC 7636 §4.1).</summary>
    public static bool IsWellFormedVerifier(string? verifier) =>
        verifier is { Length: >= 43 and <= 128 } && verifier.All(c => IsBase64Url(c) || c is '.' or '~');

    public static string Challenge(string verifier) =>
        Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));

    /// <summary>Whether the verifier hashes to the challenge, compared in constant time.</summary>
    public static bool Verifies(string verifier, string challenge) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Challenge(verifier)), Encoding.ASCII.GetBytes(challenge));

    private static bool IsBase64Url(char c) => c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_';
}

/// <summary>The URN a pushed request's request_uri carries (RFC 9126 §2.2).</summary>
public static class RequestUris
{
    public const string Prefix = "urn:ietf:params:oauth:request_uri:";

    public static string For(string token) => Prefix + token;

    /// <summary>The secret part of a request_uri, or null when it is not ours in shape.</summary>
    public static string? TokenOf(string? requestUri) =>
        requestUri is { Length: > 0 and <= 200 } && requestUri.StartsWith(Prefix, StringComparison.Ordinal) && requestUri.Length > Prefix.Length
            ? requestUri[Prefix.Length..]
            : null;
}

/// <summary>The grant name of the authorization code flow, beside <see cref="CredentialOfferDocument.PreAuthorizedGrant"/>.</summary>
public static class AuthorizationGrant
{
    public const string Type = "authorization_code";
}
