using System.Text;
using Grpc.Core;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Issuer2.Server.Tests;

/// <summary>
/// No secret at rest or in logs: after creating tenants, API keys and offers with long text PINs and request ids,
/// neither a dump of the database nor the captured logs (at Debug level) holds a plain PIN, API key, offer URL token,
/// pre-authorized code, IdP client secret or private key.
/// </summary>
public abstract class SecretsAtRestTests
{
    protected abstract string Provider { get; }

    /// <summary>Starts a dedicated host on a fresh database of this provider.</summary>
    protected abstract Task<TestHostSettings> CreateSettingsAsync();

    /// <summary>The whole database after the host stopped, as bytes (file contents or pg_dump output).</summary>
    protected abstract Task<byte[]> DumpDatabaseAsync();

    [Fact]
    public async Task DatabaseDumpAndLogs_HoldNoPlainSecretOrPrivateKey()
    {
        var settings = await CreateSettingsAsync() with { MinimumLogLevel = LogLevel.Debug };
        var secrets = new List<string> { settings.AdminKey };
        var publicFacts = new List<string>();
        string logs;

        await using (var host = await IssuerTestHost.StartAsync(settings))
        {
            await RunScenarioAsync(host, secrets, publicFacts);
            logs = host.Logs.AllText();
            await host.StopAsync();
        }

        var dump = await DumpDatabaseAsync();
        var dumpText = Encoding.UTF8.GetString(dump);

        // The dump is real: it holds what was created.
        Assert.All(publicFacts, fact => Assert.Contains(fact, dumpText, StringComparison.Ordinal));
        Assert.NotEmpty(logs);

        foreach (var secret in secrets)
        {
            foreach (var form in Forms(secret))
            {
                Assert.False(dumpText.Contains(form, StringComparison.Ordinal), $"{Provider} database holds a secret ({Describe(secret)}) as '{form}'.");
                Assert.False(logs.Contains(form, StringComparison.Ordinal), $"logs hold a secret ({Describe(secret)}) as '{form}'.");
            }
        }

        foreach (var text in new[] { dumpText, logs })
        {
            Assert.DoesNotContain("\"d\":", text, StringComparison.Ordinal);
            Assert.DoesNotContain("\"d\" :", text, StringComparison.Ordinal);
            Assert.DoesNotContain("PRIVATE KEY-----", text, StringComparison.Ordinal);
        }
    }

    private static async Task RunScenarioAsync(IssuerTestHost host, List<string> secrets, List<string> publicFacts)
    {
        for (var t = 0; t < 2; t++)
        {
            var tenantId = ServerFixture.NewTenantId();
            var request = new Tenant { TenantId = tenantId, RequirePin = t == 1 };
            request.Display.Add(new IssuerDisplay { Locale = "en", Name = "Secret test issuer" });
            // The IdP's client secret: encrypted when set, and again when rotated by an update.
            var idpSecret = TestEnvironment.RandomText(40);
            request.IdentityProvider = AuthorizedSamples.IdentityProvider($"https://idp-{tenantId}.example", idpSecret);
            var tenant = (await host.Admin.Tenants.CreateTenantAsync(new CreateTenantRequest { Tenant = request })).Tenant;
            publicFacts.Add(tenantId);
            publicFacts.Add($"https://idp-{tenantId}.example");
            var rotatedSecret = TestEnvironment.RandomText(40);
            await host.Admin.Tenants.UpdateTenantAsync(new UpdateTenantRequest
            {
                Tenant = new Tenant { Name = tenant.Name, IdentityProvider = AuthorizedSamples.IdentityProvider($"https://idp-{tenantId}.example", rotatedSecret) },
                UpdateMask = new Google.Protobuf.WellKnownTypes.FieldMask { Paths = { "identity_provider" } },
            });
            secrets.AddRange([idpSecret, rotatedSecret]);

            var key = (await host.Admin.Tenants.CreateApiKeyAsync(new CreateApiKeyRequest { Parent = tenant.Name, DisplayName = "main" })).Key;
            var expiring = await host.Admin.Tenants.CreateApiKeyAsync(new CreateApiKeyRequest
            {
                Parent = tenant.Name,
                DisplayName = "expiring",
                ExpireTime = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(host.Time.GetUtcNow().AddDays(1)),
            });
            var revoked = await host.Admin.Tenants.CreateApiKeyAsync(new CreateApiKeyRequest { Parent = tenant.Name, DisplayName = "revoked" });
            await host.Admin.Tenants.RevokeApiKeyAsync(new RevokeApiKeyRequest { Name = revoked.ApiKey.Name });
            secrets.AddRange([key, expiring.Key, revoked.Key]);

            var clients = host.ClientsForKey(key);
            var profileRequest = Samples.Profile(ServerFixture.NewProfileId());
            var profile = (await clients.Profiles.CreateProfileAsync(new CreateProfileRequest { Parent = tenant.Name, Profile = profileRequest })).Profile;
            publicFacts.Add(profile.Vct);

            foreach (var delivery in new[] { DeliveryMode.ByReference, DeliveryMode.ByValue })
            {
                var pin = TestEnvironment.RandomText(40);
                var offerRequest = new CreateOfferRequest
                {
                    Parent = tenant.Name,
                    Profile = profile.Name,
                    DeliveryMode = delivery,
                    TxCode = new TxCodeOptions { Value = pin, InputMode = TxCodeInputMode.Text, Description = "PIN from the letter" },
                    RequestId = "req-" + TestEnvironment.RandomText(40),
                    IncludeQrCode = true,
                };
                var offer = await clients.Offers.CreateOfferAsync(offerRequest);
                var retry = await clients.Offers.CreateOfferAsync(offerRequest);
                Assert.Equal(offer.OfferUrl, retry.OfferUrl);
                Assert.Equal(pin, offer.TxCode);
                secrets.Add(pin);
                secrets.Add(offer.OfferUrl);
                var url = OfferUrl.Parse(offer.OfferUrl);
                if (delivery == DeliveryMode.ByReference)
                {
                    var token = url.TokenUnder(tenant.CredentialIssuer);
                    secrets.Add(token);
                    secrets.Add(url.CredentialOfferUri!);
                }
                else
                {
                    secrets.Add(url.PreAuthorizedCode());
                    secrets.Add(url.CredentialOfferJson!);
                }
            }

            // Calls with wrong or revoked keys must not log the key they tried.
            var wrongKey = TestEnvironment.NewAdminKey();
            secrets.Add(wrongKey);
            await Assert.ThrowsAsync<RpcException>(async () =>
                await host.ClientsForKey(wrongKey).Profiles.ListProfilesAsync(new ListProfilesRequest { Parent = tenant.Name }));
            await Assert.ThrowsAsync<RpcException>(async () =>
                await host.ClientsForKey(revoked.Key).Profiles.ListProfilesAsync(new ListProfilesRequest { Parent = tenant.Name }));
            // A refused create carrying a PIN must not log it either.
            var refusedPin = TestEnvironment.RandomText(40);
            secrets.Add(refusedPin);
            await Assert.ThrowsAsync<RpcException>(async () => await clients.Offers.CreateOfferAsync(new CreateOfferRequest
            {
                Parent = tenant.Name,
                Profile = profile.Name,
                MaxUses = 20000,
                TxCode = new TxCodeOptions { Value = refusedPin, InputMode = TxCodeInputMode.Text },
            }));
        }
    }

