using System.Text.Json.Nodes;
using Issuer2.Core.Dpop;
using Issuer2.Core.Tenants;
using Issuer2.Core.Tests.Fakes;
using Issuer2.Core.Wallet;
using Issuer2.Tests.Shared;

namespace Issuer2.Core.Tests.Dpop;

/// <summary>The tenant's DPoP policy in front of the token endpoint and at the resources.</summary>
public sealed class SenderConstraintTests : IDisposable
{
    private readonly TestBed _bed = TestBed.WithEmployeeProfile();
    private readonly HolderKey _key = new();
    private readonly HolderKey _other = new();

    public void Dispose()
    {
        _key.Dispose();
        _other.Dispose();
    }

    private Tenant Tenant(DpopMode mode, bool nonce = false)
    {
        var tenant = _bed.Db.Tenants.Single(t => t.Id == TestBed.TenantId);
        tenant.Dpop = new DpopSettings(mode, nonce);
        return tenant;
    }

    private string Proof(HolderKey key, string path, string? accessToken = null, string? nonce = null, string method = "POST")
    {
        var payload = new JsonObject
        {
            ["jti"] = Guid.NewGuid().ToString(), ["htm"] = method, ["htu"] = $"{TestBed.BaseUrl}/{TestBed.TenantId}{path}",
            ["iat"] = _bed.Clock.GetUtcNow().ToUnixTimeSeconds(),
        };
        if (accessToken is not null) payload["ath"] = DpopProofValidator.TokenHash(accessToken);
        if (nonce is not null) payload["nonce"] = nonce;
        return key.Sign(new JsonObject { ["typ"] = "dpop+jwt", ["alg"] = "ES256", ["jwk"] = key.PublicJwk() }, payload);
    }

    [Fact]
    public async Task Off_IgnoresEvenABadProof_BearerToken()
    {
        var key = await _bed.Sender.KeyAsync(Tenant(DpopMode.Off), new DpopHeader("not a jwt", false), "/token", default);

        Assert.True(key.IsSuccess);
        Assert.Null(key.Value);
    }

    [Fact]
    public async Task Optional_NoProofIsBearer_AProofBindsItsKey_ABadProofIsRefused()
    {
        var tenant = Tenant(DpopMode.Optional);

        Assert.Null((await _bed.Sender.KeyAsync(tenant, DpopHeader.None, "/token", default)).Value);
        Assert.Equal(_key.Thumbprint(), (await _bed.Sender.KeyAsync(tenant, new DpopHeader(Proof(_key, "/token"), false), "/token", default)).Value);
        var bad = await _bed.Sender.KeyAsync(tenant, new DpopHeader(Proof(_key, "/par"), false), "/token", default);
        Assert.Equal(WalletErrorCode.InvalidDpopProof, bad.Error?.Code);
        Assert.False(bad.Error!.DpopChallenge);
        var twice = await _bed.Sender.KeyAsync(tenant, new DpopHeader(null, true), "/token", default);
        Assert.Equal(WalletErrorCode.InvalidDpopProof, twice.Error?.Code);
    }

    [Fact]
    public async Task Required_NoProofIsInvalidDpopProof_WithNonce_UseDpopNonceCarriesOne_ThatNonceWorks()
    {
        var tenant = Tenant(DpopMode.Required, nonce: true);

        Assert.Equal(WalletErrorCode.InvalidDpopProof, (await _bed.Sender.KeyAsync(tenant, DpopHeader.None, "/token", default)).Error?.Code);
        var first = await _bed.Sender.KeyAsync(tenant, new DpopHeader(Proof(_key, "/token"), false), "/token", default);
        Assert.Equal(WalletErrorCode.UseDpopNonce, first.Error?.Code);
        Assert.NotNull(first.Error!.DpopNonce);
        var second = await _bed.Sender.KeyAsync(tenant, new DpopHeader(Proof(_key, "/token", nonce: first.Error.DpopNonce), false), "/token", default);
        Assert.Equal(_key.Thumbprint(), second.Value);
        Assert.NotNull(_bed.Sender.FreshNonce(tenant));
        Assert.Null(_bed.Sender.FreshNonce(Tenant(DpopMode.Required, nonce: false)));
    }

    public static TheoryData<string, string, bool, bool, bool, WalletErrorCode?> ResourceCases => new()
    {
        // case, scheme, bound, with proof, proof of the other key, expected
        { "bound, DPoP scheme, proof of its key", "DPoP", true, true, false, null },
        { "bound token sent as Bearer", "Bearer", true, false, false, WalletErrorCode.InvalidToken },
        { "bound, DPoP scheme, no proof", "DPoP", true, false, false, WalletErrorCode.InvalidDpopProof },
        { "bound, proof of another key", "DPoP", true, true, true, WalletErrorCode.InvalidToken },
        { "unbound token sent with the DPoP scheme", "DPoP", false, false, false, WalletErrorCode.InvalidToken },
        { "unbound token as Bearer", "Bearer", false, false, false, null },
    };

    [Theory]
    [MemberData(nameof(ResourceCases))]
    public async Task Resource_BoundTokensNeedTheirKey_WithTheDpopChallenge(string why, string scheme, bool bound, bool withProof, bool otherKey, WalletErrorCode? expected)
    {
        var tenant = Tenant(DpopMode.Optional);
        const string Token = "an-access-token";
        var header = withProof ? new DpopHeader(Proof(otherKey ? _other : _key, "/credential", Token), false) : DpopHeader.None;

        var refused = await _bed.Sender.CheckResourceAsync(tenant, scheme, Token, bound ? _key.Thumbprint() : null, header, "POST", "/credential", default);

        Assert.True(expected == refused?.Code, why);
        if (refused is not null) Assert.True(refused.DpopChallenge, why);
    }
}
