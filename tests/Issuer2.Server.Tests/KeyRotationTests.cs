using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Issuer2.Core.Security;
using Issuer2.Grpc.V1;
using Issuer2.Server.Hosting;
using Issuer2.Server.Tests.Infrastructure;
using Issuer2.Server.Tests.Wallet;
using Issuer2.Storage;
using Issuer2.Tests.Shared;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Issuer2.Server.Tests;

/// <summary>
/// Key-ring rotation end to end: rows written under version 1 in the exact format of the release before key purposes
/// (its signing-key ciphertext and 32-byte PIN hash); a restart with versions 1 and 2; the old PIN redeems and the
/// credential is signed with the old key; new secrets use version 2; a rewrap moves the private keys to version 2 and
/// they still sign; the status names only the PIN hash that still needs version 1; without version 1 the host does
/// not start and says why.
/// </summary>
public abstract class KeyRotationTests
{
    private const string Pin = "493817";
    private const string IdpSecret = "the-idp-client-secret-of-the-old-tenant";

    protected abstract Task<TestHostSettings> CreateSettingsAsync();

    [Fact]
    public async Task Rotation_KeepsOldPinsAndKeys_NewSecretsUseTheNewVersion_RewrapMovesWhatItCan()
    {
        var k1 = TestEnvironment.NewKeyEncryptionKey();
        var k2 = TestEnvironment.NewKeyEncryptionKey();
        var settings = await CreateSettingsAsync();
        var both = settings with { KeyEncryptionKey = k1, ExtraArguments = [$"--Issuer2:KeyEncryptionKeys:2={k2}"] };
        TestTenant tenant;
        Profile profile;
        CreateOfferResponse oldOffer;
        string oldKid;

        // 1. The release before: one key (version 1), rows in its format.
        await using (var host = await IssuerTestHost.StartAsync(settings with { KeyEncryptionKey = k1 }))
        {
            tenant = await CreateTenantAsync(host, IdpSecret);
            profile = await CreateProfileAsync(tenant);
            oldOffer = await CreatePinOfferAsync(tenant, profile);
            oldKid = await ToFormatOfTheReleaseBeforeAsync(host, tenant.TenantId, OfferIdOf(oldOffer), Convert.FromBase64String(k1));
            await host.StopAsync();
        }

        // 2. Versions 1 and 2: the old PIN redeems, signed by the old key; new secrets are made under version 2.
        await using (var host = await IssuerTestHost.StartAsync(both))
        {
            var clients = host.ClientsForKey(tenant.ApiKey);
            Assert.Equal(oldKid, await IssueAndReadKidAsync(host, tenant, profile, oldOffer.OfferUrl));

            var newTenant = await CreateTenantAsync(host);
            var newOffer = await CreatePinOfferAsync(tenant with { Clients = clients }, profile);
            await using (var scope = host.App.Services.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<IssuerDbContext>();
                var newKey = await db.SigningKeys.AsNoTracking().SingleAsync(k => k.TenantId == newTenant.TenantId);
                Assert.Equal(2, SecretProtector.VersionOf(newKey.EncryptedPrivateKey));
                var newPin = await db.Offers.AsNoTracking().Where(o => o.Id == OfferIdOf(newOffer)).Select(o => o.PinHash).SingleAsync();
                Assert.Equal(2, SecretProtector.HashVersionOf(newPin));
                Assert.True(SecretProtector.IsLegacy((await db.SigningKeys.AsNoTracking().SingleAsync(k => k.TenantId == tenant.TenantId)).EncryptedPrivateKey));
            }

            // Rewrap: every private key under version 2; run again, nothing left to do.
            await using (var scope = host.App.Services.CreateAsyncScope())
            {
                var rotation = scope.ServiceProvider.GetRequiredService<KeyRotation>();
                var result = await rotation.RewrapAsync(CancellationToken.None);
                Assert.Equal(1, result.Rewrapped[ProtectedKind.SigningKey]);
                Assert.Equal(1, result.Rewrapped[ProtectedKind.IdentityProviderSecret]);
                Assert.Empty((await rotation.RewrapAsync(CancellationToken.None)).Rewrapped);

                var db = scope.ServiceProvider.GetRequiredService<IssuerDbContext>();
                var keys = await db.SigningKeys.AsNoTracking().Where(k => k.TenantId == tenant.TenantId || k.TenantId == newTenant.TenantId).ToListAsync();
                Assert.All(keys, k => Assert.Equal(2, SecretProtector.VersionOf(k.EncryptedPrivateKey)));
                var idp = (await db.Tenants.AsNoTracking().SingleAsync(t => t.Id == tenant.TenantId)).IdentityProvider!;
                Assert.Equal(2, SecretProtector.VersionOf(idp.EncryptedClientSecret));
                var secrets = scope.ServiceProvider.GetRequiredService<KeyRing>().Protector(KeyPurpose.SecretsAtRest);
                Assert.Equal(IdpSecret, Core.IdentityProviders.IdentityProviderSecrets.Decrypt(secrets, tenant.TenantId, idp));

                // Only the old offer's PIN hash still needs version 1 (a hash cannot be re-made).
                var status = await rotation.StatusAsync(CancellationToken.None);
                var needOne = Assert.Single(status.Dependencies, d => d.Version == 1);
                Assert.Equal(new KeyDependency(ProtectedKind.PinHash, 1, true, 1), needOne);
                Assert.True(status.Complete);
                Assert.Contains("1 PIN hashes of live offers (format of the release before key purposes) (cannot be rewrapped",
                    KeyCommands.Describe(scope.ServiceProvider.GetRequiredService<KeyRing>(), status), StringComparison.Ordinal);
            }
            await host.StopAsync();
        }

        // 3. A fresh host (no signer cached): the rewrapped key still signs, and the old PIN still redeems.
        await using (var host = await IssuerTestHost.StartAsync(both))
        {
            Assert.Equal(oldKid, await IssueAndReadKidAsync(host, tenant, profile, oldOffer.OfferUrl));
            await host.StopAsync();
        }

        // 4. Version 1 removed while a live PIN hash needs it: the host refuses to start, naming the version and what needs it.
        var refused = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var host = await IssuerTestHost.StartAsync(settings with { KeyEncryptionKey = null, ExtraArguments = [$"--Issuer2:KeyEncryptionKeys:2={k2}"] });
        });
        Assert.Contains("version 1 (MISSING from the ring)", refused.ToString(), StringComparison.Ordinal);
        Assert.Contains("1 PIN hashes of live offers", refused.ToString(), StringComparison.Ordinal);
    }

    private static async Task<TestTenant> CreateTenantAsync(IssuerTestHost host, string? idpSecret = null)
    {
        var request = new Tenant { TenantId = ServerFixture.NewTenantId() };
        if (idpSecret is not null) request.IdentityProvider = AuthorizedSamples.IdentityProvider($"https://idp-{request.TenantId}.example", idpSecret);
        request.Display.Add(new IssuerDisplay { Locale = "en-US", Name = "Rotation issuer" });
        var created = await host.Admin.Tenants.CreateTenantAsync(new CreateTenantRequest { Tenant = request });
        var key = await host.Admin.Tenants.CreateApiKeyAsync(new CreateApiKeyRequest { Parent = created.Tenant.Name, DisplayName = "tests" });
        return new TestTenant(created.Tenant, key.Key, host.ClientsForKey(key.Key));
    }

    private static async Task<Profile> CreateProfileAsync(TestTenant tenant) =>
        (await tenant.Clients.Profiles.CreateProfileAsync(new CreateProfileRequest { Parent = tenant.Name, Profile = Samples.Profile(ServerFixture.NewProfileId()) })).Profile;

    private static Task<CreateOfferResponse> CreatePinOfferAsync(TestTenant tenant, Profile profile) =>
        tenant.Clients.Offers.CreateOfferAsync(new CreateOfferRequest
        {
            Parent = tenant.Name,
            Profile = profile.Name,
            MaxUses = 3,
            TxCode = new TxCodeOptions { Value = Pin, InputMode = TxCodeInputMode.Numeric },
        }).ResponseAsync;

    private static string OfferIdOf(CreateOfferResponse offer) => offer.Offer.Name.Split('/')[^1];

    /// <summary>Redeems the offer with the PIN, gets a credential, and returns the kid its signature names.</summary>
    private static async Task<string> IssueAndReadKidAsync(IssuerTestHost host, TestTenant tenant, Profile profile, string offerUrl)
    {
        // The tenant's identifier keeps the public base URL of the host that created it; this host has other ports.
        using var wallet = new TestWallet(host.HttpUrl, tenant.Tenant.CredentialIssuer[..^(tenant.TenantId.Length + 1)]);
        using var holder = new HolderKey();
        var token = await wallet.AccessTokenAsync(tenant.TenantId, offerUrl, Pin);
        var nonce = await wallet.FreshNonceAsync(tenant.TenantId);
        var reply = await wallet.CredentialAsync(tenant.TenantId, token,
            TestWallet.CredentialRequest(profile.ProfileId, holder.Proof(tenant.Tenant.CredentialIssuer, nonce, host.Time.GetUtcNow())));
        Assert.True(reply.StatusCode == 200, $"credential: {reply}");
        var credential = reply.Json.GetProperty("credentials")[0].GetProperty("credential").GetString()!;
        var header = JsonDocument.Parse(System.Buffers.Text.Base64Url.DecodeFromChars(credential.Split(".")[0]));
        return header.RootElement.GetProperty("kid").GetString()!;
    }

    /// <summary>
    /// Rewrites the tenant's signing key and the offer's PIN hash exactly as the release before key purposes wrote them:
    /// AES-256-GCM under HKDF(kek, "issuer2/v1/encryption") with format byte 1 and its key id, and the raw 32-byte
    /// HMAC under HKDF(kek, "issuer2/v1/keyed-hash"). Returns the key's kid.
    /// </summary>
    private static async Task<string> ToFormatOfTheReleaseBeforeAsync(IssuerTestHost host, string tenantId, string offerId, byte[] kek)
    {
        await using var scope = host.App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IssuerDbContext>();
        var key = await db.SigningKeys.AsNoTracking().SingleAsync(k => k.TenantId == tenantId);
        using var opened = scope.ServiceProvider.GetRequiredService<Core.Keys.SigningKeys>().OpenPrivateKey(key);
        var legacyKey = LegacyEncrypt(kek, opened.ExportPkcs8PrivateKey(), Core.Keys.SigningKey.EncryptionContext(tenantId, key.Kid));
        await db.SigningKeys.Where(k => k.Id == key.Id).ExecuteUpdateAsync(u => u.SetProperty(k => k.EncryptedPrivateKey, legacyKey));
        var legacyPin = HMACSHA256.HashData(
            HKDF.DeriveKey(HashAlgorithmName.SHA256, kek, 32, info: "issuer2/v1/keyed-hash"u8.ToArray()),
            Encoding.UTF8.GetBytes($"{Core.Offers.Offer.PinContext(tenantId, offerId)}\n{Pin}"));
        await db.Offers.Where(o => o.Id == offerId).ExecuteUpdateAsync(u => u.SetProperty(o => o.PinHash, legacyPin));
        return key.Kid;
    }

    private static byte[] LegacyEncrypt(byte[] kek, byte[] plaintext, string context)
    {
        var key = HKDF.DeriveKey(HashAlgorithmName.SHA256, kek, 32, info: "issuer2/v1/encryption"u8.ToArray());
        var output = new byte[1 + 4 + 12 + 16 + plaintext.Length];
        output[0] = 1;
        SHA256.HashData(key).AsSpan(0, 4).CopyTo(output.AsSpan(1));
        RandomNumberGenerator.Fill(output.AsSpan(5, 12));
        using var aes = new AesGcm(key, 16);
        aes.Encrypt(output.AsSpan(5, 12), plaintext, output.AsSpan(33), output.AsSpan(17, 16), Encoding.UTF8.GetBytes(context));
        return output;
    }
}

