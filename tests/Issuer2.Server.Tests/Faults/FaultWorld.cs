using System.Net;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Events;
using Issuer2.Server.Tests.Infrastructure;

namespace Issuer2.Server.Tests.Faults;

/// <summary>A tenant with a profile and a batch of BY_REFERENCE offers, made before the fault.</summary>
public sealed record FaultTenant(Tenant Tenant, string ApiKey, Profile Profile, IReadOnlyList<CreateOfferResponse> Offers, int MaxUses)
{
    public string TenantId => Tenant.TenantId;

    public string CredentialIssuer => Tenant.CredentialIssuer;

    public string ConfigurationId => Profile.ProfileId;

    public Clients ClientsOn(ChannelBase channel) => Clients.For(channel, "Bearer " + ApiKey);

    public SessionEventsService.SessionEventsServiceClient EventsOn(ChannelBase channel) => EventClients.For(channel, ApiKey);
}

/// <summary>What the fault tests start from: server settings, a tenant and its offers.</summary>
public static class FaultWorld
{
    /// <summary>Neither host's own address, so a host restarted on other ports still is the same issuer.</summary>
    public const string PublicBaseUrl = "https://issuer.example.com";

    /// <summary>What the fault tests set Issuer2:Database:RetryAfter to, and so expect in Retry-After.</summary>
    public const string RetryAfterSeconds = "1";

    public static Dictionary<string, string> Settings(string connectionString, string dataDirectory, string adminKey, string kek) => new()
    {
        ["Issuer2:Database:Provider"] = "Postgres",
        ["Issuer2:Database:ConnectionString"] = connectionString,
        ["Issuer2:Database:RetryAfter"] = "00:00:0" + RetryAfterSeconds,
        ["Issuer2:DataDirectory"] = dataDirectory,
        ["Issuer2:AdminKey"] = adminKey,
        ["Issuer2:KeyEncryptionKey"] = kek,
        // Warnings (one per refused request during an outage) are what the test reads; information is noise.
        ["Logging:LogLevel:Default"] = "Warning",
    };

    /// <summary>Creates a tenant, an API key, a profile and <paramref name="offers"/> offers of <paramref name="maxUses"/> uses each.</summary>
    public static async Task<FaultTenant> CreateTenantAsync(GrpcChannel channel, string adminKey, int offers, int maxUses)
    {
        var admin = Clients.For(channel, "Bearer " + adminKey);
        var tenant = (await admin.Tenants.CreateTenantAsync(new CreateTenantRequest { Tenant = new Tenant { TenantId = ServerFixture.NewTenantId() } })).Tenant;
        var key = (await admin.Tenants.CreateApiKeyAsync(new CreateApiKeyRequest { Parent = tenant.Name, DisplayName = "faults" })).Key;
        var clients = Clients.For(channel, "Bearer " + key);
        var profile = (await clients.Profiles.CreateProfileAsync(new CreateProfileRequest { Parent = tenant.Name, Profile = Samples.Profile(ServerFixture.NewProfileId()) })).Profile;
        var made = new List<CreateOfferResponse>();
        for (var i = 0; i < offers; i++)
        {
            made.Add(await clients.Offers.CreateOfferAsync(new CreateOfferRequest { Parent = tenant.Name, Profile = profile.Name, MaxUses = maxUses }));
        }

        return new FaultTenant(tenant, key, profile, made, maxUses);
    }

    /// <summary>Waits (bounded) until /healthz answers 200 again.</summary>
    public static async Task WaitUntilHealthyAsync(string httpUrl, TimeSpan bound)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var deadline = DateTime.UtcNow + bound;
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var response = await http.GetAsync(new Uri(httpUrl + "/healthz"));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }

                last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                last = e.Message;
            }

            await Task.Delay(200);
        }

        Assert.Fail($"/healthz did not answer 200 within {bound}; last: {last}");
    }

    /// <summary>grpc.health.v1 Check: the status and the reason trailer.</summary>
    public static async Task<(HealthCheckResponse.Types.ServingStatus Status, string? Reason)> GrpcHealthAsync(ChannelBase channel)
    {
        using var call = new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(10));
        var response = await call.ResponseAsync;
        return (response.Status, call.GetTrailers().GetValue("issuer2-health-reason"));
    }
}
