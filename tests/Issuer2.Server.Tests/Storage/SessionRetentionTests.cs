using Issuer2.Core.Sessions;
using Issuer2.Core.Tokens;
using Issuer2.Core.Wallet;
using Issuer2.Server.Tests.Infrastructure;
using Issuer2.Server.Tests.Wallet;
using Issuer2.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Issuer2.Server.Tests.Storage;

/// <summary>
/// Sessions and issued-credential records on a real database: kept until every credential of the session expired and
/// then for the retention period (or that long after the token of a session without credential), then purged in
/// bounded batches. The purge is called with explicit times, so the shared fake clock stays where it is.
/// </summary>
public abstract class SessionRetentionTests(ServerFixture fixture)
{
    private static readonly SessionRetention NinetyDays = SessionRetention.Default;

    private async Task<T> WithDbAsync<T>(Func<IssuerDbContext, Task<T>> read)
    {
        await using var scope = fixture.Host.App.Services.CreateAsyncScope();
        return await read(scope.ServiceProvider.GetRequiredService<IssuerDbContext>());
    }

    private async Task<int> PurgeAsync(DateTimeOffset now, int batchSize)
    {
        await using var scope = fixture.Host.App.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<IWalletRetention>().PurgeEndedSessionsAsync(NinetyDays, now, batchSize, CancellationToken.None);
    }

    private async Task PurgeAllAsync(DateTimeOffset now)
    {
        while (await PurgeAsync(now, 50) > 0)
        {
            // Short batches until nothing past retention is left.
        }
    }

    private Task<List<string>> SessionsOfAsync(string tenantId) =>
        WithDbAsync(db => db.Sessions.Where(s => s.TenantId == tenantId).Select(s => s.Id).ToListAsync());

    private Task<int> CredentialsOfAsync(string tenantId) =>
        WithDbAsync(db => db.IssuedCredentials.CountAsync(c => c.TenantId == tenantId));

    [Fact]
    public async Task Purge_KeepsIssuedSessionsUntilTheCredentialExpiredPlusRetention_AndEmptySessionsRetentionAfterTheirToken()
    {
        using var w = await BadInputWorld.CreateAsync(fixture);
        await w.IssuedAsync();
        await w.SessionAsync();
        var tenantId = w.A.TenantId;
        var credentialExpiry = await WithDbAsync(db => db.IssuedCredentials.Where(c => c.TenantId == tenantId).Select(c => c.ExpiresAt).SingleAsync());
        var issuedSession = await WithDbAsync(db => db.IssuedCredentials.Where(c => c.TenantId == tenantId).Select(c => c.SessionId).SingleAsync());
        var created = await WithDbAsync(db => db.Sessions.Where(s => s.TenantId == tenantId).Select(s => s.CreatedAt).ToListAsync());
        var lastTokenEnd = created.Max() + AccessTokens.Lifetime;
        var offers = await WithDbAsync(db => db.Offers.CountAsync(o => o.TenantId == tenantId));
        Assert.True(credentialExpiry > lastTokenEnd + TimeSpan.FromDays(1), "the profile's credentials outlive a token by more than a day");

        // Just within retention of both: nothing goes.
        await PurgeAllAsync(lastTokenEnd + NinetyDays.Period - TimeSpan.FromSeconds(1));
        Assert.Equal(2, (await SessionsOfAsync(tenantId)).Count);

        // The session without a credential goes 90 days after its token; the issued one stays while its credential is valid and 90 days on.
        await PurgeAllAsync(lastTokenEnd + NinetyDays.Period);
        Assert.Equal([issuedSession], await SessionsOfAsync(tenantId));
        await PurgeAllAsync(credentialExpiry + NinetyDays.Period - TimeSpan.FromSeconds(1));
        Assert.Equal([issuedSession], await SessionsOfAsync(tenantId));
        Assert.Equal(1, await CredentialsOfAsync(tenantId));

        await PurgeAllAsync(credentialExpiry + NinetyDays.Period);

        Assert.Empty(await SessionsOfAsync(tenantId));
        Assert.Equal(0, await CredentialsOfAsync(tenantId));
        Assert.Equal(0, await WithDbAsync(db => db.AccessTokens.CountAsync(t => t.TenantId == tenantId)));
        // The offers stay: their own rules decide about them.
        Assert.Equal(offers, await WithDbAsync(db => db.Offers.CountAsync(o => o.TenantId == tenantId)));
    }

    [Fact]
    public async Task Purge_RemovesAtMostOneBatchPerCall()
    {
        using var w = await BadInputWorld.CreateAsync(fixture);
        for (var i = 0; i < 5; i++) await w.SessionAsync();
        var far = fixture.Now + AccessTokens.Lifetime + NinetyDays.Period + TimeSpan.FromDays(1);
        var before = await WithDbAsync(db => db.Sessions.CountAsync());

        var purged = await PurgeAsync(far, 2);

        Assert.Equal(2, purged);
        Assert.Equal(before - 2, await WithDbAsync(db => db.Sessions.CountAsync()));
    }

    [Fact]
    public async Task Purge_WithZeroRetention_KeepsASessionWhoseTokenIsLive()
    {
        using var w = await BadInputWorld.CreateAsync(fixture);
        await w.SessionAsync();
        var tenantId = w.A.TenantId;

        // A retention of zero at the present: the session's token is still live, so the session has not ended.
        await using (var scope = fixture.Host.App.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<IWalletRetention>().PurgeEndedSessionsAsync(new SessionRetention(TimeSpan.Zero), fixture.Now, 50, CancellationToken.None);
        }

        Assert.Single(await SessionsOfAsync(tenantId));
    }
}

public sealed class SessionRetentionTests_Sqlite(SqliteServerFixture fixture)
    : SessionRetentionTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class SessionRetentionTests_Postgres(PostgresServerFixture fixture)
    : SessionRetentionTests(fixture), IClassFixture<PostgresServerFixture>;
