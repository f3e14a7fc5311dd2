using System.Text;
using System.Text.RegularExpressions;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;
using Issuer2.Storage;
using Microsoft.EntityFrameworkCore;

namespace Issuer2.Server.Tests;

/// <summary>
/// The server as separate OS processes: two hosts on one PostgreSQL database; the first start on SQLite generating
/// and showing the admin key once; the explicit migrate command.
/// </summary>
public sealed partial class ServerProcessTests
{
    private const string AdminKeyLinePrefix = "Admin API key (shown once): ";

    private static readonly string _kek = TestEnvironment.NewKeyEncryptionKey();

    [GeneratedRegex(@"^Admin API key \(shown once\): (?<key>i2_[A-Za-z0-9_-]{43})$")]
    private static partial Regex AdminKeyLine();

    [Fact]
    public async Task TwoHosts_StartedTogetherOnAnEmptyPostgresDatabase_MigrateItOnce_AndShareEverything()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        var dataA = TestEnvironment.NewTempDirectory("host-a");
        var dataB = TestEnvironment.NewTempDirectory("host-b");
        var adminKey = TestEnvironment.NewAdminKey();
        const string publicBaseUrl = "https://issuer.example.com";
        Dictionary<string, string> Settings(string dataDirectory) => new()
        {
            ["Issuer2:Database:Provider"] = "Postgres",
            ["Issuer2:Database:ConnectionString"] = database.ConnectionString,
            ["Issuer2:DataDirectory"] = dataDirectory,
            ["Issuer2:AdminKey"] = adminKey,
            ["Issuer2:KeyEncryptionKey"] = _kek,
        };

