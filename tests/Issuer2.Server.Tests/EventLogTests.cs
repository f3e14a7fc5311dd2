using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Issuer2.Core.Events;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Issuer2.Server.Tests;

/// <summary>Every write appends its event to the tenant's log (read with IEventReader); a refused write appends none.</summary>
public abstract class EventLogTests(ServerFixture fixture)
{
    [Fact]
    public async Task EveryWrite_AppendsItsEvent_InOrder()
    {
        var tenant = await fixture.CreateTenantAsync();
        fixture.Time.Advance(TimeSpan.FromSeconds(1));
        await fixture.Admin.Tenants.UpdateTenantAsync(new UpdateTenantRequest
        {
            Tenant = new Tenant { Name = tenant.Name, PinAttemptLimit = 7 },
            UpdateMask = new FieldMask { Paths = { "pin_attempt_limit" } },
        });
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        await tenant.Clients.Profiles.UpdateProfileAsync(new UpdateProfileRequest
        {
            Profile = new Profile { Name = profile.Name, Vct = "https://credentials.example.com/v2" },
            UpdateMask = new FieldMask { Paths = { "vct" } },
        });
        var offer = await ServerFixture.CreateOfferAsync(tenant, profile);
        var revokedAt = fixture.Now.AddMinutes(1);
        fixture.Time.Advance(TimeSpan.FromMinutes(1));
        await tenant.Clients.Offers.RevokeOfferAsync(new RevokeOfferRequest { Name = offer.Offer.Name });
        var other = await ServerFixture.CreateProfileAsync(tenant);
        await tenant.Clients.Profiles.DeleteProfileAsync(new DeleteProfileRequest { Name = other.Name });
        var key = await fixture.Admin.Tenants.CreateApiKeyAsync(new CreateApiKeyRequest { Parent = tenant.Name, DisplayName = "second" });
        await fixture.Admin.Tenants.RevokeApiKeyAsync(new RevokeApiKeyRequest { Name = key.ApiKey.Name });
        await fixture.Admin.Tenants.DeleteTenantAsync(new DeleteTenantRequest { Name = tenant.Name });

        var events = await fixture.ReadEventsUntilAsync(tenant.TenantId, e => e.Type == "tenant.deleted");

        Assert.Equal(
            new[]
            {
                "tenant.created", "api_key.created", "tenant.updated", "profile.created", "profile.updated",
                "offer.created", "offer.revoked", "profile.created", "profile.deleted", "api_key.created",
                "api_key.revoked", "tenant.deleted",
            },
            events.Select(e => e.Type));
        Assert.All(events, e => Assert.Equal(tenant.TenantId, e.TenantId));
        Assert.Equal(events.Select(e => e.Sequence).Order(), events.Select(e => e.Sequence));
        Assert.Equal(events.Count, events.Select(e => e.Sequence).Distinct().Count());
        Assert.Equal(events.Count, events.Select(e => e.Position).Distinct().Count());
        Assert.All(events, e => Assert.False(string.IsNullOrEmpty(fixture.Host.CursorOf(e))));
        Assert.All(events, e => JsonDocument.Parse(e.Detail).Dispose());

        var offerEvents = events.Where(e => e.Type.StartsWith("offer.", StringComparison.Ordinal)).ToList();
        Assert.All(offerEvents, e => Assert.Equal(offer.Offer.OfferId, e.OfferId));
        Assert.Equal(revokedAt, offerEvents[1].OccurredAt);
        Assert.Equal(tenant.Tenant.CreateTime.ToDateTimeOffset(), events[0].OccurredAt);
    }

    [Fact]
    public async Task ReadAfter_ACursor_ReturnsOnlyLaterEvents()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        for (var i = 0; i < 3; i++)
        {
            await ServerFixture.CreateOfferAsync(tenant, profile);
        }

        var all = await fixture.ReadEventsUntilCountAsync(tenant.TenantId, "offer.created", 3);
        Assert.Equal(6, all.Count);
        var afterSecond = await fixture.ReadEventsAsync(tenant.TenantId, all[1].Position);

        Assert.Equal(all.Skip(2).Select(e => e.Sequence), afterSecond.Select(e => e.Sequence));

