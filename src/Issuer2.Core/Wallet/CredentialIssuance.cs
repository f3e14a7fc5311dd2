using System.Text.Json;
using Issuer2.Core.Common;
using Issuer2.Core.Credentials;
using Issuer2.Core.Credentials.SdJwt;
using Issuer2.Core.Events;
using Issuer2.Core.Metadata;
using Issuer2.Core.Nonces;
using Issuer2.Core.Profiles;
using Issuer2.Core.Security;
using Issuer2.Core.Sessions;

namespace Issuer2.Core.Wallet;

/// <summary>A successful credential response: one credential and the id the wallet notifies with.</summary>
public sealed record CredentialResponse(string Credential, string NotificationId);

/// <summary>What an access token was found to open.</summary>
public sealed record AuthorizedSession(TenantSnapshot Tenant, SessionAccess Access);

/// <summary>
/// The credential endpoint (OID4VCI 1.0 §8): the access token opens a session; the request names the
/// configuration it grants; the key proof is checked before its nonce is consumed; the credential is an SD-JWT VC
/// bound to the proof's key; at most one credential per session and configuration.
/// </summary>
public sealed class CredentialIssuance(
    TenantDirectory tenants, IWalletStore store, ProofValidator proofs, NonceService nonces, SignerCache signers, TimeProvider clock)
{
    /// <summary>Finds the session an access token opens: unknown, expired, other tenants' tokens and revoked offers are invalid_token.</summary>
    public async Task<WalletResult<AuthorizedSession>> AuthorizeAsync(string tenantId, string? accessToken, CancellationToken ct)
    {
        var invalid = WalletError.InvalidToken("The access token is missing, unknown, expired or revoked.");
        if (string.IsNullOrEmpty(accessToken) || accessToken.Length > 128) return invalid;
        var access = await store.FindSessionByTokenAsync(tenantId, Secrets.Hash(accessToken), ct);
        if (access is null || access.TokenExpiresAt <= clock.UtcNow() || access.Offer.RevokedAt is not null) return invalid;
        var snapshot = await tenants.GetAsync(tenantId, access.TenantVersion, ct);
        if (snapshot is null) return invalid;
        return new AuthorizedSession(snapshot, access);
    }

    /// <summary>Issues for a session <see cref="AuthorizeAsync"/> found; a refusal is recorded on the session.</summary>
    public async Task<WalletResult<CredentialResponse>> IssueAsync(AuthorizedSession authorized, JsonElement body, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(authorized);
        var (snapshot, access) = (authorized.Tenant, authorized.Access);
        var session = access.Session;
        var tenantId = snapshot.Tenant.Id;

        var result = await IssueForSessionAsync(snapshot, access, body, ct);
        if (!result.IsSuccess)
        {
            await store.AppendAsync(IssuerEvent.Create(tenantId, EventTypes.CredentialRefused, clock.UtcNow(),
                new EventDetails.CredentialRefused(result.Error.Code), session.OfferId, session.Id, session.ConfigurationId), ct);
        }
        return result;
    }

    private async Task<WalletResult<CredentialResponse>> IssueForSessionAsync(TenantSnapshot snapshot, SessionAccess access, JsonElement body, CancellationToken ct)
    {
        var session = access.Session;
        var tenant = snapshot.Tenant;

        // The request's shape (OID4VCI 1.0 §8.2).
        if (body.ValueKind != JsonValueKind.Object) return WalletError.InvalidCredentialRequest("The body must be a JSON object.");
        var configurationId = OptionalString(body, "credential_configuration_id", out var badConfiguration);
        var identifier = OptionalString(body, "credential_identifier", out var badIdentifier);
        if (badConfiguration || badIdentifier) return WalletError.InvalidCredentialRequest("credential_configuration_id and credential_identifier must be strings.");
        if ((configurationId is null) == (identifier is null))
            return WalletError.InvalidCredentialRequest("Send exactly one of credential_configuration_id and credential_identifier.");
        if (body.TryGetProperty("proof", out _)) return WalletError.InvalidCredentialRequest("proof was replaced by proofs in OID4VCI 1.0.");
        if (body.TryGetProperty("credential_response_encryption", out _))
            return new WalletError("invalid_encryption_parameters", "This issuer does not encrypt credential responses.");

        if (session.CredentialIdentifier is not null)
        {
            // The token response named identifiers: the wallet must use them (§8.2).
            if (identifier is null) return WalletError.InvalidCredentialRequest("The token response returned credential_identifiers: send credential_identifier.");
            if (identifier != session.CredentialIdentifier) return new WalletError(WalletErrors.UnknownCredentialIdentifier, "The credential_identifier is unknown.");
        }
        else
        {
            if (identifier is not null) return new WalletError(WalletErrors.UnknownCredentialIdentifier, "No credential_identifiers were issued with this token.");
            if (configurationId != session.ConfigurationId)
            {
                return snapshot.Profiles.ContainsKey(configurationId!)
                    ? WalletError.Denied("This access token does not grant that credential configuration.")
                    : new WalletError(WalletErrors.UnknownCredentialConfiguration, "The credential configuration is unknown.");
            }
        }

        if (!body.TryGetProperty("proofs", out var proofsElement)) return WalletError.InvalidProof("proofs is required.");
        if (proofsElement.ValueKind != JsonValueKind.Object) return WalletError.InvalidCredentialRequest("proofs must be an object.");
        var proofTypes = proofsElement.EnumerateObject().ToList();
        if (proofTypes.Count != 1 || proofTypes[0].Name != "jwt") return WalletError.InvalidProof("proofs must hold exactly one proof type, jwt.");
        var jwtProofs = proofTypes[0].Value;
        if (jwtProofs.ValueKind != JsonValueKind.Array || jwtProofs.GetArrayLength() == 0) return WalletError.InvalidProof("proofs.jwt must be a non-empty array.");
        if (jwtProofs.GetArrayLength() > 1) return WalletError.InvalidCredentialRequest("Batch issuance is not supported: send one proof.");
        var proofElement = jwtProofs[0];
        if (proofElement.ValueKind != JsonValueKind.String) return WalletError.InvalidProof("proofs.jwt must hold compact JWT strings.");

        // One credential response per session and configuration: a lost response is not sent again.
        if (access.AlreadyIssued) return WalletError.Denied("The credential of this session was already issued.");

        // The proof, then its nonce: checked before it is consumed.
        var proof = await proofs.ValidateAsync(proofElement.GetString(), tenant.CredentialIssuer);
        if (!proof.IsSuccess) return proof.Error;
        var nonceExpiresAt = nonces.Verify(tenant.Id, proof.Value.Nonce);
        if (nonceExpiresAt is null) return WalletError.InvalidNonce("The c_nonce is unknown, expired or used; get a fresh one from the nonce endpoint.");

        // Build and sign before the short transaction that makes it count.
        var definition = (snapshot.Profiles.TryGetValue(session.ConfigurationId, out var current) && current.Uid == session.ProfileUid && current.Version == session.ProfileVersion
            ? current.Definition
            : (await store.FindProfileVersionAsync(session.ProfileUid, session.ProfileVersion, ct))?.Definition)
            ?? throw new InvalidOperationException("A session names a profile version that does not exist.");
        var key = snapshot.ActiveKey ?? throw new InvalidOperationException("The tenant has no active signing key.");
        var now = clock.UtcNow();
        var expiresAt = now + definition.CredentialValidity;
        var credential = SdJwtVcIssuer.Issue(
            new SdJwtVcEnvelope(tenant.CredentialIssuer, definition.Vct, now, expiresAt, proof.Value.HolderKeyJson),
            SdJwtVcIssuer.Merge(definition.Claims, definition.DefaultValues, access.Offer.Overrides),
            signers.For(key));

        var record = new IssuedCredential
        {
            Id = Ids.New(),
            TenantId = tenant.Id,
            SessionId = session.Id,
            OfferId = session.OfferId,
            ConfigurationId = session.ConfigurationId,
            Format = CredentialFormats.SdJwtVc,
            HolderKeyThumbprint = proof.Value.Thumbprint,
            IssuedAt = now,
            ExpiresAt = expiresAt,
            NotificationId = Secrets.NewToken(16),
        };
        IssuerEvent[] events =
        [
            IssuerEvent.Create(tenant.Id, EventTypes.CredentialIssued, now,
                new EventDetails.CredentialIssued(session.ConfigurationId, CredentialFormats.SdJwtVc, record.Id), session.OfferId, session.Id, session.ConfigurationId),
            IssuerEvent.Create(tenant.Id, EventTypes.SessionCompleted, now, new EventDetails.SessionCompleted(1), session.OfferId, session.Id, session.ConfigurationId),
        ];
        var outcome = await store.IssueAsync(new ConsumedNonce { NonceHash = NonceService.ConsumedNonceKey(proof.Value.Nonce), ExpiresAt = nonceExpiresAt.Value },
            record, session, events, ct);
        return outcome switch
        {
            IssueOutcome.Issued => new CredentialResponse(credential, record.NotificationId),
            IssueOutcome.NonceAlreadyUsed => WalletError.InvalidNonce("The c_nonce was already used; get a fresh one from the nonce endpoint."),
            _ => WalletError.Denied("The credential of this session was already issued."),
        };
    }

    private static string? OptionalString(JsonElement body, string name, out bool wrongType)
    {
        wrongType = false;
        if (!body.TryGetProperty(name, out var value)) return null;
        if (value.ValueKind == JsonValueKind.String) return value.GetString();
        wrongType = true;
        return null;
    }
}
