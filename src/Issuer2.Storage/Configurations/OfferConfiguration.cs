using Issuer2.Core.Offers;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Issuer2.Storage.Configurations;

internal sealed class OfferConfiguration : IEntityTypeConfiguration<Offer>
{
    public void Configure(EntityTypeBuilder<Offer> b)
    {
        b.ToTable("offers");
        b.HasKey(o => o.Id);
        b.Property(o => o.Id).HasMaxLength(32);
        b.Property(o => o.TenantId).HasMaxLength(63);
        b.Property(o => o.ProfileId).HasMaxLength(64);
        b.Property(o => o.UriTokenHash).HasMaxLength(32);
        // 36: a key-ring version (4 bytes) and the HMAC; 32 in the form of the release before versions.
        b.Property(o => o.PinHash).HasMaxLength(36);
        b.Property(o => o.PinDescription).HasMaxLength(300);
        b.Property(o => o.RequestId).HasMaxLength(128);
        b.Property(o => o.Overrides).HasJsonConversion();
        b.Ignore(o => o.PinRequired);
        // A revocation is guarded: UPDATE … WHERE revoked_at IS NULL, so two racing revokes make one change and one event.
        b.Property(o => o.RevokedAt).IsConcurrencyToken();
        // Wallets find a BY_REFERENCE offer by its token's hash; lists page by (tenant, time, id).
        b.HasIndex(o => o.UriTokenHash).IsUnique();
        b.HasIndex(o => new { o.TenantId, o.CreatedAt, o.Id });
        b.HasIndex(o => new { o.TenantId, o.ProfileId });
    }
}

internal sealed class PreAuthorizedCodeConfiguration : IEntityTypeConfiguration<PreAuthorizedCode>
{
    public void Configure(EntityTypeBuilder<PreAuthorizedCode> b)
    {
        b.ToTable("pre_authorized_codes");
        b.HasKey(c => c.CodeHash);
        b.Property(c => c.CodeHash).HasMaxLength(32);
        b.Property(c => c.TenantId).HasMaxLength(63);
        b.Property(c => c.OfferId).HasMaxLength(32);
        b.HasIndex(c => c.OfferId);
        b.HasIndex(c => c.ExpiresAt);
    }
}

internal sealed class OfferRequestConfiguration : IEntityTypeConfiguration<OfferRequest>
{
    public void Configure(EntityTypeBuilder<OfferRequest> b)
    {
        b.ToTable("offer_requests");
        b.HasKey(r => new { r.TenantId, r.RequestId });
        b.Property(r => r.TenantId).HasMaxLength(63);
        b.Property(r => r.RequestId).HasMaxLength(128);
        b.Property(r => r.Fingerprint).HasMaxLength(36);
        b.Property(r => r.OfferId).HasMaxLength(32);
        b.HasIndex(r => r.ExpiresAt);
    }
}
