using Issuer2.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Issuer2.Server.Tests.Fuzz;

/// <summary>
/// Property-based fuzzing of every wallet endpoint (issue 9): CsCheck generates a valid request and one mutation of
/// it, case by case from one printed seed (ISSUER2_FUZZ_SEED replays it), 2,000 cases per endpoint. Every answer:
/// no 5xx; the expected status and spec error code; the error body exactly {error, error_description} with an ASCII
/// description; Cache-Control: no-store; WWW-Authenticate exactly on 401; Allow on 405. Every batch: the database
/// changed by exactly the allowed deltas (<see cref="Ledger"/>).
/// </summary>
public abstract class FuzzTests(ServerFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public Task Offer_AnyMutation_GetsTheSpecAnswerAndChangesOnlyWhatIsAllowed() => RunAsync(w => new ResolveFuzz(w));

    [Fact]
    public Task Token_AnyMutation_GetsTheSpecAnswerAndChangesOnlyWhatIsAllowed() => RunAsync(w => new TokenFuzz(w));

    [Fact]
    public Task Credential_AnyMutation_GetsTheSpecAnswerAndChangesOnlyWhatIsAllowed() => RunAsync(w => new CredentialFuzz(w));

    [Fact]
    public Task Notification_AnyMutation_GetsTheSpecAnswerAndChangesOnlyWhatIsAllowed() => RunAsync(w => new NotificationFuzz(w));

    [Fact]
    public Task Nonce_AnyMutation_GetsTheSpecAnswerAndChangesNothing() => RunAsync(w => new NonceFuzz(w));

    [Fact]
    public Task Metadata_AnyMutation_GetsTheSpecAnswerAndChangesNothing() => RunAsync(w => new MetadataFuzz(w));

    private async Task RunAsync<TLane>(Func<FuzzWorld, FuzzTarget<TLane>> target)
    {
        using var world = await FuzzWorld.CreateAsync(fixture);
        await FuzzRunner.RunAsync(target(world), fixture, output);
    }
}

/// <summary>
/// The fuzz suite resolves one offer thousands of times without redeeming its codes: it lifts the cap of live codes
/// per offer (docs/security.md) that would otherwise answer 429 after 100, and it expects one event per refusal, so it
/// lifts the coalescing of identical refusal events (five per ten minutes by default).
/// </summary>
internal static class FuzzLimits
{
    public static readonly IReadOnlyDictionary<string, string> Configuration = new Dictionary<string, string>
    {
        ["Issuer2:Caps:MaxLiveSecretsPerOffer"] = "1000000",
        ["Issuer2:Caps:LiveSecretsSlack"] = "1000000",
        ["Issuer2:Caps:RefusalEventsPerWindow"] = "1000000",
    };
}

public sealed class FuzzSqliteServerFixture : SqliteServerFixture
{
    protected override IReadOnlyDictionary<string, string> Configuration => FuzzLimits.Configuration;
}

public sealed class FuzzPostgresServerFixture : PostgresServerFixture
{
    protected override IReadOnlyDictionary<string, string> Configuration => FuzzLimits.Configuration;
}

public sealed class FuzzTests_Sqlite(FuzzSqliteServerFixture fixture, ITestOutputHelper output)
    : FuzzTests(fixture, output), IClassFixture<FuzzSqliteServerFixture>;

public sealed class FuzzTests_Postgres(FuzzPostgresServerFixture fixture, ITestOutputHelper output)
    : FuzzTests(fixture, output), IClassFixture<FuzzPostgresServerFixture>;
