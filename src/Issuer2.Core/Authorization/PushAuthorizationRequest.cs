using Issuer2.Core.Common;
using Issuer2.Core.Metadata;
using Issuer2.Core.Security;
using Issuer2.Core.Wallet;

namespace Issuer2.Core.Authorization;

/// <summary>A pushed request's answer (RFC 9126 §2.2).</summary>
public sealed record PushedRequest(string RequestUri, int ExpiresIn);

/// <summary>The pushed authorization request endpoint (RFC 9126): the request is checked whole and stored; the wallet gets a one-time request_uri.</summary>
public sealed class PushAuthorizationRequest(TenantDirectory tenants, AcceptAuthorizationRequest accept, IAuthorizationStore store, TimeProvider clock)
{
    public async Task<Result<PushedRequest, WalletError>> ExecuteAsync(string tenantId, AuthorizationParameters parameters, CancellationToken ct)
    {
        var snapshot = await tenants.FindAsync(tenantId, ct);
        if (snapshot is null) return TenantDirectory.NoIssuerHere();
        var accepted = await accept.ExecuteAsync(snapshot, parameters, pushed: true, ct);
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