        await using var scope = fixture.Host.App.Services.CreateAsyncScope();
        var reader = scope.ServiceProvider.GetRequiredService<IEventReader>();
        var firstTwo = await reader.ReadAfterAsync(tenant.TenantId, null, 2, CancellationToken.None);
        Assert.Equal(all.Take(2).Select(e => e.Sequence), firstTwo.Select(e => e.Sequence));
    }

    [Fact]
    public async Task EventsOfOneTenant_AreNotInAnothersLog()
    {
        var a = await fixture.CreateTenantAsync();
        var b = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(a);
        var offer = await ServerFixture.CreateOfferAsync(a, profile);
        await ServerFixture.CreateProfileAsync(b);

        await fixture.ReadEventsUntilAsync(a.TenantId, e => e.Type == "offer.created");
        var eventsOfB = await fixture.ReadEventsUntilAsync(b.TenantId, e => e.Type == "profile.created");

        Assert.DoesNotContain(eventsOfB, e => e.Type == "offer.created");
        Assert.DoesNotContain(eventsOfB, e => e.OfferId == offer.Offer.OfferId);
        Assert.All(eventsOfB, e => Assert.Equal(b.TenantId, e.TenantId));
    }

    [Fact]
    public async Task DeleteProfileWithRevokeOffers_AppendsARevocationPerOffer()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        var first = await ServerFixture.CreateOfferAsync(tenant, profile);
        var second = await ServerFixture.CreateOfferAsync(tenant, profile);

        await tenant.Clients.Profiles.DeleteProfileAsync(new DeleteProfileRequest { Name = profile.Name, RevokeOffers = true });

        var events = await fixture.ReadEventsUntilAsync(tenant.TenantId, e => e.Type == "profile.deleted");
        var revoked = events.Where(e => e.Type == "offer.revoked").Select(e => e.OfferId).Order(StringComparer.Ordinal);
        Assert.Equal(new[] { first.Offer.OfferId, second.Offer.OfferId }.Order(StringComparer.Ordinal), revoked);
        Assert.Single(events, e => e.Type == "profile.deleted");
    }

    [Fact]
    public async Task RefusedWrites_AppendNoEvent()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        var offer = await ServerFixture.CreateOfferAsync(tenant, profile);
        var before = await fixture.ReadEventsUntilAsync(tenant.TenantId, e => e.Type == "offer.created");

        // Validation errors, conflicts and precondition failures of every service.
        var invalidProfile = Samples.Profile(ServerFixture.NewProfileId());
        invalidProfile.Claims[6].Path[0] = "iss";
        await Refused(async () => await tenant.Clients.Profiles.CreateProfileAsync(new CreateProfileRequest { Parent = tenant.Name, Profile = invalidProfile }));
        await Refused(async () => await tenant.Clients.Profiles.CreateProfileAsync(new CreateProfileRequest { Parent = tenant.Name, Profile = Samples.Profile(profile.ProfileId) }));
        await Refused(async () => await tenant.Clients.Profiles.UpdateProfileAsync(new UpdateProfileRequest
        {
            Profile = new Profile { Name = profile.Name, Vct = "" },
            UpdateMask = new FieldMask { Paths = { "vct" } },
        }));
        await Refused(async () => await tenant.Clients.Profiles.DeleteProfileAsync(new DeleteProfileRequest { Name = profile.Name }));
        await Refused(async () => await ServerFixture.CreateOfferAsync(tenant, profile, r => r.Overrides.Add(Samples.StringValue("x", "nickname"))));
        await Refused(async () => await ServerFixture.CreateOfferAsync(tenant, profile, r => r.AuthenticationMethod = AuthenticationMethod.Authorized));
        await Refused(async () => await fixture.Admin.Tenants.UpdateTenantAsync(new UpdateTenantRequest
        {
            Tenant = new Tenant { Name = tenant.Name, PinAttemptLimit = 1000 },
            UpdateMask = new FieldMask { Paths = { "pin_attempt_limit" } },
        }));
        await Refused(async () => await fixture.Admin.Tenants.CreateApiKeyAsync(new CreateApiKeyRequest
        {
            Parent = tenant.Name,
            ExpireTime = fixture.TimestampIn(TimeSpan.FromDays(-1)),
        }));
        await tenant.Clients.Offers.RevokeOfferAsync(new RevokeOfferRequest { Name = offer.Offer.Name });
        await Refused(async () => await tenant.Clients.Offers.RevokeOfferAsync(new RevokeOfferRequest { Name = offer.Offer.Name }));
        // Refused for lack of permission: nothing written either.
        await Refused(async () => await tenant.Clients.Tenants.DeleteTenantAsync(new DeleteTenantRequest { Name = tenant.Name }));

        // A last successful write, so the log is known to have caught up.
        await ServerFixture.CreateProfileAsync(tenant);
        var after = await fixture.ReadEventsUntilCountAsync(tenant.TenantId, "profile.created", 2);

        Assert.Equal(
            before.Select(e => e.Type).Concat(new[] { "offer.revoked", "profile.created" }),
            after.Select(e => e.Type));
    }

    [Fact]
    public async Task EventDetails_CarryNoSecret()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        var offer = await ServerFixture.CreateOfferAsync(tenant, profile, r =>
        {
            r.TxCode = new TxCodeOptions { Value = TestEnvironment.RandomText(40), InputMode = TxCodeInputMode.Text };
            r.RequestId = Guid.NewGuid().ToString();
        });
        var key = await fixture.Admin.Tenants.CreateApiKeyAsync(new CreateApiKeyRequest { Parent = tenant.Name, DisplayName = "x" });
        var token = OfferUrl.Parse(offer.OfferUrl).TokenUnder(tenant.Tenant.CredentialIssuer);

        var events = await fixture.ReadEventsUntilCountAsync(tenant.TenantId, "api_key.created", 2);
        var text = string.Join('\n', events.Select(e => e.Detail));

        Assert.Contains(events, e => e.Type == "offer.created");
        foreach (var secret in new[] { offer.TxCode, token, key.Key, tenant.ApiKey, offer.OfferUrl })
        {
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        }
    }

    private static async Task Refused(Func<Task> call) => await Assert.ThrowsAsync<RpcException>(call);
}

public sealed class EventLogTests_Sqlite(SqliteServerFixture fixture)
    : EventLogTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class EventLogTests_Postgres(PostgresServerFixture fixture)
    : EventLogTests(fixture), IClassFixture<PostgresServerFixture>;
