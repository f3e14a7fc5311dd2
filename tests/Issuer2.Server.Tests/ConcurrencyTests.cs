using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;

namespace Issuer2.Server.Tests;

/// <summary>Racing writes: the database keeps one-time things one-time (ids, request ids, profile versions).</summary>
public abstract class ConcurrencyTests(ServerFixture fixture)
{
    private const int Racers = 8;

    [Fact]
    public async Task CreateTenant_RacingForOneId_OneWinsAndTheOthersAreAlreadyExists()
    {
        var tenantId = ServerFixture.NewTenantId();

        var results = await RaceAsync(() => fixture.Admin.Tenants.CreateTenantAsync(new CreateTenantRequest { Tenant = new Tenant { TenantId = tenantId } }).ResponseAsync);

        Assert.Single(results, r => r.Response is not null);
        Assert.All(results.Where(r => r.Error is not null), r => Assert.Equal(StatusCode.AlreadyExists, r.Error!.StatusCode));
        var tenant = (await fixture.Admin.Tenants.GetTenantAsync(new GetTenantRequest { Name = "tenants/" + tenantId })).Tenant;
        Assert.Single(tenant.SigningKeys);
    }

    [Fact]
    public async Task CreateOffer_RacingRetriesOfOneRequestId_CreateOneOfferAndAgreeOnItsUrl()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        var request = new CreateOfferRequest
        {
            Parent = tenant.Name,
            Profile = profile.Name,
            RequestId = Guid.NewGuid().ToString(),
            TxCode = new TxCodeOptions(),
        };

        var results = await RaceAsync(() => tenant.Clients.Offers.CreateOfferAsync(request).ResponseAsync);

        var successes = results.Where(r => r.Response is not null).Select(r => r.Response!).ToList();
        Assert.NotEmpty(successes);
        Assert.All(results.Where(r => r.Error is not null), r => Assert.Equal(StatusCode.Aborted, r.Error!.StatusCode));
        Assert.Single(successes.Select(s => s.OfferUrl).Distinct());
        Assert.Single(successes.Select(s => s.TxCode).Distinct());
        var listed = await OfferServiceTests.ListAllAsync(tenant, new ListOffersRequest { Parent = tenant.Name });
        Assert.Equal(successes[0].Offer.Name, Assert.Single(listed).Name);

        await tenant.Clients.Offers.RevokeOfferAsync(new RevokeOfferRequest { Name = listed[0].Name });
        var events = await fixture.ReadEventsUntilAsync(tenant.TenantId, e => e.Type == "offer.revoked");
        Assert.Single(events, e => e.Type == "offer.created");
    }

    [Fact]
    public async Task UpdateProfile_Racing_EachSuccessMakesItsOwnVersion()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        var counter = 0;

        var results = await RaceAsync(() =>
        {
            var n = Interlocked.Increment(ref counter);
            return tenant.Clients.Profiles.UpdateProfileAsync(new UpdateProfileRequest
            {
                Profile = new Profile { Name = profile.Name, Vct = $"https://credentials.example.com/v{n}" },
                UpdateMask = new FieldMask { Paths = { "vct" } },
            }).ResponseAsync;
        });

        var successes = results.Where(r => r.Response is not null).Select(r => r.Response!.Profile).ToList();
        Assert.NotEmpty(successes);
        Assert.All(
            results.Where(r => r.Error is not null),
            r => Assert.True(r.Error!.StatusCode == StatusCode.Aborted, $"a racing update failed with {r.Error.StatusCode}: {r.Error.Status.Detail}"));
        Assert.Equal(successes.Count, successes.Select(p => p.Version).Distinct().Count());
        var final = (await tenant.Clients.Profiles.GetProfileAsync(new GetProfileRequest { Name = profile.Name })).Profile;
        Assert.Equal(1 + successes.Count, final.Version);
        Assert.Equal(successes.MaxBy(p => p.Version)!.Vct, final.Vct);
        var events = await fixture.ReadEventsUntilCountAsync(tenant.TenantId, "profile.updated", successes.Count);
        Assert.Equal(successes.Count, events.Count(e => e.Type == "profile.updated"));
    }

    [Fact]
    public async Task RevokeOffer_Racing_RevokesOnceAndAppendsOneEvent()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        var offer = await ServerFixture.CreateOfferAsync(tenant, profile);

        var results = await RaceAsync(() => tenant.Clients.Offers.RevokeOfferAsync(new RevokeOfferRequest { Name = offer.Offer.Name }).ResponseAsync);

        await ServerFixture.CreateProfileAsync(tenant);
        var events = await fixture.ReadEventsUntilCountAsync(tenant.TenantId, "profile.created", 2);
        var successes = results.Count(r => r.Response is not null);
        var revocations = events.Count(e => e.Type == "offer.revoked");
        Assert.True(
            successes == 1 && revocations == 1,
            $"{Racers} racing revokes of one offer: {successes} succeeded and {revocations} offer.revoked events were appended; expected 1 and 1.");
        Assert.All(
            results.Where(r => r.Error is not null),
            r => Assert.True(r.Error!.StatusCode is StatusCode.FailedPrecondition or StatusCode.Aborted, $"{r.Error.StatusCode}: {r.Error.Status.Detail}"));
    }

    private static async Task<List<(T? Response, RpcException? Error)>> RaceAsync<T>(Func<Task<T>> call)
        where T : class
    {
        using var start = new SemaphoreSlim(0, Racers);
        var tasks = Enumerable.Range(0, Racers).Select(async _ =>
        {
            await start.WaitAsync();
            try
            {
                return ((T?)await call(), (RpcException?)null);
            }
            catch (RpcException ex)
            {
                return (null, ex);
            }
        }).ToList();
        start.Release(Racers);
        return [.. await Task.WhenAll(tasks)];
    }
}

public sealed class ConcurrencyTests_Sqlite(SqliteServerFixture fixture)
    : ConcurrencyTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class ConcurrencyTests_Postgres(PostgresServerFixture fixture)
    : ConcurrencyTests(fixture), IClassFixture<PostgresServerFixture>;
