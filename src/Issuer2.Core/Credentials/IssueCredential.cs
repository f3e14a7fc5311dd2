using Issuer2.Core.Common;
using Issuer2.Core.Events;
using Issuer2.Core.Nonces;
using Issuer2.Core.Profiles;
using Issuer2.Core.Security;
using Issuer2.Core.Sessions;
using Issuer2.Core.Wallet;

namespace Issuer2.Core.Credentials;

/// <summary>
/// A credential request (OID4VCI 1.0 §8.2), shape-checked at the edge: exactly one of the two names of what it
/// asks for, and the key proofs (<c>proofs.jwt</c>) as compact JWTs.
/// </summary>
public sealed record CredentialRequest(string? CredentialConfigurationId, string? CredentialIdentifier, IReadOnlyList<string> JwtProofs);

/// <summary>A successful credential response: one credential and the id the wallet notifies with.</summary>
public sealed record CredentialResponse(string Credential, string NotificationId);

/// <summary>The outcome of recording an issuance.</summary>
public enum IssueOutcome
{
    Issued,
    NonceAlreadyUsed,
    AlreadyIssued,
}

/// <summary>What issuing a credential reads and writes.</summary>
public interface ICredentialIssuanceStore
{
    Task<ProfileVersion?> FindProfileVersionAsync(Guid profileUid, int version, CancellationToken ct);

    /// <summary>
    /// One transaction: consumes the nonce (a unique key), records the credential (unique per session and
    /// configuration), counts it on the offer, completes the session and drops its sign-in claims, appends the events.
    /// </summary>
    Task<IssueOutcome> IssueAsync(ConsumedNonce nonce, IssuedCredential credential, IssuanceSession session, IReadOnlyList<IssuerEvent> events, CancellationToken ct);
}

