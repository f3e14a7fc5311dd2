using Issuer2.Core.ApiKeys;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Issuer2.Storage.Configurations;

internal sealed class ApiKeyConfiguration : IEntityTypeConfiguration<ApiKey>
{
    public void Configure(EntityTypeBuilder<ApiKey> b)
    {
        b.ToTable("api_keys");
        b.HasKey(k => k.Id);
        b.Property(k => k.Id).HasMaxLength(32);
        b.Property(k => k.TenantId).HasMaxLength(63);
        b.Property(k => k.DisplayName).HasMaxLength(100);
        b.Property(k => k.KeyHash).HasMaxLength(32);
        b.Property(k => k.KeyPrefix).HasMaxLength(16);
        b.HasIndex(k => k.KeyHash).IsUnique();
        b.HasIndex(k => new { k.TenantId, k.CreatedAt, k.Id });
    }
}