public sealed class KeyRotationTests_Sqlite : KeyRotationTests, IDisposable
{
    private readonly string _dataDirectory = TestEnvironment.NewTempDirectory("keyring-sqlite");

    protected override Task<TestHostSettings> CreateSettingsAsync() =>
        Task.FromResult(new TestHostSettings { Provider = "Sqlite", DataDirectory = _dataDirectory });

    /// <summary>`keys rotate` turns the generated single-key file into a ring file with a new version, which the host then reads.</summary>
    [Fact]
    public async Task KeysRotate_AddsAVersionToTheDataDirectorysKeyFile()
    {
        var data = TestEnvironment.NewTempDirectory("keyring-rotate");
        try
        {
            var options = new IssuerOptions { DataDirectory = data };
            var first = KeyEncryptionKeyLoader.Versions(options, _ => { });
            var exit = await KeyCommands.RunAsync(["rotate", $"--Issuer2:DataDirectory={data}"]);
            var ring = KeyEncryptionKeyLoader.Load(options, _ => { });

            Assert.Equal(KeyCommands.Ok, exit);
            Assert.Equal([1, 2], ring.Versions);
            Assert.Equal(2, ring.CurrentVersion);
            Assert.Equal(first[1], KeyEncryptionKeyLoader.Versions(options, _ => { })[1]);
            Assert.Equal(KeyCommands.Usage, await KeyCommands.RunAsync(["rotate", $"--Issuer2:DataDirectory={data}", $"--Issuer2:KeyEncryptionKey={TestEnvironment.NewKeyEncryptionKey()}"]));
        }
        finally
        {
            TestEnvironment.DeleteDirectory(data);
        }
    }

    public void Dispose() => TestEnvironment.DeleteDirectory(_dataDirectory);
}

public sealed class KeyRotationTests_Postgres : KeyRotationTests, IAsyncLifetime
{
    private readonly string _dataDirectory = TestEnvironment.NewTempDirectory("keyring-postgres");
    private PostgresDatabase? _database;

    public async Task InitializeAsync() => _database = await PostgresDatabase.CreateAsync();

    protected override Task<TestHostSettings> CreateSettingsAsync() =>
        Task.FromResult(new TestHostSettings { Provider = "Postgres", ConnectionString = _database!.ConnectionString, DataDirectory = _dataDirectory });

    public async Task DisposeAsync()
    {
        if (_database is not null) await _database.DisposeAsync();
        TestEnvironment.DeleteDirectory(_dataDirectory);
    }
}
