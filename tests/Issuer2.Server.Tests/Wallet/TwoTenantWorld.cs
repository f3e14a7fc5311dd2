using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;

namespace Issuer2.Server.Tests.Wallet;

/// <summary>The tenants a <see cref="TwoTenantWorld"/> is made of, created in this order.</summary>
public sealed record TwoTenants(TestTenant A, Profile Granted, Profile Other, TestTenant B, Profile ProfileOfB)
{
    /// <summary>Tenant A (set up by <paramref name="configureA"/>) with two profiles, then tenant B with one.</summary>
    public static async Task<TwoTenants> CreateAsync(ServerFixture fixture, Action<Tenant>? configureA = null)
    {
        var a = await fixture.CreateTenantAsync(configureA);
        var granted = await ServerFixture.CreateProfileAsync(a);
        var other = await ServerFixture.CreateProfileAsync(a);
        var b = await fixture.CreateTenantAsync();
        var profileOfB = await ServerFixture.CreateProfileAsync(b);
        return new TwoTenants(a, granted, other, b, profileOfB);
    }
}

/// <summary>
/// What the wallet-facing bad-input tests and the fuzzer send into: tenant A (where requests go) with the profile its
/// offers grant and a second one, tenant B (whose codes, tokens, nonces and ids must mean nothing at A), a wallet on
/// the host, and the host's clock.
/// </summary>
public abstract class TwoTenantWorld : IDisposable
{
    protected TwoTenantWorld(ServerFixture fixture, TwoTenants tenants)
    {
        Fixture = fixture;
        (A, Granted, Other, B, ProfileOfB) = tenants;
        Wallet = WalletSetup.WalletOn(fixture);
    }

    public ServerFixture Fixture { get; }

    public TestTenant A { get; }

    public Profile Granted { get; }

    /// <summary>Another profile of tenant A, which no offer here grants.</summary>
    public Profile Other { get; }

    public TestTenant B { get; }

    public Profile ProfileOfB { get; }

    public TestWallet Wallet { get; }

    public DateTimeOffset Now => Fixture.Now;

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            Wallet.Dispose();
        }
    }
}
