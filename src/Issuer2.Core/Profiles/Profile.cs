using Issuer2.Core.Claims;
using Issuer2.Core.Common;

namespace Issuer2.Core.Profiles;

/// <summary>How a wallet shows the credential in one locale.</summary>
public sealed record CredentialDisplay(string? Locale, string Name, string? Description, Logo? Logo, string? BackgroundColor, string? TextColor);

/// <summary>
/// Everything a profile version says about the credential; an offer keeps the version it was made from. The
/// format's own members: <see cref="Vct"/> for SD-JWT VC; <see cref="Doctype"/> (mso_mdoc) and
/// <see cref="CredentialTypes"/> (jwt_vc_json) for the formats to come, refused until they are issued.
/// </summary>
public sealed record ProfileDefinition(
    string Scope,
    string Format,
    string Vct,
    IReadOnlyList<CredentialDisplay> Display,
    IReadOnlyList<ClaimDefinition> Claims,
    IReadOnlyList<ClaimValue> DefaultValues,
    TimeSpan CredentialValidity,
    string? Doctype = null,
    IReadOnlyList<string>? CredentialTypes = null,
    IReadOnlyList<ClaimMapping>? ClaimMappings = null)
{
    /// <summary>The mappings, none when the profile has none.</summary>
    public IReadOnlyList<ClaimMapping> Mappings => ClaimMappings ?? [];
}

/// <summary>
/// The current version of a credential configuration. <see cref="Uid"/> is internal and new for every
/// creation, so a profile deleted and made again never mixes its versions with the old one's.
/// </summary>
public sealed class Profile
{
    public required Guid Uid { get; init; }
    public required string TenantId { get; init; }
    public required string ProfileId { get; init; }

    /// <summary>Mirrors <see cref="ProfileDefinition.Scope"/> so the database keeps scopes unique per tenant.</summary>
    public required string Scope { get; set; }

    public required int Version { get; set; }
    public required ProfileDefinition Definition { get; set; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>An immutable snapshot of one version of a profile.</summary>
public sealed class ProfileVersion
{
    public required Guid ProfileUid { get; init; }
    public required int Version { get; init; }
    public required string TenantId { get; init; }
    public required string ProfileId { get; init; }
    public required ProfileDefinition Definition { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
}

/// <summary>Persistence of profiles and their versions.</summary>
public interface IProfileStore
{
    /// <summary>The current profile, tracked for update.</summary>
    Task<Profile?> FindAsync(string tenantId, string profileId, CancellationToken ct);

    Task<IReadOnlyList<Profile>> ListAsync(string tenantId, string? afterProfileId, int limit, CancellationToken ct);

    Task<bool> ScopeTakenAsync(string tenantId, string scope, Guid? exceptUid, CancellationToken ct);

    /// <summary>
    /// The profile's wallet-initiated sessions (no offer, OID4VCI 1.0 §3.4) of the profile with <paramref name="profileUid"/>,
    /// oldest first, after the given position, with their credentials.
    /// </summary>
    Task<IReadOnlyList<Offers.SessionView>> ListSessionsAsync(
        string tenantId, Guid profileUid, (DateTimeOffset CreatedAt, string Id)? after, int limit, CancellationToken ct);

    void Add(Profile profile);

    void Add(ProfileVersion version);

    void Remove(Profile profile);
}
