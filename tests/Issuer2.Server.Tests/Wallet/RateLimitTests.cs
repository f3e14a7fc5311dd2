using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Google.Rpc;
using Grpc.Core;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;

namespace Issuer2.Server.Tests.Wallet;

/// <summary>A host of its own with some rate limits lowered (every other one out of reach, as in every test host).</summary>
public sealed class LimitedServer(string provider, IReadOnlyDictionary<string, string> settings) : ServerFixture
{
    private readonly string _dataDirectory = TestEnvironment.NewTempDirectory("limits");
    private PostgresDatabase? _database;

    public override string Provider => provider;

    public static async Task<LimitedServer> StartAsync(string provider, params IEnumerable<KeyValuePair<string, string>>[] settings)
    {
        var server = new LimitedServer(provider, settings.SelectMany(s => s).ToDictionary());
        await server.InitializeAsync();
        return server;
    }

    protected override async Task<TestHostSettings> CreateSettingsAsync()
    {
        if (Provider == "Postgres") _database = await PostgresDatabase.CreateAsync();
        return new TestHostSettings
        {
            Provider = Provider,
            ConnectionString = _database?.ConnectionString,
            DataDirectory = _dataDirectory,
            Settings = settings,
        };
    }

    protected override async Task DisposeStorageAsync()
    {
        if (_database is not null) await _database.DisposeAsync();
        TestEnvironment.DeleteDirectory(_dataDirectory);
    }

    /// <summary>A pre-authorized BY_REFERENCE offer of a fresh profile, with this many uses.</summary>
    public static async Task<CreateOfferResponse> OfferAsync(TestTenant tenant, int maxUses = 5)
    {
        var profile = await CreateProfileAsync(tenant, WalletSetup.IdentityProfile);
        return await CreateOfferAsync(tenant, profile, r => r.MaxUses = maxUses);
    }
}

/// <summary>What a refused wallet request must look like: 429, Retry-After in whole seconds, the spec's JSON error.</summary>
internal static class Refused
{
    public static void AsJson(WalletReply reply)
    {
        Assert.True(reply.StatusCode == 429, $"expected 429, got {reply}");
        Assert.True(int.TryParse(reply.RetryAfter, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds >= 1, $"Retry-After: {reply.RetryAfter}");
        Assert.Equal("application/json", reply.ContentType);
        Assert.Equal("no-store", reply.CacheControl);
        Assert.Equal("temporarily_unavailable", reply.Error);
        Assert.False(string.IsNullOrEmpty(reply.ErrorDescription));
    }

    public static void NotRefused(WalletReply reply) => Assert.True(reply.StatusCode != 429, $"expected no 429, got {reply}");
}

/// <summary>
/// The limits that count what a request writes, on SQLite and PostgreSQL: each limit exceeded answers 429 and
/// writes nothing; a per-offer limit bites on one offer while another offer from the same address still works.
/// </summary>
public abstract class RateLimitTests
{
    protected abstract string Provider { get; }

    /// <summary>The events as rows (each test's host has a database of its own), read past any reader's visibility rule.</summary>
    private static Task<int> EventCountAsync(LimitedServer server, string tenantId) => RowsAsync(server, "events");

    private static async Task<int> RowsAsync(LimitedServer server, string table) =>
        (await DatabaseSnapshot.TakeAsync(server)).Count(table);

