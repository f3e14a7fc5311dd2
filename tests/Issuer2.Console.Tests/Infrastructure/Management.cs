using Grpc.Core;
using Grpc.Net.Client;
using Issuer2.Grpc.V1;

namespace Issuer2.Console.Tests.Infrastructure;

/// <summary>Set-up through native gRPC (what a back office does), so a browser test starts from a known tenant.</summary>
internal sealed class Management : IDisposable
{
    private readonly GrpcChannel _channel;

    public Management(IssuerServer server)
    {
        _channel = GrpcChannel.ForAddress(server.GrpcUrl);
        Server = server;
        Tenants = new TenantService.TenantServiceClient(_channel);
        Profiles = new ProfileService.ProfileServiceClient(_channel);
        Offers = new OfferService.OfferServiceClient(_channel);
        Events = new SessionEventsService.SessionEventsServiceClient(_channel);
    }

    public IssuerServer Server { get; }

    public TenantService.TenantServiceClient Tenants { get; }

    public ProfileService.ProfileServiceClient Profiles { get; }

    public OfferService.OfferServiceClient Offers { get; }

    public SessionEventsService.SessionEventsServiceClient Events { get; }

    public static Metadata Bearer(string key) => new() { { "authorization", "Bearer " + key } };

    /// <summary>A new tenant and an API key for it.</summary>
    public async Task<(string TenantId, string Key)> NewTenantAsync()
    {
        var admin = Bearer(Server.AdminKey);
        var id = Repo.RandomId("t-");
        await Tenants.CreateTenantAsync(new CreateTenantRequest { Tenant = new Tenant { TenantId = id, Display = { new IssuerDisplay { Locale = "en", Name = "Test " + id } } } }, admin);
        var key = await Tenants.CreateApiKeyAsync(new CreateApiKeyRequest { Parent = "tenants/" + id, DisplayName = "console test" }, admin);
        return (id, key.Key);
    }

    /// <summary>A profile with one claim whose value the offer gives.</summary>
    public async Task<string> NewProfileAsync(string tenantId, string key)
    {
        var id = Repo.RandomId("p-");
        await Profiles.CreateProfileAsync(new CreateProfileRequest
        {
            Parent = "tenants/" + tenantId,
            Profile = new Profile
            {
                ProfileId = id,
                Vct = "https://example.test/credentials/" + id,
                Display = { new CredentialDisplay { Locale = "en", Name = "Membership" } },
                Claims = { new ClaimDefinition { Path = { "given_name" }, SelectivelyDisclosable = true } },
                DefaultValues = { new ClaimValue { Path = { "given_name" }, Value = Google.Protobuf.WellKnownTypes.Value.ForString("Ada") } },
            },
        }, Bearer(key));
        return id;
    }

    public void Dispose() => _channel.Dispose();
}
