using Issuer2.Core.Events;
using Issuer2.Core.Offers;
using Issuer2.Core.Sessions;

namespace Issuer2.Core.Authorization;

/// <summary>An issuer_state with its offer, as the authorization endpoint finds them.</summary>
public sealed record IssuerStateWithOffer(IssuerState State, Offer Offer);

/// <summary>
/// What the authorization server reads and writes. Every step is a conditional update on the request's stage, so a
/// step taken twice — on one host or two — takes effect once.
/// </summary>
public interface IAuthorizationStore
{
    /// <summary>An offer, untracked.</summary>
    Task<Offer?> FindOfferAsync(string tenantId, string offerId, CancellationToken ct);

    Task<Profiles.ProfileVersion?> FindProfileVersionAsync(Guid profileUid, int version, CancellationToken ct);

    Task<IssuerStateWithOffer?> FindIssuerStateAsync(string tenantId, byte[] stateHash, CancellationToken ct);

    /// <summary>Whether the profile has an active AUTHORIZED offer with issuer_state OMIT: the open door of wallet-initiated issuance.</summary>
    Task<bool> HasOpenDoorAsync(string tenantId, string profileId, DateTimeOffset now, CancellationToken ct);

    Task<Authorization?> FindAsync(string tenantId, string authorizationId, CancellationToken ct);

    Task<Authorization?> FindByRequestUriAsync(string tenantId, byte[] requestUriHash, CancellationToken ct);

    Task<Authorization?> FindByProviderStateAsync(string tenantId, byte[] stateHash, CancellationToken ct);

    Task<Authorization?> FindByCodeAsync(string tenantId, byte[] codeHash, CancellationToken ct);

    /// <summary>Stores a new request with its event.</summary>
    Task AddAsync(Authorization authorization, IssuerEvent requested, CancellationToken ct);

    /// <summary>
    /// <see cref="AuthorizationStage.Requested"/> → <see cref="AuthorizationStage.AtProvider"/>, writing the browser binding and
    /// our request to the IdP; when the request was pushed, only while its request_uri has not expired at <paramref name="now"/>.
    /// </summary>
    Task<bool> SendToProviderAsync(Authorization authorization, DateTimeOffset now, CancellationToken ct);

    /// <summary><see cref="AuthorizationStage.AtProvider"/> → <see cref="AuthorizationStage.Authenticated"/> with the encrypted claims.</summary>
    Task<bool> AuthenticateAsync(Authorization authorization, IssuerEvent authenticated, CancellationToken ct);

    /// <summary><see cref="AuthorizationStage.Authenticated"/> → <see cref="AuthorizationStage.CodeIssued"/> with the code's hash and end.</summary>
    Task<bool> IssueCodeAsync(Authorization authorization, IssuerEvent issued, CancellationToken ct);

    /// <summary><paramref name="from"/> → <see cref="AuthorizationStage.Refused"/>, dropping the claims and our IdP request.</summary>
    Task<bool> RefuseAsync(Authorization authorization, AuthorizationStage from, IssuerEvent refused, CancellationToken ct);

    /// <summary>
    /// One transaction: <see cref="AuthorizationStage.CodeIssued"/> → <see cref="AuthorizationStage.Redeemed"/> while the code
    /// lives at <paramref name="now"/>; one use of the offer (<see cref="OfferRules.Usable"/>) and a single-use issuer_state
    /// when the request has them; the session and its token; the event. False, and nothing written, when any was gone.
    /// </summary>
    Task<bool> RedeemAsync(
        Authorization authorization, DateTimeOffset now, IssuanceSession session, AccessToken token, IssuerEvent issued, CancellationToken ct);

    /// <summary>A code used again: the access token its first use produced is revoked (RFC 6749 §4.1.2), with the event.</summary>
    Task RevokeTokensAsync(Authorization authorization, IssuerEvent refused, CancellationToken ct);
}
