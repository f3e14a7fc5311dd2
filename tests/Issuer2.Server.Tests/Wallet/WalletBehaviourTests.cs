using System.Net;
using System.Text.Json.Nodes;
using Issuer2.Core.Wallet;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Issuer2.Server.Tests.Wallet;

/// <summary>
/// The wallet flow's rules over time and state, driven by a C# wallet against the host with a fake clock:
/// token and nonce lifetimes, revocation, offers that are gone, no-store responses, authorization_details,
/// the maintenance purge and the event log of one issuance.
/// </summary>
public abstract class WalletBehaviourTests(ServerFixture fixture)
{
    [Fact]
    public async Task AccessToken_OnceItsOfferIsRevoked_IsInvalidToken()
    {
        using var w = await BadInputWorld.CreateAsync(fixture);
        var offer = await w.OfferAsync(r => r.MaxUses = 2);
        var token = await w.Wallet.AccessTokenAsync(w.A.TenantId, offer.OfferUrl);

        await w.A.Clients.Offers.RevokeOfferAsync(new RevokeOfferRequest { Name = offer.Offer.Name });
        var reply = await w.Wallet.CredentialAsync(w.A.TenantId, token, w.CredentialBody(w.ValidProof(await w.NonceAsync())));

        Assert.Equal(HttpStatusCode.Unauthorized, reply.Status);
        Assert.Equal("invalid_token", reply.Error);
        Assert.StartsWith("Bearer", reply.WwwAuthenticate, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AccessToken_AfterFiveMinutes_IsInvalidToken()
    {
        using var w = await BadInputWorld.CreateAsync(fixture);
        var offer = await w.OfferAsync();
        var code = await w.Wallet.ResolveCodeAsync(offer.OfferUrl);
        var tokenReply = await w.Wallet.RedeemCodeAsync(w.A.TenantId, code);
        Assert.Equal(HttpStatusCode.OK, tokenReply.Status);
        Assert.Equal("Bearer", tokenReply.Text("token_type"));
        Assert.InRange(tokenReply.Json.GetProperty("expires_in").GetInt32(), 1, 300);

        fixture.Time.Advance(TimeSpan.FromMinutes(6));
        var reply = await w.Wallet.CredentialAsync(w.A.TenantId, tokenReply.Text("access_token"), w.CredentialBody(w.ValidProof(await w.NonceAsync())));

        Assert.Equal(HttpStatusCode.Unauthorized, reply.Status);
        Assert.Equal("invalid_token", reply.Error);
        Assert.StartsWith("Bearer", reply.WwwAuthenticate, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Nonce_AfterFiveMinutes_IsInvalidNonce()
    {
        using var w = await BadInputWorld.CreateAsync(fixture);
        var nonce = await w.NonceAsync();

        fixture.Time.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));
        var (token, _) = await w.SessionAsync();
        var reply = await w.Wallet.CredentialAsync(w.A.TenantId, token, w.CredentialBody(w.ValidProof(nonce)));

        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Equal("invalid_nonce", reply.Error);
        // The same session succeeds with a fresh nonce: only the nonce was at fault.
        var retry = await w.Wallet.CredentialAsync(w.A.TenantId, token, w.CredentialBody(w.ValidProof(await w.NonceAsync())));
        Assert.Equal(HttpStatusCode.OK, retry.Status);
    }

    [Fact]
    public async Task Nonce_OfTenantB_IsInvalidNonceAtTenantA()
    {
        using var w = await BadInputWorld.CreateAsync(fixture);
        var nonceOfB = await w.Wallet.FreshNonceAsync(w.B.TenantId);
        var (token, _) = await w.SessionAsync();

        var reply = await w.Wallet.CredentialAsync(w.A.TenantId, token, w.CredentialBody(w.ValidProof(nonceOfB)));

        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Equal("invalid_nonce", reply.Error);
    }

    [Theory]
    [InlineData("unknown")]
    [InlineData("expired")]
    [InlineData("revoked")]
    [InlineData("used up")]
    [InlineData("locked")]
    public async Task OfferByReference_ThatIsNoLongerActive_Is404WithJsonError(string state)
    {
        var tenant = await fixture.CreateTenantAsync(t => t.PinAttemptLimit = 1);
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        using var wallet = WalletSetup.WalletOn(fixture);
        var offer = await ServerFixture.CreateOfferAsync(tenant, profile, r =>
        {
            r.Lifetime = Samples.Minutes(10);
            if (state == "locked")
            {
                r.TxCode = new TxCodeOptions { Length = 6 };
            }
        });
        var uri = OfferUrl.Parse(offer.OfferUrl).CredentialOfferUri!;
        switch (state)
        {
            case "unknown":
                uri = $"{tenant.Tenant.CredentialIssuer}/offers/{TestEnvironment.RandomText(43)}";
                break;
            case "expired":
                fixture.Time.Advance(TimeSpan.FromMinutes(11));
                break;
            case "revoked":
                await tenant.Clients.Offers.RevokeOfferAsync(new RevokeOfferRequest { Name = offer.Offer.Name });
                break;
            case "used up":
                await wallet.AccessTokenAsync(tenant.TenantId, offer.OfferUrl);
                break;
            case "locked":
                var code = await wallet.ResolveCodeAsync(offer.OfferUrl);
                Assert.Equal("invalid_grant", (await wallet.RedeemCodeAsync(tenant.TenantId, code, offer.TxCode == "000000" ? "111111" : "000000")).Error);
                break;
        }

        var reply = await wallet.GetAsync(wallet.OnThisHost(uri));

        Assert.Equal(HttpStatusCode.NotFound, reply.Status);
        Assert.Equal("application/json", reply.ContentType);
        Assert.Equal("no-store", reply.CacheControl);
        Assert.False(string.IsNullOrEmpty(reply.Error));
        var expectedState = state switch
        {
            "unknown" => OfferState.Active,
            "expired" => OfferState.Expired,
            "revoked" => OfferState.Revoked,
            "used up" => OfferState.UsedUp,
            _ => OfferState.Locked,
        };
        Assert.Equal(expectedState, (await tenant.Clients.Offers.GetOfferAsync(new GetOfferRequest { Name = offer.Offer.Name })).Offer.State);
    }

    [Fact]
    public async Task FullFlow_OfferTokenNonceCredentialAndNotificationResponses_AreNoStore()
    {
        using var w = await BadInputWorld.CreateAsync(fixture);
        var offer = await w.OfferAsync();

        var resolved = await w.Wallet.GetAsync(w.Wallet.OnThisHost(OfferUrl.Parse(offer.OfferUrl).CredentialOfferUri!));
        var token = await w.Wallet.RedeemCodeAsync(w.A.TenantId, TestWallet.CodeOf(resolved.Json));
        var nonce = await w.Wallet.NonceAsync(w.A.TenantId);
        var credential = await w.Wallet.CredentialAsync(w.A.TenantId, token.Text("access_token"), w.CredentialBody(w.ValidProof(nonce.Text("c_nonce"))));
        var notification = await w.Wallet.NotificationAsync(w.A.TenantId, token.Text("access_token"),
            new JsonObject { ["notification_id"] = credential.Text("notification_id"), ["event"] = "credential_accepted" });

        foreach (var (reply, status) in new[] { (resolved, 200), (token, 200), (nonce, 200), (credential, 200), (notification, 204) })
        {
            Assert.True(reply.StatusCode == status, reply.ToString());
            Assert.Equal("no-store", reply.CacheControl);
        }

        Assert.Equal(w.Issuer, resolved.Text("credential_issuer"));
        Assert.Equal([w.Granted.ProfileId], MetadataTests.Strings(resolved.Json.GetProperty("credential_configuration_ids")));
        Assert.False(resolved.Json.GetProperty("grants").GetProperty(TestWallet.PreAuthorizedGrant).TryGetProperty("tx_code", out _));
        Assert.Single(credential.Json.GetProperty("credentials").EnumerateArray());
    }

    [Fact]
    public async Task Notification_Repeated_IsAcceptedOnceAndRecordedOnce()
    {
        using var w = await BadInputWorld.CreateAsync(fixture);
        var (token, notificationId, offer) = await w.IssuedAsync();
        var body = new JsonObject { ["notification_id"] = notificationId, ["event"] = "credential_deleted" };

        var first = await w.Wallet.NotificationAsync(w.A.TenantId, token, body);
        var second = await w.Wallet.NotificationAsync(w.A.TenantId, token, body);

        Assert.Equal(HttpStatusCode.NoContent, first.Status);
        Assert.Equal(HttpStatusCode.NoContent, second.Status);
        var session = Assert.Single((await w.A.Clients.Offers.ListOfferSessionsAsync(new ListOfferSessionsRequest { Parent = offer.Offer.Name })).Sessions);
        Assert.Equal("credential_deleted", Assert.Single(session.Credentials).NotificationEvent);
        var events = await fixture.ReadEventsUntilAsync(w.A.TenantId, e => e.Type == "notification.received" && e.OfferId == offer.Offer.OfferId);
        Assert.Single(events, e => e.Type == "notification.received" && e.OfferId == offer.Offer.OfferId);
    }

    [Fact]
    public async Task AuthorizationDetails_InTokenRequest_ReturnCredentialIdentifiers_WhichTheCredentialRequestMustUse()
    {
        using var w = await BadInputWorld.CreateAsync(fixture);
        var offer = await w.OfferAsync();
        var code = await w.Wallet.ResolveCodeAsync(offer.OfferUrl);
        var details = new JsonArray(new JsonObject { ["type"] = "openid_credential", ["credential_configuration_id"] = w.Granted.ProfileId });

        var tokenReply = await w.Wallet.TokenAsync(w.A.TenantId,
            ("grant_type", TestWallet.PreAuthorizedGrant), ("pre-authorized_code", code), ("authorization_details", details.ToJsonString()));

        Assert.Equal(HttpStatusCode.OK, tokenReply.Status);
        var granted = Assert.Single(tokenReply.Json.GetProperty("authorization_details").EnumerateArray());
        Assert.Equal("openid_credential", granted.GetProperty("type").GetString());
        Assert.Equal(w.Granted.ProfileId, granted.GetProperty("credential_configuration_id").GetString());
        var identifier = Assert.Single(MetadataTests.Strings(granted.GetProperty("credential_identifiers")));
        var token = tokenReply.Text("access_token");

        var byConfiguration = await w.Wallet.CredentialAsync(w.A.TenantId, token, w.CredentialBody(w.ValidProof(await w.NonceAsync())));
        Assert.Equal(HttpStatusCode.BadRequest, byConfiguration.Status);
        Assert.Equal("invalid_credential_request", byConfiguration.Error);

        var byIdentifier = await w.Wallet.CredentialAsync(w.A.TenantId, token, new JsonObject
        {
            ["credential_identifier"] = identifier,
            ["proofs"] = new JsonObject { ["jwt"] = new JsonArray(w.ValidProof(await w.NonceAsync())) },
        });
        Assert.Equal(HttpStatusCode.OK, byIdentifier.Status);
    }

    [Fact]
    public async Task MaintenancePurge_RemovesExpiredCodesTokensAndNonces_KeepsSessionsAndIssuedCredentials()
    {
        using var w = await BadInputWorld.CreateAsync(fixture);
        await w.IssuedAsync();
        await w.CodeAsync();
        var tenantId = w.A.TenantId;
        var before = await DatabaseSnapshot.TakeAsync(fixture);
        Assert.Equal(2, OfTenant(before, "pre_authorized_codes", tenantId));
        Assert.Equal(1, OfTenant(before, "access_tokens", tenantId));
        Assert.NotEqual(0, before.Count("consumed_nonces"));

        fixture.Time.Advance(TimeSpan.FromMinutes(10));
        await using (var scope = fixture.Host.App.Services.CreateAsyncScope())
        {
            var store = scope.ServiceProvider.GetRequiredService<IWalletRetention>();
            while (await store.PurgeExpiredAsync(fixture.Now, 2, CancellationToken.None) > 0)
            {
                // Short batches until nothing expired is left.
            }
        }

        var after = await DatabaseSnapshot.TakeAsync(fixture);
        Assert.Equal(0, OfTenant(after, "pre_authorized_codes", tenantId));
        Assert.Equal(0, OfTenant(after, "access_tokens", tenantId));
        Assert.Equal(0, after.Count("consumed_nonces"));
        Assert.Equal(OfTenant(before, "issuance_sessions", tenantId), OfTenant(after, "issuance_sessions", tenantId));
        Assert.Equal(1, OfTenant(after, "issued_credentials", tenantId));
        Assert.Equal(before.Checksum("issued_credentials"), after.Checksum("issued_credentials"));
        Assert.Equal(before.Checksum("offers"), after.Checksum("offers"));
    }

    [Fact]
    public async Task EventLog_OfOneFullFlow_HoldsEachStepInOrder()
    {
        using var w = await BadInputWorld.CreateAsync(fixture);
        var (token, notificationId, offer) = await w.IssuedAsync();
        Assert.Equal(HttpStatusCode.NoContent, (await w.Wallet.NotificationAsync(w.A.TenantId, token,
            new JsonObject { ["notification_id"] = notificationId, ["event"] = "credential_accepted" })).Status);

        var events = await fixture.ReadEventsUntilAsync(w.A.TenantId, e => e.Type == "notification.received" && e.OfferId == offer.Offer.OfferId);

        Assert.Equal(
            ["offer.created", "offer.resolved", "token.issued", "credential.issued", "session.completed", "notification.received"],
            events.Where(e => e.OfferId == offer.Offer.OfferId).Select(e => e.Type));
        var sessionIds = events.Where(e => e.OfferId == offer.Offer.OfferId && e.Type is not ("offer.created" or "offer.resolved")).Select(e => e.SessionId).Distinct().ToList();
        Assert.NotNull(Assert.Single(sessionIds));
    }

    private static int OfTenant(DatabaseSnapshot snapshot, string table, string tenantId) =>
        snapshot[table].Count(r => r["tenant_id"] == tenantId);
}

public sealed class WalletBehaviourTests_Sqlite(SqliteServerFixture fixture)
    : WalletBehaviourTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class WalletBehaviourTests_Postgres(PostgresServerFixture fixture)
    : WalletBehaviourTests(fixture), IClassFixture<PostgresServerFixture>;
