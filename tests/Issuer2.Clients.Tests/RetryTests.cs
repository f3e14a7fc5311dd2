using Grpc.Core;
using Issuer2.Client;
using Issuer2.Clients.Tests.Infrastructure;
using Issuer2.Grpc.V1;

namespace Issuer2.Clients.Tests;

/// <summary>Retries of Issuer2.Client against a real server: which statuses and which calls are tried again.</summary>
[Collection(SharedServerGroup.Name)]
public sealed class RetryTests(SharedServer shared)
{
    [Fact]
    public async Task IdempotentCall_RefusedWithNotFoundOrInvalidArgument_IsNotTriedAgain()
    {
        var tenant = await DemoTenant.CreateAsync(shared.Host);
        var retries = new List<RetryAttempt>();
        using var client = shared.Host.Client(tenant.ApiKey, RetryPolicy.Default with { OnRetry = retries.Add });

        var notFound = await Assert.ThrowsAsync<RpcException>(async () => await client.Offers.GetOfferAsync(new GetOfferRequest { Name = tenant.Name + "/offers/nope" }));
        var invalid = await Assert.ThrowsAsync<RpcException>(async () => await client.Offers.ListOffersAsync(new ListOffersRequest { Parent = tenant.Name, PageToken = "not-a-token" }));

        Assert.Equal(StatusCode.NotFound, notFound.StatusCode);
        Assert.Equal(StatusCode.InvalidArgument, invalid.StatusCode);
        Assert.Empty(retries);
    }

    [Fact]
    public async Task IdempotentCall_ToAnAddressNobodyServes_IsTriedMaxAttemptsTimes_ACreateOnlyWithARequestId()
    {
        var retries = new List<RetryAttempt>();
        using var client = new Issuer2Client(new Issuer2ClientOptions
        {
            Address = new Uri($"http://127.0.0.1:{TestEnvironment.FreePort()}"),
            ApiKey = TestEnvironment.NewAdminKey(),
            Retry = new RetryPolicy { MaxAttempts = 3, InitialBackoff = TimeSpan.FromMilliseconds(10), OnRetry = retries.Add },
        });

        var get = await Assert.ThrowsAsync<RpcException>(async () => await client.Tenants.GetTenantAsync(new GetTenantRequest { Name = "tenants/x" }));
        var getRetries = retries.Count;
        retries.Clear();
        var create = await Assert.ThrowsAsync<RpcException>(async () => await client.Offers.CreateOfferAsync(new CreateOfferRequest { Parent = "tenants/x", Profile = "tenants/x/profiles/p" }));
        var createRetries = retries.Count;
        retries.Clear();
        var createWithId = await Assert.ThrowsAsync<RpcException>(async () => await client.Offers.CreateOfferAsync(new CreateOfferRequest { Parent = "tenants/x", Profile = "tenants/x/profiles/p", RequestId = "r1" }));

        Assert.Equal(StatusCode.Unavailable, get.StatusCode);
        Assert.Equal(2, getRetries);
        Assert.Equal(StatusCode.Unavailable, create.StatusCode);
        Assert.Equal(0, createRetries);
        Assert.Equal(StatusCode.Unavailable, createWithId.StatusCode);
        Assert.Equal(2, retries.Count);
    }

    [Fact]
    public async Task RateLimitedCall_WaitsTheRetryInfoDelay_AndThenSucceeds()
    {
        // One call at once, one more a second: the second call in a row is refused with a retry time.
        await using var host = await ServerHost.StartAsync("Sqlite", new Dictionary<string, string>
        {
            ["Issuer2:Limits:ApiKey:Burst"] = "1",
            ["Issuer2:Limits:ApiKey:PerMinute"] = "60",
        });
        var retries = new List<RetryAttempt>();
        using var client = host.Client(retry: RetryPolicy.Default with { OnRetry = retries.Add });

        await client.Tenants.ListTenantsAsync(new ListTenantsRequest());
        await client.Tenants.ListTenantsAsync(new ListTenantsRequest());

        var retry = Assert.Single(retries);
        Assert.Equal(StatusCode.ResourceExhausted, retry.Error.StatusCode);
        Assert.Equal(RpcErrors.RetryDelay(retry.Error), retry.Delay);
        Assert.InRange(retry.Delay, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(2));
    }
}
