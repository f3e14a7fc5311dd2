using Issuer2.Core.Common;
using Issuer2.Core.Events;
using Issuer2.Core.Nonces;
using Issuer2.Core.Profiles;
using Issuer2.Core.Security;
using Issuer2.Core.Sessions;
using Issuer2.Core.Wallet;

namespace Issuer2.Core.Credentials;

/// <summary>
/// A credential request, shape-checked at the edge, in either version's shape: OID4VCI 1.0 §8.2 (exactly one of
/// <c>credential_configuration_id</c> and <c>credential_identifier</c>, the key proofs of <c>proofs.jwt</c>) or
/// draft 13 §7.2 (<see cref="Type"/>, from <c>format</c> and <c>vct</c>, or <c>credential_identifier</c>; the one
/// <c>proof</c>). Both go through the same rules; <see cref="Version"/> only picks the answer's shape and codes.
/// </summary>
public sealed record CredentialRequest(string? CredentialConfigurationId, string? CredentialIdentifier, IReadOnlyList<string> JwtProofs)
{
    /// <summary>The version the request's shape speaks.</summary>
    public Oid4vciVersion Version { get; init; } = Oid4vciVersion.V1;

    /// <summary>Draft 13: the format and type named instead of a configuration id.</summary>
    public RequestedCredentialType? Type { get; init; }
}

/// <summary>What a draft-13 request names by <c>format</c> (an identifier as the wallet wrote it) and, for SD-JWT VC, <c>vct</c>.</summary>
public sealed record RequestedCredentialType(string Format, string? Vct);

/// <summary>
/// A successful credential response: one credential and the id the wallet notifies with; for a draft-13 request
/// the next <see cref="CNonce"/> too (draft 13 §7.3).
/// </summary>
public sealed record CredentialResponse(string Credential, string NotificationId)
{
    public FreshCNonce? CNonce { get; init; }
}

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
    ICredentialIssuanceStore store, IEventJournal journal, ProofValidator proofs, NonceService nonces, SignerCache signers, KeyRing keys,
    TimeProvider clock)
{
    private readonly SecretProtector _secrets = keys.Protector(KeyPurpose.SecretsAtRest);

    /// <summary>Issues for a session <see cref="AuthorizeAccessToken"/> found.</summary>
    public async Task<Result<CredentialResponse, WalletError>> ExecuteAsync(AuthorizedSession authorized, CredentialRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(authorized);
        ArgumentNullException.ThrowIfNull(request);
        var result = await IssueForSessionAsync(authorized, request, ct);
        if (!result.IsSuccess) return await RefuseAsync(authorized, result.Error, request.Version, ct);
        return request.Version == Oid4vciVersion.Draft13
            ? result.Value with { CNonce = nonces.Fresh(authorized.Access.Session.TenantId) }
            : result;
    }

    /// <summary>Records a refusal decided before a request could be read (a body of the wrong shape).</summary>
    public Task RecordRefusalAsync(AuthorizedSession authorized, WalletError error, CancellationToken ct) => RefuseAsync(authorized, error, null, ct);

    /// <summary>
    /// The refusal as a wallet of <paramref name="version"/> is told it (null: a shape that spoke no one version),
    /// recorded on the session with the code sent and the version.
    /// </summary>
    public async Task<WalletError> RefuseAsync(AuthorizedSession authorized, WalletError error, Oid4vciVersion? version, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(authorized);
        ArgumentNullException.ThrowIfNull(error);
        var session = authorized.Access.Session;
        var sent = version == Oid4vciVersion.Draft13 ? Draft13Errors.Of(error, () => nonces.Fresh(session.TenantId)) : error;
        await journal.RecordRefusalAsync(
            Refusal.Credential(session.TenantId, sent.SpecCode, session.OfferId, session.Id, session.ConfigurationId, version), clock.UtcNow(), ct);
        return sent;
    }

    private async Task<Result<CredentialResponse, WalletError>> IssueForSessionAsync(AuthorizedSession authorized, CredentialRequest request, CancellationToken ct)
    {
        var (snapshot, access) = (authorized.Tenant, authorized.Access);
        var session = access.Session;
        var tenant = snapshot.Tenant;
        ProfileDefinition? definition = null;

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
            if (request.Type is { } type)
            {
                definition = await DefinitionAsync(snapshot, session, ct);
                if (Draft13Errors.TypeProblem(type, definition, snapshot.Profiles.Values) is { } problem) return problem;
            }
            else if (request.CredentialConfigurationId != session.ConfigurationId)
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
        definition ??= await DefinitionAsync(snapshot, session, ct);
        var key = snapshot.ActiveKey ?? throw new InvalidOperationException("The tenant has no active signing key.");
        var format = CredentialFormats.Of(definition);
        var now = clock.UtcNow();
        var expiresAt = now + definition.CredentialValidity;
        var credential = format.Issue(
            new CredentialToIssue(tenant.CredentialIssuer, definition, now, expiresAt, proof.Value.HolderKeyJson,
                CredentialFormats.Merge(definition.Claims, definition.DefaultValues, access.Offer?.Overrides ?? [],
                    Authorization.ClaimsAtRest.Open(_secrets, session.EncryptedClaims, Authorization.ClaimsAtRest.ForSession(session.TenantId, session.Id))),
                request.Version == Oid4vciVersion.Draft13 ? CredentialFormats.Draft13IssuedAs(format.Identifier, request.Type?.Format) : null),
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
                new EventDetails.CredentialIssued(session.ConfigurationId, format.Identifier, record.Id, request.Version), session.OfferId, session.Id, session.ConfigurationId),
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

    /// <summary>The profile version the session issues from: the snapshot's when current, else read from storage.</summary>
    private async Task<ProfileDefinition> DefinitionAsync(Metadata.TenantSnapshot snapshot, IssuanceSession session, CancellationToken ct) =>
        snapshot.CurrentDefinition(session.ConfigurationId, session.ProfileUid, session.ProfileVersion)
            ?? (await store.FindProfileVersionAsync(session.ProfileUid, session.ProfileVersion, ct))?.Definition
            ?? throw new InvalidOperationException("A session names a profile version that does not exist.");
}
