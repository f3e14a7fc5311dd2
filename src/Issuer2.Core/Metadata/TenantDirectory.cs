using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Issuer2.Core.Common;
using Issuer2.Core.Credentials;
using Issuer2.Core.Keys;
using Issuer2.Core.Profiles;
using Issuer2.Core.Tenants;
using Issuer2.Core.Wallet;

namespace Issuer2.Core.Metadata;

/// <summary>
/// One version of a tenant as wallets see it: settings, profiles, keys and the three metadata documents,
/// built once per version and then shared by every request on this host.
/// </summary>
public sealed class TenantSnapshot
{
    private readonly Lazy<string> _issuerMetadata;
    private readonly Lazy<string> _authorizationServerMetadata;
    private readonly Lazy<string> _jwtVcIssuerMetadata;

    public TenantSnapshot(Tenant tenant, IReadOnlyList<Profile> profiles, IReadOnlyList<SigningKey> keys, long version)
    {
        Tenant = tenant;
        Profiles = profiles.ToDictionary(p => p.ProfileId, StringComparer.Ordinal);
        Keys = keys;
        Version = version;
        ActiveKey = keys.Where(k => k.Status == SigningKeyStatus.Active).OrderByDescending(k => k.CreatedAt).FirstOrDefault();
        _issuerMetadata = new(() => IssuerMetadata.CredentialIssuer(tenant, profiles).ToJsonString());
        _authorizationServerMetadata = new(() => IssuerMetadata.AuthorizationServer(tenant, profiles).ToJsonString());
        _jwtVcIssuerMetadata = new(() => IssuerMetadata.JwtVcIssuer(tenant, keys).ToJsonString());
    }

    public Tenant Tenant { get; }
    public IReadOnlyDictionary<string, Profile> Profiles { get; }
    public IReadOnlyList<SigningKey> Keys { get; }
    public SigningKey? ActiveKey { get; }
    public long Version { get; }
    public string CredentialIssuerMetadata => _issuerMetadata.Value;
    public string AuthorizationServerMetadata => _authorizationServerMetadata.Value;
    public string JwtVcIssuerMetadata => _jwtVcIssuerMetadata.Value;

    /// <summary>
    /// The definition of a profile version when it is the one this snapshot holds as current; null for an older version
    /// (or a profile deleted and made again), which the caller reads from storage.
    /// </summary>
    public ProfileDefinition? CurrentDefinition(string profileId, Guid profileUid, int version) =>
        Profiles.TryGetValue(profileId, out var current) && current.Uid == profileUid && current.Version == version ? current.Definition : null;
}

/// <summary>
/// The per-host cache of tenant snapshots, keyed by the version stamp the database holds. It holds at most
/// <see cref="Capacity"/> tenants (a snapshot itself is bounded by the quotas and sizes): a new tenant past it evicts
/// another, which only costs that tenant one reload.
/// </summary>
public sealed class TenantSnapshotCache(int capacity = TenantSnapshotCache.DefaultCapacity)
{
    /// <summary>Tenants whose snapshot one host keeps.</summary>
    public const int DefaultCapacity = 1000;

    private readonly ConcurrentDictionary<string, TenantSnapshot> _snapshots = new(StringComparer.Ordinal);

    public int Capacity { get; } = capacity >= 1 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity));

    /// <summary>Snapshots held now.</summary>
    public int Count => _snapshots.Count;

    internal bool TryGet(string tenantId, long version, out TenantSnapshot snapshot) =>
        _snapshots.TryGetValue(tenantId, out snapshot!) && snapshot.Version == version;

    internal bool TryGetLatest(string tenantId, out TenantSnapshot snapshot) => _snapshots.TryGetValue(tenantId, out snapshot!);

    internal void Put(TenantSnapshot snapshot)
    {
        if (!_snapshots.ContainsKey(snapshot.Tenant.Id)) BoundedMaps.MakeRoom(_snapshots, Capacity);
        _snapshots.AddOrUpdate(snapshot.Tenant.Id, snapshot, (_, old) => old.Version > snapshot.Version ? old : snapshot);
    }

    private readonly ConcurrentDictionary<string, DateTimeOffset> _seen = new(StringComparer.Ordinal);

    internal bool SeenRecently(string tenantId, DateTimeOffset now, TimeSpan within) =>
        _seen.TryGetValue(tenantId, out var at) && now - at < within;

    internal void MarkSeen(string tenantId, DateTimeOffset now)
    {
        if (!_seen.ContainsKey(tenantId)) BoundedMaps.MakeRoom(_seen, Capacity);
        _seen[tenantId] = now;
    }
}

/// <summary>
/// Finds a live tenant for a wallet request by its version stamp, so a change made on any host is seen at once on
/// every host, and the snapshot is rebuilt only when the stamp moved. Endpoints that already read a row joined with
/// the tenant pass the stamp they got and make no extra read.
/// </summary>
public sealed class TenantDirectory(ITenantSnapshotStore store, TenantSnapshotCache cache, TimeProvider clock)
{
    /// <summary>How long this host trusts that a tenant exists, for the anonymous nonce endpoint only.</summary>
    public static readonly TimeSpan ExistenceCacheTime = TimeSpan.FromSeconds(5);