/// <summary>
/// The credential endpoint (OID4VCI 1.0 §8): the request names the configuration the session grants; the key proof
/// is checked before its nonce is consumed; the credential is issued by the profile's format, bound to the proof's
/// key; at most one credential per session and configuration. Every refusal is recorded on the session.
/// </summary>
public sealed class IssueCredential(
    ICredentialIssuanceStore store, IEventJournal journal, ProofValidator proofs, NonceService nonces, SignerCache signers, SecretProtector protector,
    TimeProvider clock)
{
    /// <summary>Issues for a session <see cref="AuthorizeAccessToken"/> found.</summary>
    public async Task<Result<CredentialResponse, WalletError>> ExecuteAsync(AuthorizedSession authorized, CredentialRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(authorized);
        ArgumentNullException.ThrowIfNull(request);
        var result = await IssueForSessionAsync(authorized, request, ct);
        if (!result.IsSuccess) await RecordRefusalAsync(authorized, result.Error, ct);
        return result;
    }

    /// <summary>Records a refusal decided before a request could be read (a body of the wrong shape).</summary>
    public Task RecordRefusalAsync(AuthorizedSession authorized, WalletError error, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(authorized);
        ArgumentNullException.ThrowIfNull(error);
        var session = authorized.Access.Session;
        return journal.RecordRefusalAsync(Refusal.Credential(session.TenantId, error.SpecCode, session.OfferId, session.Id, session.ConfigurationId), clock.UtcNow(), ct);
    }

    private async Task<Result<CredentialResponse, WalletError>> IssueForSessionAsync(AuthorizedSession authorized, CredentialRequest request, CancellationToken ct)
    {
        var (snapshot, access) = (authorized.Tenant, authorized.Access);
        var session = access.Session;
        var tenant = snapshot.Tenant;

        if (session.CredentialIdentifier is not null)
        {
            // The token response named identifiers: the wallet must use them (§8.2).
            if (request.CredentialIdentifier is null)
                return WalletError.InvalidCredentialRequest("The token response returned credential_identifiers: send credential_identifier.");
            if (request.CredentialIdentifier != session.CredentialIdentifier)
                return new WalletError(WalletErrorCode.UnknownCredentialIdentifier, "The credential_identifier is unknown.");
        }
        else
        {
            if (request.CredentialIdentifier is not null)
                return new WalletError(WalletErrorCode.UnknownCredentialIdentifier, "No credential_identifiers were issued with this token.");
            if (request.CredentialConfigurationId != session.ConfigurationId)
            {
                return snapshot.Profiles.ContainsKey(request.CredentialConfigurationId!)
                    ? WalletError.Denied("This access token does not grant that credential configuration.")
                    : new WalletError(WalletErrorCode.UnknownCredentialConfiguration, "The credential configuration is unknown.");
            }
        }
        if (request.JwtProofs.Count > 1) return WalletError.InvalidCredentialRequest("Batch issuance is not supported: send one proof.");

        // One credential response per session and configuration: a lost response is not sent again.
        if (access.AlreadyIssued) return WalletError.Denied("The credential of this session was already issued.");

        // The proof, then its nonce: checked before it is consumed.
        var proof = await proofs.ValidateAsync(request.JwtProofs[0], tenant.CredentialIssuer, session.ClientId);
        if (!proof.IsSuccess) return proof.Error;
        var nonce = nonces.Verify(tenant.Id, proof.Value.Nonce);
        if (nonce is null) return WalletError.InvalidNonce("The c_nonce is unknown, expired or used; get a fresh one from the nonce endpoint.");

        // Build and sign before the short transaction that makes it count.
        var definition = snapshot.CurrentDefinition(session.ConfigurationId, session.ProfileUid, session.ProfileVersion)
            ?? (await store.FindProfileVersionAsync(session.ProfileUid, session.ProfileVersion, ct))?.Definition
            ?? throw new InvalidOperationException("A session names a profile version that does not exist.");
        var key = snapshot.ActiveKey ?? throw new InvalidOperationException("The tenant has no active signing key.");
        var format = CredentialFormats.Of(definition);
        var now = clock.UtcNow();
        var expiresAt = now + definition.CredentialValidity;
        var credential = format.Issue(
            new CredentialToIssue(tenant.CredentialIssuer, definition, now, expiresAt, proof.Value.HolderKeyJson,
                CredentialFormats.Merge(definition.Claims, definition.DefaultValues, access.Offer?.Overrides ?? [],
                    Authorization.ClaimsAtRest.Open(protector, session.EncryptedClaims, Authorization.ClaimsAtRest.ForSession(session.TenantId, session.Id)))),
            signers.For(key));

        var record = new IssuedCredential
        {
            Id = Ids.New(),
            TenantId = tenant.Id,
            SessionId = session.Id,
            OfferId = session.OfferId,
            ConfigurationId = session.ConfigurationId,
            Format = format.Identifier,
            HolderKeyThumbprint = proof.Value.Thumbprint,
            IssuedAt = now,
            ExpiresAt = expiresAt,
            NotificationId = Secrets.NewToken(16),
        };
        IssuerEvent[] events =
        [
            IssuerEvent.Create(tenant.Id, EventTypes.CredentialIssued, now,
                new EventDetails.CredentialIssued(session.ConfigurationId, format.Identifier, record.Id), session.OfferId, session.Id, session.ConfigurationId),
            IssuerEvent.Create(tenant.Id, EventTypes.SessionCompleted, now, new EventDetails.SessionCompleted(1), session.OfferId, session.Id, session.ConfigurationId),
        ];
        var outcome = await store.IssueAsync(new ConsumedNonce { NonceHash = nonce.ConsumedKey, ExpiresAt = nonce.ExpiresAt },
            record, session, events, ct);
        return outcome switch
        {
            IssueOutcome.Issued => new CredentialResponse(credential, record.NotificationId),
            IssueOutcome.NonceAlreadyUsed => WalletError.InvalidNonce("The c_nonce was already used; get a fresh one from the nonce endpoint."),
            IssueOutcome.AlreadyIssued => WalletError.Denied("The credential of this session was already issued."),
        };
    }
}
