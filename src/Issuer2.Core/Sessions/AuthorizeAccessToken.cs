using Issuer2.Core.Common;
using Issuer2.Core.Metadata;
using Issuer2.Core.Offers;
using Issuer2.Core.Security;
using Issuer2.Core.Wallet;

namespace Issuer2.Core.Sessions;

/// <summary>
/// What an access token opens: its session and offer (none for a wallet-initiated session), when the token expires, the live tenant's version stamp,
/// the credential the session already received (its one configuration's, if any), and the thumbprint of the DPoP key the token is bound to (null: a
/// bearer token) — all in the one read the credential and notification endpoints make.
/// </summary>
public sealed record SessionAccess(IssuanceSession Session, Offer? Offer, DateTimeOffset TokenExpiresAt, long TenantVersion, IssuedCredential? Issued, string? DpopJkt)
{
    /// <summary>Whether the session already received its credential: a lost response is not sent again.</summary>
    public bool AlreadyIssued => Issued is not null;
}

/// <summary>What an access token was found to open, with the tenant as wallets see it; a fresh DPoP-Nonce when the tenant requires them.</summary>
public sealed record AuthorizedSession(TenantSnapshot Tenant, SessionAccess Access)
{
    public string? DpopNonce { get; init; }
}

/// <summary>
/// How a request to a protected resource presents its access token: the Authorization scheme (Bearer or DPoP) and
/// token, the DPoP header, and the request's method and path under the credential issuer (for the proof's htm and htu).
/// </summary>
public sealed record ResourceRequest(string? Scheme, string? AccessToken, Dpop.DpopHeader Dpop, string Method, string Path);

/// <summary>What authorizing an access token reads.</summary>
public interface ISessionAccessStore
{
    /// <summary>The session an access token opens, when its tenant is live.</summary>
    Task<SessionAccess?> FindSessionByTokenAsync(string tenantId, byte[] tokenHash, CancellationToken ct);
}

/// <summary>
/// The protected resources' gate (credential, notification; RFC 6750, RFC 9449 §7): the access token opens a session.
/// Unknown, expired and other tenants' tokens, and tokens of revoked offers, are invalid_token; a DPoP-bound token
/// needs the DPoP scheme and a proof of its key.
/// </summary>
public sealed class AuthorizeAccessToken(TenantDirectory tenants, ISessionAccessStore store, Dpop.SenderConstraint sender, IRateGate gate, TimeProvider clock)
{
    public const int MaxTokenLength = 128;

    public async Task<Result<AuthorizedSession, WalletError>> ExecuteAsync(string tenantId, ResourceRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        var accessToken = request.AccessToken;
        var invalid = WalletError.InvalidToken("The access token is missing, unknown, expired or revoked.") with
        {
            DpopChallenge = string.Equals(request.Scheme, Dpop.SenderConstraint.Scheme, StringComparison.OrdinalIgnoreCase),
        };
        if (string.IsNullOrEmpty(accessToken) || accessToken.Length > MaxTokenLength) return invalid;
        var access = await store.FindSessionByTokenAsync(tenantId, Secrets.Hash(accessToken), ct);
        if (access is null || access.TokenExpiresAt <= clock.UtcNow() || access.Offer?.RevokedAt is not null) return invalid;
        // Too many credential and notification requests for the sessions of one offer: refused before the body is read.
        if (access.Session.OfferId is { } offerId && gate.Refusal(OfferLimit.Session, tenantId, offerId) is { } limited) return limited;
        var snapshot = await tenants.GetAsync(tenantId, access.TenantVersion, ct);
        if (snapshot is null) return invalid;
        var refused = await sender.CheckResourceAsync(snapshot.Tenant, request.Scheme!, accessToken, access.DpopJkt, request.Dpop, request.Method, request.Path, ct);
        if (refused is not null) return refused;
        return new AuthorizedSession(snapshot, access) { DpopNonce = access.DpopJkt is null ? null : sender.FreshNonce(snapshot.Tenant) };
    }
}