    /// <summary>The secret as text, and as its bytes in lowercase hex (PostgreSQL bytea) and base64.</summary>
    private static IEnumerable<string> Forms(string secret)
    {
        var bytes = Encoding.UTF8.GetBytes(secret);
        yield return secret;
        yield return Convert.ToHexStringLower(bytes);
        yield return Convert.ToBase64String(bytes);
        yield return TestEnvironment.Base64Url(bytes);
    }

    private static string Describe(string secret) => secret.Length <= 12 ? "short secret" : secret[..6] + "…";
}

public sealed class SecretsAtRestTests_Sqlite : SecretsAtRestTests, IDisposable
{
    private readonly string _dataDirectory = TestEnvironment.NewTempDirectory("secrets-sqlite");

    protected override string Provider => "Sqlite";

    protected override Task<TestHostSettings> CreateSettingsAsync() =>
        Task.FromResult(new TestHostSettings { Provider = Provider, DataDirectory = _dataDirectory });

    protected override async Task<byte[]> DumpDatabaseAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        using var all = new MemoryStream();
        foreach (var file in Directory.GetFiles(_dataDirectory, "*", SearchOption.AllDirectories))
        {
            var bytes = await File.ReadAllBytesAsync(file);
            await all.WriteAsync(bytes);
            all.WriteByte((byte)'\n');
        }

        Assert.True(all.Length > 0, "the data directory is empty");
        return all.ToArray();
    }

    public void Dispose() => TestEnvironment.DeleteDirectory(_dataDirectory);
}

public sealed class SecretsAtRestTests_Postgres : SecretsAtRestTests, IAsyncLifetime
{
    private readonly string _dataDirectory = TestEnvironment.NewTempDirectory("secrets-postgres");
    private PostgresDatabase? _database;

    protected override string Provider => "Postgres";

    public async Task InitializeAsync() => _database = await PostgresDatabase.CreateAsync();

    protected override Task<TestHostSettings> CreateSettingsAsync() =>
        Task.FromResult(new TestHostSettings
        {
            Provider = Provider,
            ConnectionString = _database!.ConnectionString,
            DataDirectory = _dataDirectory,
        });

    protected override async Task<byte[]> DumpDatabaseAsync() => Encoding.UTF8.GetBytes(await _database!.DumpAsync());

    public async Task DisposeAsync()
    {
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }

        TestEnvironment.DeleteDirectory(_dataDirectory);
    }
}
