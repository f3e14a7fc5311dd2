using Issuer2.Core.IdentityProviders;

namespace Issuer2.Server.IdentityProviders;

/// <summary>Registers the client of the tenants' OpenID Providers.</summary>
public static class IdentityProviderServices
{
    /// <summary>
    /// The <see cref="OidcProviderClient"/> as the host's one <see cref="IIdentityProviderClient"/>, and its named
    /// HttpClient: no automatic redirects (a redirected token request would carry the client's credentials elsewhere,
    /// and a redirected discovery document is not at the issuer) and no cookies.
    /// </summary>
    public static IServiceCollection AddIdentityProviderClient(this IServiceCollection services, bool allowInsecureHttp)
    {
        services.AddHttpClient(OidcProviderClient.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                UseCookies = false,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            });
        services.AddSingleton<IIdentityProviderClient>(sp => new OidcProviderClient(
            sp.GetRequiredService<IHttpClientFactory>(),
            sp.GetRequiredService<ILogger<OidcProviderClient>>(),
            sp.GetRequiredService<TimeProvider>(),
            allowInsecureHttp));
        return services;
    }
}
