using System.Net;
using System.Security.Cryptography;
using Google.Protobuf.WellKnownTypes;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;

namespace Issuer2.Server.Tests.Wallet;

/// <summary>
/// Two server processes on one PostgreSQL database behave as one issuer: every one-time rule holds exactly once
/// under concurrent requests split across both hosts, and a change made on one host shows on the other at once.
/// </summary>
public sealed class TwoHostTests(TwoHostsFixture hosts) : IClassFixture<TwoHostsFixture>
{
    private const int Concurrency = 50;

    [Fact]
    public async Task OneCode_FiftyConcurrentTokenRequestsOnTwoHosts_ExactlyOneAccessToken()
    {
        var tenant = await hosts.CreateTenantAsync();
        var profile = await TwoHostsFixture.CreateProfileAsync(tenant);
        var offer = await TwoHostsFixture.CreateOfferAsync(tenant, profile, r => r.DeliveryMode = DeliveryMode.ByValue);
        var code = OfferUrl.Parse(offer.OfferUrl).PreAuthorizedCode();

        var replies = await AllAtOnceAsync(Concurrency, i => hosts.WalletFor(i).RedeemCodeAsync(tenant.TenantId, code));

        Assert.Equal(1, replies.Count(r => r.Status == HttpStatusCode.OK));
        Assert.Equal(Concurrency - 1, replies.Count(r => r.Status == HttpStatusCode.BadRequest && r.Error == "invalid_grant"));
        var stored = (await tenant.OnB.Offers.GetOfferAsync(new GetOfferRequest { Name = offer.Offer.Name })).Offer;
        Assert.Equal(1, stored.UseCount);
        Assert.Single((await tenant.OnB.Offers.ListOfferSessionsAsync(new ListOfferSessionsRequest { Parent = offer.Offer.Name })).Sessions);
    }

    [Fact]
    public async Task ThreeUseOffer_FiftyConcurrentResolveAndRedeemAttemptsOnTwoHosts_ExactlyThreeSessions()
    {
        var tenant = await hosts.CreateTenantAsync();
        var profile = await TwoHostsFixture.CreateProfileAsync(tenant);
        var offer = await TwoHostsFixture.CreateOfferAsync(tenant, profile, r => r.MaxUses = 3);
        var uri = OfferUrl.Parse(offer.OfferUrl).CredentialOfferUri!;

        // Each attempt resolves on one host and redeems on the other.
        var outcomes = await AllAtOnceAsync(Concurrency, async i =>
        {
            var resolved = await hosts.WalletFor(i).GetAsync(hosts.WalletFor(i).OnThisHost(uri));
            if (resolved.Status != HttpStatusCode.OK)
            {
                return ("resolve", resolved);
            }

            return ("token", await hosts.WalletFor(i + 1).RedeemCodeAsync(tenant.TenantId, TestWallet.CodeOf(resolved.Json)));
        });

        Assert.Equal(3, outcomes.Count(o => o.Item1 == "token" && o.Item2.Status == HttpStatusCode.OK));
        // Every other attempt found the offer used up (404) or at its cap of live codes (429: three uses + ten), or lost
        // the race for a use (invalid_grant).
        Assert.All(
            outcomes.Where(o => o.Item2.Status != HttpStatusCode.OK),
            o => Assert.True(
                (o.Item1 == "resolve" && o.Item2.Status == HttpStatusCode.NotFound)
                || (o.Item1 == "resolve" && (int)o.Item2.Status == 429 && o.Item2.Error == "temporarily_unavailable")
                || (o.Item1 == "token" && o.Item2.Status == HttpStatusCode.BadRequest && o.Item2.Error == "invalid_grant"),
                $"{o.Item1}: {o.Item2}"));
        var stored = (await tenant.OnB.Offers.GetOfferAsync(new GetOfferRequest { Name = offer.Offer.Name })).Offer;
        Assert.Equal(3, stored.UseCount);
        Assert.Equal(OfferState.UsedUp, stored.State);
        Assert.Equal(3, (await tenant.OnA.Offers.ListOfferSessionsAsync(new ListOfferSessionsRequest { Parent = offer.Offer.Name })).Sessions.Count);
    }

