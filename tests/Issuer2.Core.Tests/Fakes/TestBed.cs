using System.Text.Json;
using Issuer2.Core.ApiKeys;
using Issuer2.Core.Claims;
using Issuer2.Core.Common;
using Issuer2.Core.Credentials;
using Issuer2.Core.Dpop;
using Issuer2.Core.Events;
using Issuer2.Core.IdentityProviders;
using Issuer2.Core.Keys;
using Issuer2.Core.Nonces;
using Issuer2.Core.Notifications;
using Issuer2.Core.Offers;
using Issuer2.Core.Profiles;
using Issuer2.Core.Security;
using Issuer2.Core.Sessions;
using Issuer2.Core.Tenants;
using Issuer2.Core.Tokens;
using Microsoft.Extensions.Time.Testing;

namespace Issuer2.Core.Tests.Fakes;

/// <summary>
/// The use cases of Core wired to in-memory ports, a fixed clock and a fixed key-encryption key: management here,
/// the wallet flow and the event feed in TestBed.Wallet.cs.
/// </summary>
internal sealed partial class TestBed
{
    public const string BaseUrl = "https://issuer.example";
    public const string TenantId = "acme";
    public const string OtherTenantId = "globex";

    /// <summary>The host's quotas the use cases run under.</summary>
    public QuotaLimits Quotas { get; }

    public static readonly DateTimeOffset Start = new(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);

    public TestBed()
        : this(Kek(1))
    {
    }

    public TestBed(QuotaLimits quotas)
        : this(Kek(1), quotas)
    {
    }

    public TestBed(byte[] kek, QuotaLimits? quotas = null)
    {
        Quotas = quotas ?? QuotaLimits.Default;
        Keys = KeyRing.OfOne(kek);
        NonceKeys = new NonceKeys(Keys, Clock, NonceKeys.DefaultEpoch, SealedNonces.LongestLifetime);
        Management = new OfferManagement(TenantStore, ProfileStore, OfferStore, Db, Db, Keys, Quotas, Clock);
        Profiles = new ProfileManagement(TenantStore, ProfileStore, OfferStore, Db, Db, Quotas, Clock);
        Tenants = new TenantManagement(TenantStore, OfferStore, Db, Db, new SigningKeys(Keys), new FixedPublicBaseUrl(BaseUrl), Keys, Https, Clock);
        ApiKeys = new ApiKeyManagement(TenantStore, ApiKeyStore, Db, Db, Quotas, Clock);

        // The wallet flow, as the host wires it (TestBed.Wallet.cs).
        Db.Notifier = Notifier;
        Nonces = new NonceService(NonceKeys, Clock);
        Proofs = new ProofValidator(Clock);
        Signers = new SignerCache(new SigningKeys(Keys));
        ResolveOffer = new ResolveOffer(Directory, new InMemoryOfferResolutionStore(Db), Gate, Caps, Clock);
        Authorizations = new InMemoryAuthorizationStore(Db);
        DpopNonces = new DpopNonces(NonceKeys, Clock);
        Sender = new SenderConstraint(new DpopProofValidator(DpopNonces, DpopReplays, Clock), DpopNonces);
        IssueToken = new IssueToken(
            new RedeemPreAuthorizedCode(Directory, new InMemoryTokenRedemptionStore(Db), Journal, Keys, Sender, Gate, Clock),
            new RedeemAuthorizationCode(Directory, Authorizations, Journal, Keys, Sender, Gate, Clock), Nonces);
        AuthorizeAccessToken = new AuthorizeAccessToken(Directory, new InMemorySessionAccessStore(Db), Sender, Gate, Clock);
        IssueCredential = new IssueCredential(new InMemoryCredentialIssuanceStore(Db), Journal, Proofs, Nonces, Signers, Keys, Clock);
        RecordNotification = new RecordNotification(new InMemoryNotificationStore(Db), Clock);
        IssueNonce = new IssueNonce(Directory, Nonces, Sender);
        EventFeed = new EventFeed(EventReader, Notifier, Cursors, Clock);
        SessionEvents = new SessionEvents(EventFeed, EventReader, Streams);
    }

    public FakeTimeProvider Clock { get; } = new(Start);