    /// <summary>What a wallet is told at a tenant URL that names no live tenant.</summary>
    public static WalletError NoIssuerHere() => WalletError.NotFound("There is no credential issuer here.");

    /// <summary>Reads the tenant's stamp, then the snapshot: for metadata, which must change at once.</summary>
    public async Task<TenantSnapshot?> FindAsync(string tenantId, CancellationToken ct)
    {
        if (tenantId.Length is 0 or > 63) return null;
        var version = await store.FindTenantVersionAsync(tenantId, ct);
        return version is null ? null : await GetAsync(tenantId, version.Value, ct);
    }

    /// <summary>
    /// Whether the tenant exists, trusting a recent positive answer: a nonce is useless without an access token of
    /// the tenant, so minting one a few seconds after its tenant was deleted gives nothing away.
    /// </summary>
    public async Task<bool> ExistsAsync(string tenantId, CancellationToken ct) => await FindRecentAsync(tenantId, ct) is not null;

    /// <summary>
    /// The tenant as last seen when that was within <see cref="ExistenceCacheTime"/>, else as it is now: for the
    /// anonymous nonce endpoint only, which may mint from settings a few seconds old (its DPoP-Nonce policy).
    /// </summary>
    public async Task<TenantSnapshot?> FindRecentAsync(string tenantId, CancellationToken ct)
    {
        if (cache.SeenRecently(tenantId, clock.GetUtcNow(), ExistenceCacheTime) && cache.TryGetLatest(tenantId, out var recent)) return recent;
        var found = await FindAsync(tenantId, ct);
        if (found is not null) cache.MarkSeen(tenantId, clock.GetUtcNow());
        return found;
    }

    /// <summary>The snapshot at a version the caller just read from the database.</summary>
    public async Task<TenantSnapshot?> GetAsync(string tenantId, long version, CancellationToken ct)
    {
        if (cache.TryGet(tenantId, version, out var snapshot)) return snapshot;

        var loaded = await store.LoadTenantAsync(tenantId, ct);
        if (loaded is null) return null;
        var (tenant, profiles, keys) = loaded.Value;
        snapshot = new TenantSnapshot(tenant, profiles, keys, tenant.MetadataVersion);
        cache.Put(snapshot);
        return snapshot;
    }
}

/// <summary>The metadata documents of OID4VCI 1.0 §12, RFC 8414 and SD-JWT VC issuer metadata.</summary>
public static class IssuerMetadata
{
    public static JsonObject CredentialIssuer(Tenant tenant, IReadOnlyList<Profile> profiles)
    {
        var issuer = tenant.CredentialIssuer;
        var configurations = new JsonObject();
        foreach (var profile in profiles.OrderBy(p => p.ProfileId, StringComparer.Ordinal))
        {
            var d = profile.Definition;
            var claims = new JsonArray();
            foreach (var c in d.Claims)
            {
                var claim = new JsonObject { ["path"] = new JsonArray([.. c.Path.Select(s => (JsonNode)s!)]) };
                if (c.Mandatory) claim["mandatory"] = true;
                if (c.Display.Count > 0)
                    claim["display"] = new JsonArray([.. c.Display.Select(x => (JsonNode)Localized(x.Locale, new JsonObject { ["name"] = x.Name }))]);
                claims.Add(claim);
            }
            var metadata = new JsonObject();
            if (d.Display.Count > 0)
            {
                metadata["display"] = new JsonArray([.. d.Display.Select(x =>
                {
                    var o = new JsonObject { ["name"] = x.Name };
                    if (x.Description is not null) o["description"] = x.Description;
                    if (x.Logo is not null) o["logo"] = Logo(x.Logo);
                    if (x.BackgroundColor is not null) o["background_color"] = x.BackgroundColor;
                    if (x.TextColor is not null) o["text_color"] = x.TextColor;
                    return (JsonNode)Localized(x.Locale, o);
                })]);
            }
            if (claims.Count > 0) metadata["claims"] = claims;

            var configuration = new JsonObject { ["format"] = d.Format, ["scope"] = d.Scope };
            CredentialFormats.Of(d).WriteMetadata(configuration, d);
            configuration["cryptographic_binding_methods_supported"] = new JsonArray("jwk");
            configuration["credential_signing_alg_values_supported"] = new JsonArray(SigningKeys.Es256);
            configuration["proof_types_supported"] = new JsonObject
            {
                [Oid4vci.JwtProofType] = new JsonObject { ["proof_signing_alg_values_supported"] = new JsonArray([.. ProofValidator.SupportedAlgorithms.Select(a => (JsonNode)a!)]) },
            };
            configuration["credential_metadata"] = metadata;
            // OID4VCI draft 13 (§11.2.3, Appendix A.3.2) reads display and claims at the top of the configuration,
            // claims as an object keyed by claim name; 1.0 wallets read credential_metadata and pass over these.
            if (metadata["display"] is JsonArray display) configuration["display"] = display.DeepClone();
            if (d.Claims.Count > 0) configuration["claims"] = Draft13Claims(d.Claims);
            configurations[profile.ProfileId] = configuration;
        }

        var document = new JsonObject
        {
            ["credential_issuer"] = issuer,
            ["credential_endpoint"] = $"{issuer}/credential",
            ["nonce_endpoint"] = $"{issuer}/nonce",
            ["notification_endpoint"] = $"{issuer}/notification",
        };
        if (tenant.Display.Count > 0)
        {
            document["display"] = new JsonArray([.. tenant.Display.Select(x =>
            {
                var o = new JsonObject { ["name"] = x.Name };
                if (x.Logo is not null) o["logo"] = Logo(x.Logo);
                return (JsonNode)Localized(x.Locale, o);
            })]);
        }
        document["credential_configurations_supported"] = configurations;
        return document;
    }

