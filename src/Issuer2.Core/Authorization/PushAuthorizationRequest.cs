using Issuer2.Core.Common;
using Issuer2.Core.Metadata;
using Issuer2.Core.Security;
using Issuer2.Core.Wallet;

namespace Issuer2.Core.Authorization;

/// <summary>A pushed request's answer (RFC 9126 §2.2).</summary>
public sealed record PushedRequest(string RequestUri, int ExpiresIn);

/// <summary>The pushed authorization request endpoint (RFC 9126): the request is checked whole and stored; the wallet gets a one-time request_uri.</summary>
public sealed class PushAuthorizationRequest(
    TenantDirectory tenants, AcceptAuthorizationRequest accept, IAuthorizationStore store, Dpop.SenderConstraint sender, TimeProvider clock)
{
    public async Task<Result<PushedRequest, WalletError>> ExecuteAsync(string tenantId, AuthorizationParameters parameters, Dpop.DpopHeader dpop, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(dpop);
        var snapshot = await tenants.FindAsync(tenantId, ct);
        if (snapshot is null) return TenantDirectory.NoIssuerHere();
        // A DPoP proof at PAR binds the code to its key (RFC 9449 §10.1); PAR never requires one (dpop_jkt may do instead).
        string? dpopKey = null;
        if (dpop.Proof is not null || dpop.Repeated)
        {
            var optional = snapshot.Tenant.Dpop.Mode == Dpop.DpopMode.Off ? null : snapshot.Tenant;
            if (optional is not null)
            {
                var proved = await sender.KeyAsync(optional, dpop, "/par", ct);
                if (!proved.IsSuccess) return proved.Error;
                dpopKey = proved.Value;
            }
        }
        var accepted = await accept.ExecuteAsync(snapshot, parameters, pushed: true, ct, dpopKey);
        if (!accepted.IsSuccess) return accepted.Error.Error;

        var token = Secrets.NewToken();
        var now = clock.UtcNow();
        var pushed = accepted.Value.Authorization;
        pushed.RequestUriHash = Secrets.Hash(token);
        pushed.RequestUriExpiresAt = now + AuthorizationLifetimes.PushedRequest;
        await store.AddAsync(pushed, accepted.Value.Requested, ct);
        return new PushedRequest(RequestUris.For(token), (int)AuthorizationLifetimes.PushedRequest.TotalSeconds);
    }
}
