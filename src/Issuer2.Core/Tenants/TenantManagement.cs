using Issuer2.Core.Common;
using Issuer2.Core.Events;
using Issuer2.Core.IdentityProviders;
using Issuer2.Core.Keys;
using Issuer2.Core.Offers;
using Issuer2.Core.Security;

namespace Issuer2.Core.Tenants;

/// <summary>The public base URL every tenant's credential issuer identifier is built on.</summary>
public interface IPublicBaseUrl
{
    /// <summary>An absolute http(s) URL without a trailing slash.</summary>
    string Value { get; }
}

/// <summary>A tenant with its public signing keys.</summary>
public sealed record TenantView(Tenant Tenant, IReadOnlyList<SigningKey> Keys);

/// <summary>Use cases of tenant administration (the admin key's).</summary>
public sealed class TenantManagement(
    ITenantStore tenants, IOfferStore offers, IEventLog events, IUnitOfWork unit, SigningKeys signingKeys, IPublicBaseUrl baseUrl,
    KeyRing keys, HttpsPolicy https, TimeProvider clock)
{
    private readonly SecretProtector _secrets = keys.Protector(KeyPurpose.SecretsAtRest);

    public async Task<Result<TenantView, Error>> CreateAsync(Caller caller, string? tenantId, TenantSettings settings, CancellationToken ct)
    {
        // Only the admin creates tenants.
        if (Access.RequireAdmin(caller) is { } denied) return denied;

        var v = new Violations();
        TenantRules.CheckId(v, "tenant.tenant_id", tenantId);
        if (v.Any) return v.ToError();

        var now = clock.UtcNow();
        var tenant = new Tenant
        {
            Id = tenantId!,
            CredentialIssuer = $"{baseUrl.Value}/{tenantId}",
            AllowPreAuthorized = true,
            DefaultOfferLifetime = TenantRules.DefaultOfferLifetime,
            MaxOfferLifetime = TenantRules.DefaultMaxOfferLifetime,
            PreAuthorizedCodeLifetime = TenantRules.DefaultCodeLifetime,
            PinAttemptLimit = TenantRules.DefaultPinAttemptLimit,
            MetadataVersion = 1,
            CreatedAt = now,
            UpdatedAt = now,
        };
        TenantRules.Apply(tenant, settings);
        TenantRules.Check(v, "tenant.", tenant);
        ApplyIdentityProvider(v, tenant, settings);
        if (v.Any) return v.ToError();

        // Ids are never reused, not even after deletion.
        if (await tenants.IdEverUsedAsync(tenant.Id, ct))
            return Error.AlreadyExists(ErrorReasons.AlreadyExists, $"The tenant id \"{tenant.Id}\" is taken or was used before.");

        var key = signingKeys.Create(tenant.Id, now);
        tenants.Add(tenant);
        tenants.Add(key);
        events.Append(IssuerEvent.Create(tenant.Id, EventTypes.TenantCreated, now, new EventDetails.TenantChanged(tenant.MetadataVersion, key.Kid), actor: caller));
        try
        {
            await unit.SaveChangesAsync(ct);
        }
        catch (UniqueConflictException)
        {
            return Error.AlreadyExists(ErrorReasons.AlreadyExists, $"The tenant id \"{tenant.Id}\" is taken or was used before.");
        }
        return new TenantView(tenant, [key]);
    }

    public async Task<Result<TenantView, Error>> GetAsync(Caller caller, string tenantId, CancellationToken ct)
    {
        // The admin and the tenant's own keys may read it; to anyone else it does not exist.
        if (Access.RequireReadTenant(caller, tenantId) is { } denied) return denied;
        var tenant = await tenants.FindAsync(tenantId, ct);
        if (tenant is null) return Error.NotFound(ResourceNames.Tenant(tenantId));
        return new TenantView(tenant, await tenants.ListSigningKeysAsync([tenantId], ct));
    }

    public async Task<Result<Page<TenantView>, Error>> ListAsync(Caller caller, int pageSize, string? pageToken, PageBudget<TenantView> budget, CancellationToken ct)
    {
        if (Access.RequireAdmin(caller) is { } denied) return denied;
        var size = PageSizes.Of(ListKind.Tenants, pageSize);
        if (!size.IsSuccess) return size.Error;
        var after = PageTokens.Decode(pageToken, "tenants");
        if (!after.IsSuccess) return after.Error;

        var page = await tenants.ListAsync(after.Value, size.Value + 1, ct);
        var pageTenants = page.Take(size.Value).ToList();
        var keys = await tenants.ListSigningKeysAsync([.. pageTenants.Select(t => t.Id)], ct);
        var views = pageTenants.Select(t => new TenantView(t, [.. keys.Where(k => k.TenantId == t.Id)])).ToList();
        // The extra row only says that more follow; it is measured as a view without keys.
        if (page.Count > size.Value) views.Add(new TenantView(page[^1], []));
        var (items, more) = PageSizes.Cut(views, size.Value, budget);
        var next = more ? PageTokens.Encode("tenants", items[^1].Tenant.Id) : "";
        return new Page<TenantView>(items, next);
    }

    public async Task<Result<TenantView, Error>> UpdateAsync(Caller caller, string tenantId, TenantSettings changes, CancellationToken ct)
    {
        if (Access.RequireAdmin(caller) is { } denied) return denied;
        var tenant = await tenants.FindAsync(tenantId, ct);
        if (tenant is null) return Error.NotFound(ResourceNames.Tenant(tenantId));

        var previousPinLimit = tenant.PinAttemptLimit;
        TenantRules.Apply(tenant, changes);
        var v = new Violations();
        TenantRules.Check(v, "tenant.", tenant);
        ApplyIdentityProvider(v, tenant, changes);
        if (v.Any) return v.ToError();

        // Every change bumps the stamp, the IdP and the authorization-server policy included: each host's snapshot reloads.
        var now = clock.UtcNow();
        tenant.UpdatedAt = now;
        tenant.MetadataVersion++;
        events.Append(IssuerEvent.Create(tenant.Id, EventTypes.TenantUpdated, now, new EventDetails.TenantChanged(tenant.MetadataVersion), actor: caller));
        // A lower PIN limit locks every offer already at or over it.
        if (tenant.PinAttemptLimit < previousPinLimit)
        {
            offers.LockAtPinLimit(tenant.Id, tenant.PinAttemptLimit, now, locked =>
                IssuerEvent.Create(tenant.Id, EventTypes.OfferLocked, now, new EventDetails.OfferLocked(locked.Attempts), locked.OfferId, profileId: locked.ProfileId, actor: caller));
        }
        await unit.SaveChangesAsync(ct);
        return new TenantView(tenant, await tenants.ListSigningKeysAsync([tenantId], ct));
    }

    public async Task<Result<bool, Error>> DeleteAsync(Caller caller, string tenantId, CancellationToken ct)
    {
        if (Access.RequireAdmin(caller) is { } denied) return denied;
        var tenant = await tenants.FindAsync(tenantId, ct);
        if (tenant is null) return Error.NotFound(ResourceNames.Tenant(tenantId));

        // A tombstone: keys stop authenticating and offers stop working because every path checks DeletedAt.
        var now = clock.UtcNow();
        tenant.DeletedAt = now;
        tenant.UpdatedAt = now;
        tenant.MetadataVersion++;
        events.Append(IssuerEvent.Create(tenant.Id, EventTypes.TenantDeleted, now, new EventDetails.TenantChanged(tenant.MetadataVersion), actor: caller));
        await unit.SaveChangesAsync(ct);
        return true;
    }

    /// <summary>
    /// Sets, replaces or removes the tenant's IdP as the settings say, once it checks out. The client secret is
    /// encrypted here, the only place it is in the clear; given none, the stored one is kept (see
    /// <see cref="TenantRules.KeepsStoredSecret"/>).
    /// </summary>
    private void ApplyIdentityProvider(Violations v, Tenant tenant, TenantSettings settings)
    {
        if (settings.RemoveIdentityProvider)
        {
            tenant.IdentityProvider = null;
            return;
        }
        if (settings.IdentityProvider is not { } idp) return;
        var before = v.Items.Count;
        TenantRules.CheckIdentityProvider(v, "tenant.", idp, tenant.IdentityProvider, https);
        if (v.Items.Count > before) return;
        var secret = idp.ClientSecret is null
            ? tenant.IdentityProvider!.EncryptedClientSecret
            : IdentityProviderSecrets.Encrypt(_secrets, tenant.Id, idp.ClientSecret);
        tenant.IdentityProvider = new IdentityProviderSettings(idp.Issuer, idp.ClientId, secret, [.. idp.Scopes]);
    }
}
