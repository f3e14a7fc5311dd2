using System.Text.Json;
using Issuer2.Core.ApiKeys;
using Issuer2.Core.Claims;
using Issuer2.Core.Common;
using Issuer2.Core.Credentials;
using Issuer2.Core.Keys;
using Issuer2.Core.Offers;
using Issuer2.Core.Profiles;
using Issuer2.Core.Security;
using Issuer2.Core.Tenants;
using Microsoft.Extensions.Time.Testing;

namespace Issuer2.Core.Tests.Fakes;

/// <summary>The use cases of Core wired to in-memory ports, a fixed clock and a fixed key-encryption key.</summary>
internal sealed class TestBed
{
    public const string BaseUrl = "https://issuer.example";
    public const string TenantId = "acme";
    public const string OtherTenantId = "globex";

    public static readonly DateTimeOffset Start = new(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);

    public TestBed()
        : this(Kek(1))
    {
    }

    public TestBed(byte[] kek)
    {
        Protector = new SecretProtector(kek);
        Management = new OfferManagement(TenantStore, ProfileStore, OfferStore, Db, Db, Protector, Clock);
        Profiles = new ProfileManagement(TenantStore, ProfileStore, OfferStore, Db, Db, Clock);
        Tenants = new TenantManagement(TenantStore, OfferStore, Db, Db, new SigningKeys(Protector), new FixedPublicBaseUrl(BaseUrl), Clock);
        ApiKeys = new ApiKeyManagement(TenantStore, ApiKeyStore, Db, Db, Clock);
    }

    public FakeTimeProvider Clock { get; } = new(Start);
    public InMemoryDatabase Db { get; } = new();
    public InMemoryTenantStore TenantStore => new(Db);
    public InMemoryProfileStore ProfileStore => new(Db);
    public InMemoryOfferStore OfferStore => new(Db);
    public InMemoryApiKeyStore ApiKeyStore => new(Db);
    public SecretProtector Protector { get; }
    public OfferManagement Management { get; }
    public ProfileManagement Profiles { get; }
    public TenantManagement Tenants { get; }
    public ApiKeyManagement ApiKeys { get; }

    public static Caller Admin { get; } = Caller.Admin("admin");
    public static Caller AcmeKey { get; } = Caller.ForTenant(TenantId, "acme-key");
    public static Caller GlobexKey { get; } = Caller.ForTenant(OtherTenantId, "globex-key");

    /// <summary>A 32-byte key-encryption key, different per <paramref name="seed"/>.</summary>
    public static byte[] Kek(byte seed) => Enumerable.Range(0, 32).Select(i => (byte)(i + (seed * 37))).ToArray();

    public static JsonElement Json(string raw)
    {
        using var doc = JsonDocument.Parse(raw);
        return doc.RootElement.Clone();
    }

    public static ClaimDefinition Claim(string path, ClaimValueType type = ClaimValueType.String, bool mandatory = false) =>
        new(path.Split('.'), [], mandatory, SelectivelyDisclosable: true, type);

    /// <summary>A committed tenant with the documented defaults, adjusted by <paramref name="configure"/>.</summary>
    public Tenant SeedTenant(string id = TenantId, Action<Tenant>? configure = null)
    {
        var tenant = new Tenant
        {
            Id = id,
            CredentialIssuer = $"{BaseUrl}/{id}",
            AllowPreAuthorized = true,
            DefaultOfferLifetime = TenantRules.DefaultOfferLifetime,
            MaxOfferLifetime = TenantRules.DefaultMaxOfferLifetime,
            PreAuthorizedCodeLifetime = TenantRules.DefaultCodeLifetime,
            PinAttemptLimit = TenantRules.DefaultPinAttemptLimit,
            MetadataVersion = 1,
            CreatedAt = Start,
            UpdatedAt = Start,
        };
        configure?.Invoke(tenant);
        Db.Tenants.Add(tenant);
        return tenant;
    }

    /// <summary>A committed profile (version 1) whose scope is its id.</summary>
    public Profile SeedProfile(string profileId = "employee", string tenantId = TenantId, IReadOnlyList<ClaimDefinition>? claims = null, IReadOnlyList<ClaimValue>? defaults = null)
    {
        var profile = new Profile
        {
            Uid = Guid.NewGuid(),
            TenantId = tenantId,
            ProfileId = profileId,
            Scope = profileId,
            Version = 1,
            Definition = new ProfileDefinition(profileId, CredentialFormats.SdJwtVc, "https://credentials.example/employee", [],
                claims ?? [Claim("given_name"), Claim("family_name")], defaults ?? [], ProfileRules.DefaultValidity),
            CreatedAt = Start,
            UpdatedAt = Start,
        };
        Db.Profiles.Add(profile);
        return profile;
    }

    /// <summary>An offer command with every option at its default.</summary>
    public static CreateOfferCommand Command(
        string profileId = "employee",
        AuthenticationMethod? method = null,
        DeliveryMode? delivery = null,
        TimeSpan? lifetime = null,
        DateTimeOffset? expireTime = null,
        int maxUses = 0,
        TxCodeOptions? txCode = null,
        IReadOnlyList<ClaimValue>? overrides = null,
        IssuerStateMode? issuerStateMode = null,
        string? requestId = null) =>
        new(profileId, method, delivery, lifetime, expireTime, maxUses, txCode, overrides ?? [], issuerStateMode, requestId, IncludeQrCode: false);
}
