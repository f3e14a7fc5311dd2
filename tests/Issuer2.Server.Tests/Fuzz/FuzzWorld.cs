using System.Text.Json.Nodes;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;
using Issuer2.Server.Tests.Wallet;

namespace Issuer2.Server.Tests.Fuzz;

/// <summary>An offer the fuzzer made, with its model: uses, wrong PINs, lock.</summary>
public sealed class FuzzOffer
{
    public required string Tenant { get; init; }

    public required string TenantId { get; init; }

    public required string OfferId { get; init; }

    public required string OfferUrl { get; init; }

    public required string UriToken { get; init; }

    public string? Pin { get; init; }

    public int MaxUses { get; init; }

    public int Uses { get; set; }

    public int WrongPins { get; set; }

    public bool Locked { get; set; }

    public bool Revoked { get; init; }

    public bool Active => !Revoked && !Locked && Uses < MaxUses;
}

/// <summary>
/// Where one endpoint's cases are sent: tenant A (two profiles: the one offers grant, and another), tenant B (whose
/// codes, tokens, nonces and ids must mean nothing at A), the wire client, and set-up helpers over the real
/// wallet flow. Tenants are new for each endpoint, so the ledger sees only this run's rows move.
/// </summary>
public sealed class FuzzWorld : TwoTenantWorld
{
    /// <summary>The tenant's PIN attempt limit (the default).</summary>
    public const int PinAttemptLimit = 5;

    private FuzzWorld(ServerFixture fixture, TwoTenants tenants)
        : base(fixture, tenants)
    {
        Wire = new WireClient(fixture.Host.HttpUrl);
        TenantNames = new Dictionary<string, string>(StringComparer.Ordinal) { [A.TenantId] = "A", [B.TenantId] = "B" };
    }

    public WireClient Wire { get; }

    public IReadOnlyDictionary<string, string> TenantNames { get; }

    public string IssuerA => A.Tenant.CredentialIssuer;

    public string IssuerB => B.Tenant.CredentialIssuer;

    public static async Task<FuzzWorld> CreateAsync(ServerFixture fixture) =>
        new(fixture, await TwoTenants.CreateAsync(fixture, t => t.PinAttemptLimit = PinAttemptLimit));

    public TestTenant TenantOf(string name) => name == "A" ? A : B;

    /// <summary>A BY_REFERENCE offer of A's granted profile (or B's profile), with a 6-digit PIN when asked.</summary>
    public async Task<FuzzOffer> OfferAsync(string tenant = "A", bool pin = false, int maxUses = 10_000, bool revoked = false)
    {
        var owner = TenantOf(tenant);
        var created = await ServerFixture.CreateOfferAsync(owner, tenant == "A" ? Granted : ProfileOfB, r =>
        {
            r.MaxUses = maxUses;
            if (pin)
            {
                r.TxCode = new TxCodeOptions { Length = 6 };
            }
        });
        if (revoked)
        {
            await owner.Clients.Offers.RevokeOfferAsync(new RevokeOfferRequest { Name = created.Offer.Name });
        }

        return new FuzzOffer
        {
            Tenant = tenant,
            TenantId = owner.TenantId,
            OfferId = created.Offer.OfferId,
            OfferUrl = created.OfferUrl,
            UriToken = OfferUrl.Parse(created.OfferUrl).TokenUnder(owner.Tenant.CredentialIssuer),
            Pin = pin ? created.TxCode : null,
            MaxUses = maxUses,
            Revoked = revoked,
        };
    }

    /// <summary>A fresh pre-authorized code of the offer (a resolution, made before the batch's ledger).</summary>
    public Task<string> CodeAsync(FuzzOffer offer) => Wallet.ResolveCodeAsync(offer.OfferUrl);

    /// <summary>An access token of a new session of the offer; with authorization_details the session has a credential_identifier.</summary>
    public async Task<string> SessionAsync(FuzzOffer offer, bool withIdentifier = false)
    {
        var code = await CodeAsync(offer);
        var form = new List<(string, string)> { ("grant_type", TestWallet.PreAuthorizedGrant), ("pre-authorized_code", code) };
        if (offer.Pin is not null)
        {
            form.Add(("tx_code", offer.Pin));
        }

        if (withIdentifier)
        {
            var configuration = offer.Tenant == "A" ? Granted.ProfileId : ProfileOfB.ProfileId;
            form.Add(("authorization_details", new JsonArray(new JsonObject { ["type"] = "openid_credential", ["credential_configuration_id"] = configuration }).ToJsonString()));
        }

        var reply = await Wallet.TokenAsync(offer.TenantId, [.. form]);
        Assert.True(reply.StatusCode == 200, $"token: {reply}");
        offer.Uses++;
        return reply.Text("access_token");
    }

    public Task<string> NonceAsync(string tenant = "A") => Wallet.FreshNonceAsync(TenantOf(tenant).TenantId);

    /// <summary>A session of the offer whose credential was issued (bound to <paramref name="keys"/>' holder key): its token and notification_id.</summary>
    public async Task<(string AccessToken, string NotificationId)> IssuedAsync(FuzzOffer offer, ProofKeys keys)
    {
        var token = await SessionAsync(offer);
        var issuer = TenantOf(offer.Tenant).Tenant.CredentialIssuer;
        var proof = ProofPlans.All[0].Make(keys, new ProofContext(issuer, await NonceAsync(offer.Tenant), Now, issuer));
        var configuration = offer.Tenant == "A" ? Granted.ProfileId : ProfileOfB.ProfileId;
        var reply = await Wallet.CredentialAsync(offer.TenantId, token, TestWallet.CredentialRequest(configuration, proof));
        Assert.True(reply.StatusCode == 200, $"credential: {reply}");
        return (token, reply.Text("notification_id"));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Wire.Dispose();
        }

        base.Dispose(disposing);
    }
}