    [Fact]
    public async Task OneUseOffer_FiftyConcurrentResolutionsOnTwoHosts_MintExactlyTheCapOfLiveCodes()
    {
        var tenant = await hosts.CreateTenantAsync();
        var profile = await TwoHostsFixture.CreateProfileAsync(tenant);
        var offer = await TwoHostsFixture.CreateOfferAsync(tenant, profile, r => r.MaxUses = 1);
        var uri = OfferUrl.Parse(offer.OfferUrl).CredentialOfferUri!;

        var replies = await AllAtOnceAsync(Concurrency, i => hosts.WalletFor(i).GetAsync(hosts.WalletFor(i).OnThisHost(uri)));

        // One use plus the default slack of ten; the database decides for both hosts.
        Assert.Equal(11, replies.Count(r => r.Status == HttpStatusCode.OK));
        Assert.All(replies.Where(r => r.Status != HttpStatusCode.OK), r => Assert.True((int)r.Status == 429 && r.Error == "temporarily_unavailable" && r.RetryAfter is not null, r.ToString()));
        var stored = (await tenant.OnB.Offers.GetOfferAsync(new GetOfferRequest { Name = offer.Offer.Name })).Offer;
        Assert.Equal(11, stored.ResolutionCount);
    }

    [Fact]
    public async Task OneNonceMintedOnHostA_FiftyConcurrentCredentialRequestsFromFiftySessionsOnTwoHosts_ExactlyOneCredential()
    {
        var tenant = await hosts.CreateTenantAsync();
        var profile = await TwoHostsFixture.CreateProfileAsync(tenant);
        var offers = new List<CreateOfferResponse>();
        for (var i = 0; i < Concurrency; i++)
        {
            offers.Add(await TwoHostsFixture.CreateOfferAsync(tenant, profile));
        }

        var accessTokens = new List<string>();
        for (var i = 0; i < Concurrency; i++)
        {
            accessTokens.Add(await hosts.WalletFor(i).AccessTokenAsync(tenant.TenantId, offers[i].OfferUrl));
        }

        var nonce = await hosts.WalletA.FreshNonceAsync(tenant.TenantId);
        var keys = Enumerable.Range(0, Concurrency).Select(_ => new HolderKey()).ToList();
        try
        {
            var now = DateTimeOffset.UtcNow;
            var bodies = keys.Select(k => TestWallet.CredentialRequest(profile.ProfileId, k.Proof(tenant.CredentialIssuer, nonce, now))).ToList();

            var replies = await AllAtOnceAsync(Concurrency, i => hosts.WalletFor(i).CredentialAsync(tenant.TenantId, accessTokens[i], bodies[i]));

            Assert.Equal(1, replies.Count(r => r.Status == HttpStatusCode.OK));
            Assert.Equal(Concurrency - 1, replies.Count(r => r.Status == HttpStatusCode.BadRequest && r.Error == "invalid_nonce"));
            var issued = 0;
            foreach (var offer in offers)
            {
                issued += (await tenant.OnB.Offers.GetOfferAsync(new GetOfferRequest { Name = offer.Offer.Name })).Offer.IssuedCredentialCount;
            }

            Assert.Equal(1, issued);
        }
        finally
        {
            keys.ForEach(k => k.Dispose());
        }
    }

