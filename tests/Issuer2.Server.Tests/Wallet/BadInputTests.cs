using System.Text.Json;
using Issuer2.Server.Tests.Infrastructure;

namespace Issuer2.Server.Tests.Wallet;

/// <summary>
/// Bad requests to every wallet endpoint, one test per row of <see cref="BadInputCases"/>: the spec's error code and
/// status, a JSON body of exactly error and error_description, Cache-Control: no-store, never a 500, and — compared
/// on a snapshot of every table before and after — no change beyond what the row allows.
/// </summary>
public abstract class BadInputTests(ServerFixture fixture)
{
    protected async Task RunAsync(string row)
    {
        using var world = await BadInputWorld.CreateAsync(fixture);
        var prepared = await BadInputCases.PrepareAsync(row, world);
        var before = await DatabaseSnapshot.TakeAsync(fixture);

        var reply = await world.Wallet.SendAsync(prepared.Request);

        var after = await DatabaseSnapshot.TakeAsync(fixture);
        Assert.True(reply.StatusCode < 500, $"a server error: {reply}");
        Assert.True(reply.StatusCode == prepared.Status && reply.Error == prepared.Error, $"expected {prepared.Status} {prepared.Error}, got {reply}");
        Assert.Equal("application/json", reply.ContentType);
        Assert.Equal("no-store", reply.CacheControl);
        Assert.Equal(["error", "error_description"], reply.Json.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(JsonValueKind.String, reply.Json.GetProperty("error_description").ValueKind);
        Assert.False(string.IsNullOrWhiteSpace(reply.ErrorDescription));
        if (reply.StatusCode == 401)
        {
            // RFC 6750 §3 at resources; at the token endpoint (RFC 6749 §5.2) the scheme a client would authenticate with.
            Assert.NotNull(reply.WwwAuthenticate);
            var tokenEndpoint = prepared.Request.RequestUri!.AbsolutePath.EndsWith("/token", StringComparison.Ordinal);
            Assert.StartsWith(tokenEndpoint ? "Basic" : "Bearer", reply.WwwAuthenticate, StringComparison.Ordinal);
        }

        AssertAllowedChange(prepared, world, before, after);
    }

    private static void AssertAllowedChange(PreparedRequest prepared, BadInputWorld world, DatabaseSnapshot before, DatabaseSnapshot after)
    {
        var delta = DatabaseDelta.Between(before, after);
        var expectedTables = prepared.Allowed switch
        {
            AllowedChange.Nothing => Array.Empty<string>(),
            AllowedChange.WrongPin => ["events", "offers"],
            _ => ["events"],
        };
        Assert.True(
            expectedTables.SequenceEqual(delta.Changes.Keys.Order(StringComparer.Ordinal)),
            $"allowed: {prepared.Allowed}; changed:\n{delta}");
        if (prepared.Allowed == AllowedChange.Nothing)
        {
            return;
        }

        // Exactly one new event, of the refusal's type, for the offer the request named.
        var (removedEvents, addedEvents) = delta.Changes["events"];
        Assert.Empty(removedEvents);
        var refusal = Assert.Single(addedEvents);
        Assert.Equal(prepared.Allowed == AllowedChange.CredentialRefusal ? "credential.refused" : "token.refused", refusal["type"]);
        Assert.Equal(world.A.TenantId, refusal["tenant_id"]);
        Assert.Equal(prepared.OfferId, refusal["offer_id"]);

        if (prepared.Allowed == AllowedChange.WrongPin)
        {
            // The offer's row: pin_failed_attempts one up, every other column as it was.
            var (removedOffers, addedOffers) = delta.Changes["offers"];
            var old = Assert.Single(removedOffers);
            var now = Assert.Single(addedOffers);
            Assert.Equal(prepared.OfferId, old["id"]);
            Assert.Equal(prepared.OfferId, now["id"]);
            Assert.Equal(int.Parse(old["pin_failed_attempts"]!, System.Globalization.CultureInfo.InvariantCulture) + 1,
                int.Parse(now["pin_failed_attempts"]!, System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(
                old.Columns.Where(c => c.Key != "pin_failed_attempts").OrderBy(c => c.Key, StringComparer.Ordinal),
                now.Columns.Where(c => c.Key != "pin_failed_attempts").OrderBy(c => c.Key, StringComparer.Ordinal));
        }
    }
}

public sealed class BadInputTests_Sqlite(SqliteServerFixture fixture)
    : BadInputTests(fixture), IClassFixture<SqliteServerFixture>
{
    [Theory]
    [MemberData(nameof(BadInputCases.All), MemberType = typeof(BadInputCases))]
    public Task BadRequest_GetsSpecErrorAndStatus_AndChangesOnlyWhatIsAllowed(string request) => RunAsync(request);
}

public sealed class BadInputTests_Postgres(PostgresServerFixture fixture)
    : BadInputTests(fixture), IClassFixture<PostgresServerFixture>
{
    [Theory]
    [MemberData(nameof(BadInputCases.PostgresSubset), MemberType = typeof(BadInputCases))]
    public Task BadRequest_GetsSpecErrorAndStatus_AndChangesOnlyWhatIsAllowed(string request) => RunAsync(request);
}