        try
        {
            await using var hostA = ServerProcess.Start(Settings(dataA), publicBaseUrl);
            await using var hostB = ServerProcess.Start(Settings(dataB), publicBaseUrl);
            await Task.WhenAll(hostA.WaitUntilHealthyAsync(), hostB.WaitUntilHealthyAsync());

            // Each migration applied exactly once, and all of them.
            var applied = await database.QueryColumnAsync("SELECT \"MigrationId\" FROM \"__EFMigrationsHistory\"");
            Assert.Equal(applied.Count, applied.Distinct(StringComparer.Ordinal).Count());
            await using (var context = IssuerDbContextFactory.Create("Postgres", database.ConnectionString))
            {
                var known = context.Database.GetMigrations().ToList();
                Assert.NotEmpty(known);
                Assert.Equal(known.Order(StringComparer.Ordinal), applied.Order(StringComparer.Ordinal));
            }

            using var channelA = Clients.Channel(hostA.GrpcUrl);
            using var channelB = Clients.Channel(hostB.GrpcUrl);
            var adminA = Clients.For(channelA, "Bearer " + adminKey);
            var adminB = Clients.For(channelB, "Bearer " + adminKey);

            // Written through A ...
            var tenant = (await adminA.Tenants.CreateTenantAsync(new CreateTenantRequest { Tenant = new Tenant { TenantId = ServerFixture.NewTenantId() } })).Tenant;
            Assert.Equal($"{publicBaseUrl}/{tenant.TenantId}", tenant.CredentialIssuer);
            var key = (await adminA.Tenants.CreateApiKeyAsync(new CreateApiKeyRequest { Parent = tenant.Name, DisplayName = "two hosts" })).Key;
            var tenantA = Clients.For(channelA, "Bearer " + key);
            var tenantB = Clients.For(channelB, "Bearer " + key);
            var profile = (await tenantA.Profiles.CreateProfileAsync(new CreateProfileRequest { Parent = tenant.Name, Profile = Samples.Profile(ServerFixture.NewProfileId()) })).Profile;
            var offer = await tenantA.Offers.CreateOfferAsync(new CreateOfferRequest
            {
                Parent = tenant.Name,
                Profile = profile.Name,
                TxCode = new TxCodeOptions(),
                RequestId = "two-hosts",
            });
            Assert.StartsWith($"openid-credential-offer://?credential_offer_uri=", offer.OfferUrl, StringComparison.Ordinal);
            Assert.Equal($"{tenant.CredentialIssuer}/offers/", OfferUrl.Parse(offer.OfferUrl).CredentialOfferUri![..(tenant.CredentialIssuer.Length + 8)]);

            // ... is read through B, with the key made on A.
            // (At microsecond precision: these hosts run on the real clock; CreateResponses_MatchWhatGetReturns_* checks the rest.)
            Assert.Equal(ProtoTime.ToMicroseconds(tenant), ProtoTime.ToMicroseconds((await adminB.Tenants.GetTenantAsync(new GetTenantRequest { Name = tenant.Name })).Tenant));
            Assert.Equal(ProtoTime.ToMicroseconds(profile), ProtoTime.ToMicroseconds((await tenantB.Profiles.GetProfileAsync(new GetProfileRequest { Name = profile.Name })).Profile));
            var readOffer = (await tenantB.Offers.GetOfferAsync(new GetOfferRequest { Name = offer.Offer.Name })).Offer;
            Assert.Equal(offer.Offer.Name, readOffer.Name);
            Assert.Equal(ProtoTime.ToMicroseconds(offer.Offer), ProtoTime.ToMicroseconds(readOffer));
            Assert.Equal(OfferState.Active, readOffer.State);
            Assert.Contains(
                (await tenantB.Offers.ListOffersAsync(new ListOffersRequest { Parent = tenant.Name })).Offers,
                o => o.Name == offer.Offer.Name);

            // A retry of the same request through B returns A's offer, URL and PIN.
            var retry = await tenantB.Offers.CreateOfferAsync(new CreateOfferRequest
            {
                Parent = tenant.Name,
                Profile = profile.Name,
                TxCode = new TxCodeOptions(),
                RequestId = "two-hosts",
            });
            Assert.Equal(offer.OfferUrl, retry.OfferUrl);
            Assert.Equal(offer.TxCode, retry.TxCode);

            // A change through B is seen through A.
            await tenantB.Offers.RevokeOfferAsync(new RevokeOfferRequest { Name = offer.Offer.Name });
            Assert.Equal(OfferState.Revoked, (await tenantA.Offers.GetOfferAsync(new GetOfferRequest { Name = offer.Offer.Name })).Offer.State);
        }
        finally
        {
            TestEnvironment.DeleteDirectory(dataA);
            TestEnvironment.DeleteDirectory(dataB);
        }
    }

    [Fact]
    public async Task FirstStartOnSqliteWithoutAdminKey_ShowsAWorkingKeyOnce_AndASecondStartShowsNone()
    {
        var dataDirectory = TestEnvironment.NewTempDirectory("first-start");
        var settings = new Dictionary<string, string>
        {
            ["Issuer2:Database:Provider"] = "Sqlite",
            ["Issuer2:DataDirectory"] = dataDirectory,
        };
        try
        {
            string key;
            string tenantName;
            await using (var first = ServerProcess.Start(settings))
            {
                await first.WaitUntilHealthyAsync();
                using var channel = Clients.Channel(first.GrpcUrl);
                key = await WaitForAdminKeyAsync(first);
                var admin = Clients.For(channel, "Bearer " + key);
                tenantName = (await admin.Tenants.CreateTenantAsync(new CreateTenantRequest { Tenant = new Tenant { TenantId = ServerFixture.NewTenantId() } })).Tenant.Name;
                await first.StopAsync();

                var lines = first.StandardOutputLines;
                Assert.Single(lines, line => line.Contains("Admin API key", StringComparison.Ordinal));
                Assert.Single(lines, line => AdminKeyLine().IsMatch(line));
                // Shown once: not repeated anywhere else in the output (a logger would add a second copy).
                Assert.Equal(1, CountOccurrences(first.Output, key));
            }

            await using (var second = ServerProcess.Start(settings))
            {
                await second.WaitUntilHealthyAsync();
                using var channel = Clients.Channel(second.GrpcUrl);
                var admin = Clients.For(channel, "Bearer " + key);
                var tenant = (await admin.Tenants.GetTenantAsync(new GetTenantRequest { Name = tenantName })).Tenant;
                Assert.Equal(tenantName, tenant.Name);
                await second.StopAsync();

                Assert.DoesNotContain(second.StandardOutputLines, line => line.Contains("Admin API key", StringComparison.Ordinal));
                Assert.DoesNotContain(key, second.Output, StringComparison.Ordinal);
            }

            // Stored only as a hash: the key is nowhere in the data directory.
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            foreach (var file in Directory.GetFiles(dataDirectory, "*", SearchOption.AllDirectories))
            {
                var text = Encoding.UTF8.GetString(await File.ReadAllBytesAsync(file));
                Assert.False(text.Contains(key, StringComparison.Ordinal), $"{Path.GetFileName(file)} holds the admin key");
            }

            Assert.True(File.Exists(Path.Combine(dataDirectory, "issuer2.db")), "no issuer2.db in the data directory");
        }
        finally
        {
            TestEnvironment.DeleteDirectory(dataDirectory);
        }
    }

    [Fact]
    public async Task MigrateCommand_OnPostgres_AppliesEveryMigrationAndExitsZero_AndIsIdempotent()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        string[] args =
        [
            "migrate",
            "--Issuer2:Database:Provider=Postgres",
            $"--Issuer2:Database:ConnectionString={database.ConnectionString}",
            $"--Issuer2:KeyEncryptionKey={_kek}",
        ];

        var (exitCode, output) = await ServerProcess.RunToExitAsync(args, TimeSpan.FromMinutes(2));
        Assert.True(exitCode == 0, $"migrate exited with {exitCode}:\n{output}");
        var (againExitCode, againOutput) = await ServerProcess.RunToExitAsync(args, TimeSpan.FromMinutes(2));
        Assert.True(againExitCode == 0, $"a second migrate exited with {againExitCode}:\n{againOutput}");

        var applied = await database.QueryColumnAsync("SELECT \"MigrationId\" FROM \"__EFMigrationsHistory\"");
        await using var context = IssuerDbContextFactory.Create("Postgres", database.ConnectionString);
        Assert.Equal(context.Database.GetMigrations().Order(StringComparer.Ordinal), applied.Order(StringComparer.Ordinal));
        Assert.Empty(await context.Database.GetPendingMigrationsAsync());
    }

    [Fact]
    public async Task MigrateCommand_OnSqlite_CreatesTheDatabaseFile()
    {
        var dataDirectory = TestEnvironment.NewTempDirectory("migrate-sqlite");
        try
        {
            var (exitCode, output) = await ServerProcess.RunToExitAsync(
                ["migrate", "--Issuer2:Database:Provider=Sqlite", $"--Issuer2:DataDirectory={dataDirectory}"],
                TimeSpan.FromMinutes(2));

            Assert.True(exitCode == 0, $"migrate exited with {exitCode}:\n{output}");
            var file = Path.Combine(dataDirectory, "issuer2.db");
            Assert.True(File.Exists(file), "no issuer2.db after migrate");
            await using var context = IssuerDbContextFactory.Create("Sqlite", $"Data Source={file}");
            Assert.Empty(await context.Database.GetPendingMigrationsAsync());
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            TestEnvironment.DeleteDirectory(dataDirectory);
        }
    }

    private static async Task<string> WaitForAdminKeyAsync(ServerProcess server)
    {
        // The line is written at start-up; give the output pipe a moment to deliver it.
        for (var i = 0; i < 50; i++)
        {
            var match = server.StandardOutputLines.Select(line => AdminKeyLine().Match(line)).FirstOrDefault(m => m.Success);
            if (match is not null)
            {
                return match.Groups["key"].Value;
            }

            await Task.Delay(100);
        }

        throw new InvalidOperationException($"No line '{AdminKeyLinePrefix}i2_…' on standard output:\n{server.Output}");
    }

    private static int CountOccurrences(string text, string value)
    {
        var count = 0;
        for (var index = text.IndexOf(value, StringComparison.Ordinal); index >= 0; index = text.IndexOf(value, index + value.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