    /// <summary>The per-offer rate gate: grants every permit until a test closes a limit.</summary>
    public FakeRateGate Gate { get; } = new();
    /// <summary>The caps per offer the wallet flow runs with: small, so tests reach them.</summary>
    public OfferCaps Caps { get; } = new(Slack: 2, Max: 5);
    /// <summary>The host's cursor encoding, under a key of this test bed.</summary>
    public EventCursors Cursors { get; } = new(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    /// <summary>The cursor a client of the event's tenant holds for it.</summary>
    public string CursorOf(IssuerEvent e) => Cursors.Encode(e.TenantId, e.Position);

    internal InMemoryAuthorizationStore Authorizations { get; }

    internal InMemoryDpopReplayStore DpopReplays { get; } = new();

    public DpopNonces DpopNonces { get; }

    public SenderConstraint Sender { get; }

    /// <summary>A resource request presenting <paramref name="accessToken"/> as a bearer token.</summary>
    public static ResourceRequest Bearer(string? accessToken, string path = "/credential") => new("Bearer", accessToken, DpopHeader.None, "POST", path);
    public InMemoryDatabase Db { get; } = new();
    public InMemoryTenantStore TenantStore => new(Db);
    public InMemoryProfileStore ProfileStore => new(Db);
    public InMemoryOfferStore OfferStore => new(Db);
    public InMemoryApiKeyStore ApiKeyStore => new(Db);
    public KeyRing Keys { get; }

    /// <summary>Nonce keys of a one-version ring of <see cref="Kek"/>(<paramref name="n"/>), with the production epoch.</summary>
    public static NonceKeys NonceKeysOf(byte n, TimeProvider clock) => new(KeyRing.OfOne(Kek(n)), clock, NonceKeys.DefaultEpoch, SealedNonces.LongestLifetime);

    public NonceKeys NonceKeys { get; }

    /// <summary>The protector of other secrets at rest (IdP client secrets, sign-in claims).</summary>
    public SecretProtector Protector => Keys.Protector(KeyPurpose.SecretsAtRest);

    /// <summary>The protector of PIN hashes.</summary>
    public SecretProtector Pins => Keys.Protector(KeyPurpose.PinHashes);

    /// <summary>The host's URL rule as tests run it: http allowed on loopback (Issuer2:AllowInsecureHttp).</summary>
    public HttpsPolicy Https { get; } = new(allowLoopbackHttp: true);
    public OfferManagement Management { get; }
    public ProfileManagement Profiles { get; }
    public TenantManagement Tenants { get; }
    public ApiKeyManagement ApiKeys { get; }

    /// <summary>What offer and wallet tests start from: the tenants acme and globex, and acme's profile "employee".</summary>
    public static TestBed WithEmployeeProfile(IReadOnlyList<ClaimDefinition>? claims = null, IReadOnlyList<ClaimValue>? defaults = null)
    {
        var bed = new TestBed();
        bed.SeedTenant();
        bed.SeedTenant(OtherTenantId);
        bed.SeedProfile(claims: claims, defaults: defaults);
        return bed;
    }

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

    /// <summary>A mapping of the claim at <paramref name="path"/> from the ID token's <paramref name="sourcePath"/> (dotted).</summary>
    public static ClaimMapping Mapping(string path, string sourcePath, ClaimSource source = ClaimSource.IdToken) =>
        new(path.Split('.'), source, sourcePath.Split('.'));

    public static ClaimDefinition Claim(string path, ClaimValueType type = ClaimValueType.String, bool mandatory = false, bool selectivelyDisclosable = true) =>
        new(path.Split('.'), [], mandatory, selectivelyDisclosable, type);

    /// <summary>The types of the committed events, oldest first.</summary>
    public string[] CommittedEventTypes() => [.. Db.Events.Select(e => e.Type)];

    /// <summary>The fields an error names.</summary>
    public static string[] Fields(Error? error) => [.. error?.Violations.Select(v => v.Field) ?? []];

    /// <summary>Creates an offer of the tenant through the management use case, as its own API key does.</summary>
    public Task<Result<CreatedOffer, Error>> CreateOfferAsync(CreateOfferCommand command) =>
        Management.CreateAsync(AcmeKey, TenantId, command, default);

    /// <summary>A committed tenant with the documented defaults and one active signing key, adjusted by <paramref name="configure"/>.</summary>
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
        Db.SigningKeys.Add(new SigningKeys(Keys).Create(id, Start));
        return tenant;
    }

    /// <summary>The client secret of the IdP <see cref="AllowAuthorized"/> gives a tenant.</summary>
    public const string IdpClientSecret = "idp-secret-5b1f0c8e";

    /// <summary>Lets the tenant make AUTHORIZED offers: the method allowed and, unless told otherwise, an IdP set.</summary>
    public Tenant AllowAuthorized(string tenantId = TenantId, bool withIdentityProvider = true)
    {
        var tenant = Db.Tenants.Single(t => t.Id == tenantId);
        tenant.AllowAuthorized = true;
        if (withIdentityProvider)
        {
            tenant.IdentityProvider = new IdentityProviderSettings(
                "https://idp.example", "issuer2", IdentityProviderSecrets.Encrypt(Protector, tenantId, IdpClientSecret), ["profile"]);
        }
        return tenant;
    }

    /// <summary>An AUTHORIZED offer command with the given issuer_state mode and delivery.</summary>
    public static CreateOfferCommand AuthorizedCommand(
        IssuerStateMode issuerStateMode = IssuerStateMode.Include, DeliveryMode? delivery = null, int maxUses = 0, TimeSpan? lifetime = null,
        IReadOnlyList<ClaimValue>? overrides = null, string? requestId = null, string profileId = "employee") =>
        Command(profileId, AuthenticationMethod.Authorized, delivery, lifetime, maxUses: maxUses, overrides: overrides, issuerStateMode: issuerStateMode, requestId: requestId);

    /// <summary>A committed profile (version 1, with its version snapshot) whose scope is its id.</summary>
    public Profile SeedProfile(
        string profileId = "employee", string tenantId = TenantId, IReadOnlyList<ClaimDefinition>? claims = null, IReadOnlyList<ClaimValue>? defaults = null,
        IReadOnlyList<ClaimMapping>? mappings = null)
    {
        var profile = new Profile
        {
            Uid = Guid.NewGuid(),
            TenantId = tenantId,
            ProfileId = profileId,
            Scope = profileId,
            Version = 1,
            Definition = new ProfileDefinition(profileId, CredentialFormats.SdJwtVc, $"https://credentials.example/{profileId}", [],
                claims ?? [Claim("given_name"), Claim("family_name")], defaults ?? [], ProfileRules.DefaultValidity, ClaimMappings: mappings),
            CreatedAt = Start,
            UpdatedAt = Start,
        };
        Db.Profiles.Add(profile);
        Db.ProfileVersions.Add(new ProfileVersion
        {
            ProfileUid = profile.Uid, Version = 1, TenantId = tenantId, ProfileId = profileId, Definition = profile.Definition, CreatedAt = Start,
        });
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
