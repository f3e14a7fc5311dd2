namespace Issuer2.Core.Authorization;

/// <summary>How long each one-time thing of the authorization code flow lives (docs/authorization-server.md says why).</summary>
public static class AuthorizationLifetimes
{
    /// <summary>A pushed request's request_uri (RFC 9126 §2.2 expires_in): the wallet opens /authorize at once.</summary>
    public static readonly TimeSpan PushedRequest = TimeSpan.FromSeconds(90);

    /// <summary>The whole flow, from the request to the code: time enough to sign in at the IdP and consent.</summary>
    public static readonly TimeSpan Flow = TimeSpan.FromMinutes(10);

    /// <summary>The authorization code: one-time and short (RFC 6749 §4.1.2 recommends at most 10 minutes).</summary>
    public static readonly TimeSpan Code = TimeSpan.FromSeconds(60);

    /// <summary>An issuer_state a BY_REFERENCE offer mints per resolution: it must reach the pushed request within this time.</summary>
    public static readonly TimeSpan IssuerStateByReference = TimeSpan.FromMinutes(10);
}
