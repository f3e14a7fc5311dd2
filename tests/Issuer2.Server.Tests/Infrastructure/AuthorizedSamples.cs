using Issuer2.Grpc.V1;

namespace Issuer2.Server.Tests.Infrastructure;

/// <summary>Valid settings of the authorization code flow to start from: a tenant IdP, and tenants that allow AUTHORIZED offers.</summary>
public static class AuthorizedSamples
{
    /// <summary>The client secret of <see cref="IdentityProvider"/>, unless a test gives another.</summary>
    public const string ClientSecret = "idp-client-secret-for-tests";

    /// <summary>An IdP that is never contacted by management calls (nothing is fetched when it is set or when offers are made).</summary>
    public static IdentityProvider IdentityProvider(string issuer = "https://idp.example/realms/acme", string? secret = ClientSecret, params string[] scopes)
    {
        var idp = new IdentityProvider { Issuer = issuer, ClientId = "issuer2", ClientSecret = secret ?? "" };
        idp.Scopes.AddRange(scopes);
        return idp;
    }

    /// <summary>A tenant allowing both methods, with <see cref="IdentityProvider"/> unless <paramref name="withIdentityProvider"/> is false.</summary>
    public static Task<TestTenant> CreateAuthorizedTenantAsync(this ServerFixture fixture, bool withIdentityProvider = true, Action<Tenant>? configure = null) =>
        fixture.CreateTenantAsync(t =>
        {
            t.AllowedAuthenticationMethods.Add(AuthenticationMethod.PreAuthorized);
            t.AllowedAuthenticationMethods.Add(AuthenticationMethod.Authorized);
            if (withIdentityProvider)
            {
                t.IdentityProvider = IdentityProvider();
            }

            configure?.Invoke(t);
        });

    /// <summary>Sets an AUTHORIZED offer request's method and issuer_state mode (and delivery, when given).</summary>
    public static void Authorized(this CreateOfferRequest request, IssuerStateMode issuerStateMode, DeliveryMode delivery = DeliveryMode.Unspecified)
    {
        request.AuthenticationMethod = AuthenticationMethod.Authorized;
        request.IssuerStateMode = issuerStateMode;
        request.DeliveryMode = delivery;
    }
}
