using Issuer2.Core.Common;
using Issuer2.Core.Tenants;
using Issuer2.Core.Wallet;

namespace Issuer2.Core.Dpop;

/// <summary>The DPoP header of a request as the edge read it: its one value, or that it came more than once.</summary>
public sealed record DpopHeader(string? Proof, bool Repeated)
{
    public static readonly DpopHeader None = new(null, false);
}

/// <summary>
/// Sender constraint by DPoP (RFC 9449), by the tenant's policy: the check in front of both token grants and PAR,
/// which yields the key an access token is bound to, and the check at the protected resources, which holds a bound
/// token to its key. The proof's own rules are <see cref="DpopProofValidator"/>'s.
/// </summary>
public sealed class SenderConstraint(DpopProofValidator validator, DpopNonces nonces)
{
    public const string Scheme = "DPoP";

    /// <summary>
    /// The key thumbprint a token issued to this request is bound to, or null for a bearer token: DPoP off, or optional
    /// and no proof sent. <paramref name="path"/> is the endpoint's path under the credential issuer (e.g. "/token").
    /// </summary>
    public async Task<Result<string?, WalletError>> KeyAsync(Tenant tenant, DpopHeader header, string path, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(header);
        var settings = tenant.Dpop;
        if (settings.Mode == DpopMode.Off) return (string?)null;
        if (header.Repeated) return Invalid("Send one DPoP header (RFC 9449 §4.3).", resource: false);
        if (header.Proof is null)
        {
            return settings.Mode == DpopMode.Required
                ? Invalid("This issuer requires a DPoP proof (RFC 9449) with every token request.", resource: false)
                : (string?)null;
        }
        var proof = await validator.ValidateAsync(tenant.Id, header.Proof, new DpopRequest("POST", tenant.CredentialIssuer + path), settings.RequireNonce, ct);
        return proof.IsSuccess ? proof.Value.Thumbprint : Refused(proof.Error, resource: false);
    }

    /// <summary>At the token endpoint, for every grant: the key the token will be bound to (null: bearer), or the refusal.</summary>
    public Task<Result<string?, WalletError>> AtTokenEndpointAsync(Tenant tenant, DpopHeader? header, CancellationToken ct) =>
        KeyAsync(tenant, header ?? DpopHeader.None, "/token", ct);

    /// <summary>
    /// At a protected resource: a bound token must come with the DPoP scheme and a proof of its key (with <c>ath</c>);
    /// an unbound one with the Bearer scheme. Null when the request may proceed.
    /// </summary>
    public async Task<WalletError?> CheckResourceAsync(
        Tenant tenant, string scheme, string accessToken, string? boundKey, DpopHeader header, string method, string path, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(header);
        var usesDpop = string.Equals(scheme, Scheme, StringComparison.OrdinalIgnoreCase);
        if (boundKey is null)
        {
            return usesDpop
                ? new WalletError(WalletErrorCode.InvalidToken, "This access token is not DPoP-bound: send it with the Bearer scheme.") { DpopChallenge = true }
                : null;
        }
        // RFC 9449 §7.2: a bound token is never accepted as a bearer token.
        if (!usesDpop)
            return new WalletError(WalletErrorCode.InvalidToken, "This access token is DPoP-bound: send it with the DPoP scheme and a DPoP proof.") { DpopChallenge = true };
        if (header.Repeated) return Invalid("Send one DPoP header (RFC 9449 §4.3).", resource: true);
        if (header.Proof is null) return Invalid("A DPoP proof is required with a DPoP-bound access token.", resource: true);
        var requireNonce = tenant.Dpop is { Mode: not DpopMode.Off, RequireNonce: true };
        var proof = await validator.ValidateAsync(tenant.Id, header.Proof, new DpopRequest(method, tenant.CredentialIssuer + path, accessToken), requireNonce, ct);
        if (!proof.IsSuccess) return Refused(proof.Error, resource: true);
        return proof.Value.Thumbprint == boundKey
            ? null
            : new WalletError(WalletErrorCode.InvalidToken, "The DPoP proof is not signed by the key the access token is bound to.") { DpopChallenge = true };
    }

    /// <summary>A fresh server nonce for a successful answer, when the tenant requires them (RFC 9449 §8.2, §9); else null.</summary>
    public string? FreshNonce(Tenant tenant)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        return tenant.Dpop is { Mode: not DpopMode.Off, RequireNonce: true } ? nonces.Mint(tenant.Id) : null;
    }

    /// <summary>Whether the tenant advertises DPoP (<c>dpop_signing_alg_values_supported</c>).</summary>
    public static bool IsOn(Tenant tenant)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        return tenant.Dpop.Mode != DpopMode.Off;
    }

    private static WalletError Invalid(string description, bool resource) =>
        new(WalletErrorCode.InvalidDpopProof, description) { DpopChallenge = resource };

    private static WalletError Refused(DpopRefusal refusal, bool resource) => refusal.Problem == DpopProblem.UseNonce
        ? new WalletError(WalletErrorCode.UseDpopNonce, refusal.Description) { DpopNonce = refusal.Nonce, DpopChallenge = resource }
        : Invalid(refusal.Description, resource);
}
