using Issuer2.Client;
using Issuer2.Grpc.V1;

namespace Issuer2.Clients.Tests.Infrastructure;

/// <summary>A fresh tenant with an API key and a diploma profile, made through Issuer2.Client.</summary>
public sealed record DemoTenant(string TenantId, string ApiKey)
{
    public string Name => "tenants/" + TenantId;

    public string Profile => Name + "/profiles/diploma";

    public static async Task<DemoTenant> CreateAsync(ServerHost host)
    {
        var id = TestEnvironment.NewTenantId();
        using var admin = host.Client();
        await admin.Tenants.CreateTenantAsync(new CreateTenantRequest { Tenant = new Tenant { TenantId = id } });
        var key = (await admin.Tenants.CreateApiKeyAsync(new CreateApiKeyRequest { Parent = "tenants/" + id, DisplayName = "tests" })).Key;
        using var client = host.Client(key);
        await client.Profiles.CreateProfileAsync(new CreateProfileRequest
        {
            Parent = "tenants/" + id,
            Profile = new Profile
            {
                ProfileId = "diploma",
                Vct = "https://acme.example/credentials/diploma",
                Claims = { new ClaimDefinition { Path = { "given_name" }, SelectivelyDisclosable = true } },
            },
        });
        return new DemoTenant(id, key);
    }

    /// <summary>Every retained event of the tenant, in log order, through every page of ListEvents.</summary>
    public static async Task<List<Event>> LogAsync(Issuer2Client client, string parent)
    {
        var events = new List<Event>();
        var token = "";
        do
        {
            var page = await client.Events.ListEventsAsync(new ListEventsRequest { Parent = parent, PageSize = 500, PageToken = token });
            events.AddRange(page.Events);
            token = page.NextPageToken;
        }
        while (token.Length > 0);
        return events;
    }
}
