using Issuer2.Core.Keys;
using Issuer2.Core.Tenants;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Issuer2.Storage.Configurations;

internal sealed class TenantConfiguration : IEntityTypeConfiguration<Tenant>
{
    public void Configure(EntityTypeBuilder<Tenant> b)
    {
        b.ToTable("tenants");
        b.HasKey(t => t.Id);
        b.Property(t => t.Id).HasMaxLength(63);
        b.Property(t => t.CredentialIssuer).HasMaxLength(2048);
        b.Property(t => t.Display).HasJsonConversion();
        b.Property(t => t.IdentityProvider!).HasJsonConversion(required: false);
        b.Property(t => t.AuthorizationServer).HasJsonConversion();
        b.Property(t => t.Dpop).HasJsonConversion();
    }
}

internal sealed class SigningKeyConfiguration : IEntityTypeConfiguration<SigningKey>
{
    public void Configure(EntityTypeBuilder<SigningKey> b)
    {
        b.ToTable("signing_keys");
        b.HasKey(k => k.Id);
        b.Property(k => k.TenantId).HasMaxLength(63);
        b.Property(k => k.Kid).HasMaxLength(64);
        b.Property(k => k.Algorithm).HasMaxLength(16);
        b.Property(k => k.PublicJwk).HasMaxLength(1024);
        b.HasIndex(k => new { k.TenantId, k.Kid }).IsUnique();
        b.HasOne<Tenant>().WithMany().HasForeignKey(k => k.TenantId).OnDelete(DeleteBehavior.Restrict);
    }
}