    [Fact]
    public async Task TwentyConcurrentDistinctWrongPinsOnTwoHosts_ExactlyLimitCounted_RestRefusedAsLocked_RightPinRefusedAfterwards()
    {
        var tenant = await hosts.CreateTenantAsync();
        var limit = tenant.Tenant.PinAttemptLimit;
        Assert.Equal(5, limit);
        var profile = await TwoHostsFixture.CreateProfileAsync(tenant);
        var offer = await TwoHostsFixture.CreateOfferAsync(tenant, profile, r => r.TxCode = new TxCodeOptions { Length = 6 });
        var code = await hosts.WalletA.ResolveCodeAsync(offer.OfferUrl);
        var wrongPins = new HashSet<string>(StringComparer.Ordinal);
        while (wrongPins.Count < 20)
        {
            var pin = RandomNumberGenerator.GetInt32(1_000_000).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
            if (pin != offer.TxCode)
            {
                wrongPins.Add(pin);
            }
        }

        var pins = wrongPins.ToList();
        var replies = await AllAtOnceAsync(pins.Count, i => hosts.WalletFor(i).RedeemCodeAsync(tenant.TenantId, code, pins[i]));

        Assert.All(replies, r => Assert.True(r.Status == HttpStatusCode.BadRequest && r.Error == "invalid_grant", r.ToString()));
        var counted = replies.Where(r => r.ErrorDescription!.StartsWith("The tx_code is wrong", StringComparison.Ordinal)).ToList();
        Assert.Equal(limit, counted.Count);
        Assert.Single(counted, r => r.ErrorDescription!.Contains("now locked", StringComparison.Ordinal));
        Assert.Equal(pins.Count - limit, replies.Count(r => !counted.Contains(r) && r.ErrorDescription!.Contains("locked", StringComparison.Ordinal)));

        var right = await hosts.WalletB.RedeemCodeAsync(tenant.TenantId, code, offer.TxCode);
        Assert.Equal(HttpStatusCode.BadRequest, right.Status);
        Assert.Equal("invalid_grant", right.Error);
        var stored = (await tenant.OnA.Offers.GetOfferAsync(new GetOfferRequest { Name = offer.Offer.Name })).Offer;
        Assert.Equal(OfferState.Locked, stored.State);
        Assert.Equal(limit, stored.PinFailedAttempts);
        Assert.Equal(0, stored.UseCount);
    }

    [Fact]
    public async Task Metadata_ChangedThroughHostA_IsServedByHostBAtOnce()
    {
        var tenant = await hosts.CreateTenantAsync();
        var profile = await TwoHostsFixture.CreateProfileAsync(tenant);
        var path = $"/.well-known/openid-credential-issuer/{tenant.TenantId}";
        // Host B builds (and caches) the document first.
        var before = (await hosts.WalletB.GetAsync(path)).Json.GetProperty("credential_configurations_supported");
        Assert.Equal(profile.Vct, before.GetProperty(profile.ProfileId).GetProperty("vct").GetString());
        Assert.Equal($"{TwoHostsFixture.PublicBaseUrl}/{tenant.TenantId}", (await hosts.WalletB.GetAsync(path)).Json.GetProperty("credential_issuer").GetString());

        await tenant.OnA.Profiles.UpdateProfileAsync(new UpdateProfileRequest
        {
            Profile = new Profile { Name = profile.Name, Vct = "https://credentials.example.com/updated-on-a" },
            UpdateMask = new FieldMask { Paths = { "vct" } },
        });
        var second = await TwoHostsFixture.CreateProfileAsync(tenant);

        var after = (await hosts.WalletB.GetAsync(path)).Json.GetProperty("credential_configurations_supported");
        Assert.Equal("https://credentials.example.com/updated-on-a", after.GetProperty(profile.ProfileId).GetProperty("vct").GetString());
        Assert.True(after.TryGetProperty(second.ProfileId, out _), after.GetRawText());
    }

    /// <summary>Starts every call behind one gate and opens it, so they reach the hosts together.</summary>
    private static async Task<T[]> AllAtOnceAsync<T>(int count, Func<int, Task<T>> call)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = Enumerable.Range(0, count).Select(async i =>
        {
            await gate.Task;
            return await call(i);
        }).ToList();
        gate.SetResult();
        return await Task.WhenAll(tasks);
    }
}