    [Fact]
    public async Task PerAddress_OfferResolutionOverTheLimit_Is429AndMintsNothing()
    {
        var server = await LimitedServer.StartAsync(Provider, TestLimits.Low("OfferResolution", 2));
        try
        {
            var tenant = await server.CreateTenantAsync();
            var offer = await LimitedServer.OfferAsync(tenant);
            using var wallet = WalletSetup.WalletOn(server);
            var uri = wallet.OnThisHost(OfferUrl.Parse(offer.OfferUrl).CredentialOfferUri!);

            Assert.Equal(HttpStatusCode.OK, (await wallet.GetAsync(uri)).Status);
            Assert.Equal(HttpStatusCode.OK, (await wallet.GetAsync(uri)).Status);
            var codes = await RowsAsync(server, "pre_authorized_codes");
            var events = await EventCountAsync(server, tenant.TenantId);
            var refused = await wallet.GetAsync(uri);

            Refused.AsJson(refused);
            Assert.Equal(2, codes);
            Assert.Equal(codes, await RowsAsync(server, "pre_authorized_codes"));
            Assert.Equal(events, await EventCountAsync(server, tenant.TenantId));
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task PerOffer_ResolutionOverTheLimit_BitesOnThatOfferOnly()
    {
        var server = await LimitedServer.StartAsync(Provider, TestLimits.Low("PerOfferResolution", 2));
        try
        {
            var tenant = await server.CreateTenantAsync();
            var limited = await LimitedServer.OfferAsync(tenant);
            var other = await LimitedServer.OfferAsync(tenant);
            using var wallet = WalletSetup.WalletOn(server);
            Uri UriOf(CreateOfferResponse o) => wallet.OnThisHost(OfferUrl.Parse(o.OfferUrl).CredentialOfferUri!);

            Assert.Equal(HttpStatusCode.OK, (await wallet.GetAsync(UriOf(limited))).Status);
            Assert.Equal(HttpStatusCode.OK, (await wallet.GetAsync(UriOf(limited))).Status);
            var codes = await RowsAsync(server, "pre_authorized_codes");
            var events = await EventCountAsync(server, tenant.TenantId);
            var refused = await wallet.GetAsync(UriOf(limited));
            var unchangedCodes = await RowsAsync(server, "pre_authorized_codes");
            var unchangedEvents = await EventCountAsync(server, tenant.TenantId);
            var otherOffer = await wallet.GetAsync(UriOf(other));

            Refused.AsJson(refused);
            Assert.Contains("offer", refused.ErrorDescription, StringComparison.Ordinal);
            Assert.Equal(codes, unchangedCodes);
            Assert.Equal(events, unchangedEvents);
            Assert.Equal(HttpStatusCode.OK, otherOffer.Status);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task PerOffer_TokenOverTheLimit_KeepsTheCodeAndTheUseWhileAnotherOfferRedeems()
    {
        var server = await LimitedServer.StartAsync(Provider, TestLimits.Low("PerOfferToken", 1));
        try
        {
            var tenant = await server.CreateTenantAsync();
            var limited = await LimitedServer.OfferAsync(tenant);
            var other = await LimitedServer.OfferAsync(tenant);
            using var wallet = WalletSetup.WalletOn(server);
            var first = await wallet.ResolveCodeAsync(limited.OfferUrl);
            var second = await wallet.ResolveCodeAsync(limited.OfferUrl);

            Assert.Equal(HttpStatusCode.OK, (await wallet.RedeemCodeAsync(tenant.TenantId, first)).Status);
            var before = await DatabaseSnapshot.TakeAsync(server);
            var events = await EventCountAsync(server, tenant.TenantId);
            var refused = await wallet.RedeemCodeAsync(tenant.TenantId, second);
            var after = await DatabaseSnapshot.TakeAsync(server);
            var unchangedEvents = await EventCountAsync(server, tenant.TenantId);
            var otherToken = await wallet.RedeemCodeAsync(tenant.TenantId, await wallet.ResolveCodeAsync(other.OfferUrl));

            Refused.AsJson(refused);
            Assert.Empty(DatabaseDelta.Between(before, after).Changes);
            Assert.Equal(events, unchangedEvents);
            Assert.Equal(HttpStatusCode.OK, otherToken.Status);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task PerOffer_SessionRequestsOverTheLimit_AreRefusedBeforeTheBodyIsRecorded()
    {
        var server = await LimitedServer.StartAsync(Provider, TestLimits.Low("PerOfferSession", 1));
        try
        {
            var tenant = await server.CreateTenantAsync();
            var limited = await LimitedServer.OfferAsync(tenant);
            var other = await LimitedServer.OfferAsync(tenant);
            using var wallet = WalletSetup.WalletOn(server);
            var token = await wallet.AccessTokenAsync(tenant.TenantId, limited.OfferUrl);
            var otherToken = await wallet.AccessTokenAsync(tenant.TenantId, other.OfferUrl);

            // A credential request of the wrong shape is refused and the refusal recorded: one event.
            var events = await EventCountAsync(server, tenant.TenantId);
            var firstReply = await wallet.CredentialAsync(tenant.TenantId, token, new JsonObject());
            var recorded = await EventCountAsync(server, tenant.TenantId);
            var refused = await wallet.CredentialAsync(tenant.TenantId, token, new JsonObject());
            var notification = await wallet.NotificationAsync(tenant.TenantId, token, new JsonObject());
            var unchanged = await EventCountAsync(server, tenant.TenantId);
            var otherReply = await wallet.CredentialAsync(tenant.TenantId, otherToken, new JsonObject());

            Assert.Equal(HttpStatusCode.BadRequest, firstReply.Status);
            Assert.Equal(events + 1, recorded);
            Refused.AsJson(refused);
            Refused.AsJson(notification);
            Assert.Equal(recorded, unchanged);
            Assert.Equal(HttpStatusCode.BadRequest, otherReply.Status);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }
}

public sealed class RateLimitTests_Sqlite : RateLimitTests
{
    protected override string Provider => "Sqlite";
}

public sealed class RateLimitTests_Postgres : RateLimitTests
{
    protected override string Provider => "Postgres";
}