    /// <summary>
    /// RFC 8414 metadata. The issuer is its own authorization server: the pre-authorized code grant, and the
    /// authorization code flow (PAR, PKCE S256, RFC 9207 iss) when the tenant runs it; none of the latter otherwise.
    /// </summary>
    public static JsonObject AuthorizationServer(Tenant tenant, IReadOnlyList<Profile> profiles)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        var issuer = tenant.CredentialIssuer;
        var authorizationCode = Authorization.AcceptAuthorizationRequest.IsOn(tenant);
        var grants = new JsonArray();
        if (tenant.AllowPreAuthorized || !authorizationCode) grants.Add(Offers.CredentialOfferDocument.PreAuthorizedGrant);
        if (authorizationCode) grants.Add(Authorization.AuthorizationGrant.Type);
        var document = new JsonObject { ["issuer"] = issuer };
        if (authorizationCode)
        {
            document["authorization_endpoint"] = $"{issuer}/authorize";
            document["pushed_authorization_request_endpoint"] = $"{issuer}/par";
            document["require_pushed_authorization_requests"] = tenant.AuthorizationServer.RequirePushedAuthorizationRequests;
        }
        document["token_endpoint"] = $"{issuer}/token";
        document["grant_types_supported"] = grants;
        document["token_endpoint_auth_methods_supported"] = new JsonArray("none");
        if (tenant.AllowPreAuthorized) document["pre-authorized_grant_anonymous_access_supported"] = true;
        document["authorization_details_types_supported"] = new JsonArray(Oid4vci.AuthorizationDetailsType);
        // RFC 9449 §5.1: advertised exactly when the tenant accepts DPoP.
        if (Dpop.SenderConstraint.IsOn(tenant))
            document["dpop_signing_alg_values_supported"] = new JsonArray([.. Dpop.DpopProofValidator.Algorithms.Select(a => (JsonNode)a!)]);
        if (authorizationCode)
        {
            document["response_types_supported"] = new JsonArray("code");
            document["response_modes_supported"] = new JsonArray("query");
            document["code_challenge_methods_supported"] = new JsonArray(Authorization.Pkce.S256);
            document["authorization_response_iss_parameter_supported"] = true;
            document["scopes_supported"] = new JsonArray([.. profiles.Select(p => p.Scope).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Select(s => (JsonNode)s!)]);
        }
        return document;
    }

    /// <summary>SD-JWT VC issuer metadata: the keys a verifier finds by iss and kid.</summary>
    public static JsonObject JwtVcIssuer(Tenant tenant, IReadOnlyList<SigningKey> keys) => new()
    {
        ["issuer"] = tenant.CredentialIssuer,
        ["jwks"] = new JsonObject { ["keys"] = new JsonArray([.. keys.Select(k => JsonNode.Parse(k.PublicJwk))]) },
    };

    /// <summary>
    /// Draft 13's claims object (Appendix A.3.2): each path a chain of nested objects by name, the last one holding
    /// <c>mandatory</c> and <c>display</c> ({name, locale}); a claim whose children are claims too holds both.
    /// </summary>
    private static JsonObject Draft13Claims(IReadOnlyList<Claims.ClaimDefinition> claims)
    {
        var root = new JsonObject();
        foreach (var c in claims)
        {
            var node = root;
            foreach (var segment in c.Path)
            {
                if (node[segment] is not JsonObject child)
                {
                    child = [];
                    node[segment] = child;
                }
                node = child;
            }
            if (c.Mandatory) node["mandatory"] = true;
            if (c.Display.Count > 0)
                node["display"] = new JsonArray([.. c.Display.Select(x => (JsonNode)Localized(x.Locale, new JsonObject { ["name"] = x.Name }))]);
        }
        return root;
    }

    private static JsonObject Localized(string? locale, JsonObject o)
    {
        if (!string.IsNullOrEmpty(locale)) o["locale"] = locale;
        return o;
    }

    private static JsonObject Logo(Common.Logo logo)
    {
        var o = new JsonObject { ["uri"] = logo.Uri };
        if (logo.AltText is not null) o["alt_text"] = logo.AltText;
        return o;
    }
}
