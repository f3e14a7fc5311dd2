using Issuer2.Core.Claims;
using Issuer2.Core.Common;
using Issuer2.Core.Credentials;
using Issuer2.Core.Events;
using Issuer2.Core.Offers;
using Issuer2.Core.Tenants;

namespace Issuer2.Core.Profiles;

/// <summary>The fields of a profile a caller gives; null means "the default" on create and "unchanged" on update.</summary>
public sealed record ProfileInput(
    string? Scope = null,
    string? Vct = null,
    IReadOnlyList<CredentialDisplay>? Display = null,
    IReadOnlyList<ClaimDefinition>? Claims = null,
    IReadOnlyList<ClaimValue>? DefaultValues = null,
    TimeSpan? CredentialValidity = null,
    string? Format = null,
    string? Doctype = null,
    IReadOnlyList<string>? CredentialTypes = null,
    IReadOnlyList<ClaimMapping>? ClaimMappings = null);

/// <summary>Use cases of credential profile management (a tenant key's).</summary>
public sealed class ProfileManagement(
    ITenantStore tenants, IProfileStore profiles, IOfferStore offers, IEventLog events, IUnitOfWork unit, QuotaLimits quotas, TimeProvider clock)
{
    public async Task<Result<Profile, Error>> CreateAsync(Caller caller, string tenantId, string? profileId, ProfileInput input, CancellationToken ct)
    {
        if (Access.RequireTenant(caller, tenantId, ResourceNames.Tenant(tenantId)) is { } denied) return denied;
        var v = new Violations();
        ProfileRules.CheckId(v, "profile.profile_id", profileId);
        var definition = new ProfileDefinition(
            input.Scope ?? profileId ?? "",
            input.Format ?? CredentialFormats.SdJwtVc,
            input.Vct ?? "",
            input.Display ?? [],
            input.Claims ?? [],
            input.DefaultValues ?? [],
            input.CredentialValidity ?? ProfileRules.DefaultValidity,
            input.Doctype,
            input.CredentialTypes is { Count: > 0 } types ? types : null,
            input.ClaimMappings is { Count: > 0 } mappings ? mappings : null);
        ProfileRules.Check(v, "profile.", definition, quotas.ClaimValues);
        if (v.Any) return v.ToError();

        var tenant = await tenants.FindAsync(tenantId, ct);
        if (tenant is null) return Error.NotFound(ResourceNames.Tenant(tenantId));
        if (await profiles.FindAsync(tenantId, profileId!, ct) is not null)
            return Error.AlreadyExists(ErrorReasons.AlreadyExists, $"The profile \"{profileId}\" exists in this tenant.");
        if (await profiles.ScopeTakenAsync(tenantId, definition.Scope, null, ct))
            return Error.AlreadyExists(ErrorReasons.ScopeInUse, $"Another profile of the tenant uses the scope \"{definition.Scope}\".");

        var now = clock.UtcNow();
        var profile = new Profile
        {
            Uid = Guid.NewGuid(), TenantId = tenantId, ProfileId = profileId!, Scope = definition.Scope, Version = 1,
            Definition = definition, CreatedAt = now, UpdatedAt = now,
        };
        profiles.Add(profile);
        PublishVersion(profile, tenant, EventTypes.ProfileCreated, now, caller);
        try
        {
            if (await unit.SaveWithinQuotasAsync(
                    [QuotaCheck.Of(quotas, Quota.Profiles, tenantId, now), QuotaCheck.Of(quotas, Quota.ProfileVersions, tenantId, now, profile.Uid, profile.ProfileId)], ct)
                is { } exceeded)
                return Quotas.Exceeded(exceeded);
        }
        catch (UniqueConflictException)
        {
            return Error.AlreadyExists(ErrorReasons.AlreadyExists, $"The profile \"{profileId}\" or its scope was taken by a concurrent request.");
        }
        return profile;
    }

    public async Task<Result<Profile, Error>> GetAsync(Caller caller, string tenantId, string profileId, CancellationToken ct)
    {
        var name = ResourceNames.Child(tenantId, ResourceNames.Profiles, profileId);
        if (Access.RequireTenant(caller, tenantId, name) is { } denied) return denied;
        var profile = await profiles.FindAsync(tenantId, profileId, ct);
        return profile is null ? Error.NotFound(name) : profile;
    }

    public async Task<Result<Page<Profile>, Error>> ListAsync(Caller caller, string tenantId, int pageSize, string? pageToken, PageBudget<Profile> budget, CancellationToken ct)
    {
        if (Access.RequireTenant(caller, tenantId, ResourceNames.Tenant(tenantId)) is { } denied) return denied;
        var size = PageSizes.Of(ListKind.Profiles, pageSize);
        if (!size.IsSuccess) return size.Error;
        var scope = $"profiles/{tenantId}";
        var after = PageTokens.Decode(pageToken, scope);
        if (!after.IsSuccess) return after.Error;
        var page = await profiles.ListAsync(tenantId, after.Value, size.Value + 1, ct);
        var (items, more) = PageSizes.Cut(page, size.Value, budget);
        return new Page<Profile>(items, more ? PageTokens.Encode(scope, items[^1].ProfileId) : "");
    }

    public async Task<Result<Profile, Error>> UpdateAsync(Caller caller, string tenantId, string profileId, ProfileInput changes, CancellationToken ct)
    {
        var name = ResourceNames.Child(tenantId, ResourceNames.Profiles, profileId);
        if (Access.RequireTenant(caller, tenantId, name) is { } denied) return denied;
        var profile = await profiles.FindAsync(tenantId, profileId, ct);
        if (profile is null) return Error.NotFound(name);
        var tenant = await tenants.FindAsync(tenantId, ct);
        if (tenant is null) return Error.NotFound(name);

        var old = profile.Definition;
        var definition = old with
        {
            Scope = changes.Scope ?? old.Scope,
            Vct = changes.Vct ?? old.Vct,
            Display = changes.Display ?? old.Display,
            Claims = changes.Claims ?? old.Claims,
            DefaultValues = changes.DefaultValues ?? old.DefaultValues,
            CredentialValidity = changes.CredentialValidity ?? old.CredentialValidity,
            ClaimMappings = changes.ClaimMappings is null ? old.ClaimMappings : changes.ClaimMappings.Count > 0 ? changes.ClaimMappings : null,
        };
        var v = new Violations();
        ProfileRules.Check(v, "profile.", definition, quotas.ClaimValues);
        if (v.Any) return v.ToError();
        if (definition.Scope != old.Scope && await profiles.ScopeTakenAsync(tenantId, definition.Scope, profile.Uid, ct))
            return Error.AlreadyExists(ErrorReasons.ScopeInUse, $"Another profile of the tenant uses the scope \"{definition.Scope}\".");

        // A new version; offers already made keep theirs. Two concurrent updates collide on the version's key.
        var now = clock.UtcNow();
        profile.Definition = definition;
        profile.Scope = definition.Scope;
        profile.Version++;
        profile.UpdatedAt = now;
        PublishVersion(profile, tenant, EventTypes.ProfileUpdated, now, caller);
        try
        {
            // Each update keeps a version; past the quota the update is refused and the profile stays as it was.
            if (await unit.SaveWithinQuotasAsync([QuotaCheck.Of(quotas, Quota.ProfileVersions, tenantId, now, profile.Uid, profile.ProfileId)], ct) is { } exceeded)
                return Quotas.Exceeded(exceeded);
        }
        catch (UniqueConflictException)
        {
            return Error.ConcurrentUpdate(name);
        }
        return profile;
    }

    public async Task<Result<int, Error>> DeleteAsync(Caller caller, string tenantId, string profileId, bool revokeOffers, CancellationToken ct)
    {
        var name = ResourceNames.Child(tenantId, ResourceNames.Profiles, profileId);
        if (Access.RequireTenant(caller, tenantId, name) is { } denied) return denied;
        var profile = await profiles.FindAsync(tenantId, profileId, ct);
        if (profile is null) return Error.NotFound(name);
        var tenant = await tenants.FindAsync(tenantId, ct);
        if (tenant is null) return Error.NotFound(name);

        // Live offers would lose their credential: refuse unless the caller revokes them along with it.
        var now = clock.UtcNow();
        var active = await offers.ListActiveForProfileAsync(tenantId, profileId, now, ct);
        if (active.Count > 0 && !revokeOffers)
            return Error.Precondition(ErrorReasons.ProfileInUse,
                $"{active.Count} active offer(s) use this profile; revoke them first or set revoke_offers.");
        foreach (var offer in active) OfferManagement.Revoke(events, offer, now, "profile_deleted", caller);

        // The versions stay: offers made from them keep what they were made from.
        profiles.Remove(profile);
        tenant.MetadataVersion++;
        events.Append(IssuerEvent.Create(tenantId, EventTypes.ProfileDeleted, now, new EventDetails.ProfileChanged(profile.Version, active.Count), profileId: profileId, actor: caller));
        try
        {
            await unit.SaveChangesAsync(ct);
        }
        catch (ConcurrencyConflictException)
        {
            unit.Reset();
            return Error.ConcurrentUpdate(name);
        }
        return active.Count;
    }

    /// <summary>
    /// The profile's wallet-initiated sessions (OID4VCI 1.0 §3.4): those without an offer, of this profile (not of an
    /// earlier one deleted under the same id), oldest first.
    /// </summary>
    public async Task<Result<Page<SessionView>, Error>> ListSessionsAsync(
        Caller caller, string tenantId, string profileId, int pageSize, string? pageToken, PageBudget<SessionView> budget, CancellationToken ct)
    {
        var name = ResourceNames.Child(tenantId, ResourceNames.Profiles, profileId);
        if (Access.RequireTenant(caller, tenantId, name) is { } denied) return denied;
        var size = PageSizes.Of(ListKind.ProfileSessions, pageSize);
        if (!size.IsSuccess) return size.Error;
        var scope = $"profile-sessions/{tenantId}/{profileId}";
        var position = PageTokens.Decode(pageToken, scope);
        if (!position.IsSuccess) return position.Error;
        var after = PageTokens.ParseTimeKey(position.Value);
        if (!after.IsSuccess) return after.Error;
        var profile = await profiles.FindAsync(tenantId, profileId, ct);
        if (profile is null) return Error.NotFound(name);

        var page = await profiles.ListSessionsAsync(tenantId, profile.Uid, after.Value, size.Value + 1, ct);
        var (items, more) = PageSizes.Cut(page, size.Value, budget);
        var next = more ? PageTokens.Encode(scope, PageTokens.TimeKey(items[^1].Session.CreatedAt, items[^1].Session.Id)) : "";
        return new Page<SessionView>(items, next);
    }

    /// <summary>A profile's new version: its immutable snapshot, a new metadata stamp for the tenant, and the event.</summary>
    private void PublishVersion(Profile p, Tenant tenant, string eventType, DateTimeOffset now, Caller caller)
    {
        profiles.Add(new ProfileVersion
        {
            ProfileUid = p.Uid, Version = p.Version, TenantId = p.TenantId, ProfileId = p.ProfileId, Definition = p.Definition, CreatedAt = now,
        });
        tenant.MetadataVersion++;
        events.Append(IssuerEvent.Create(p.TenantId, eventType, now, new EventDetails.ProfileChanged(p.Version), profileId: p.ProfileId, actor: caller));
    }
}
