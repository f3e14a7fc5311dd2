using Issuer2.Core.Profiles;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Issuer2.Storage.Configurations;

internal sealed class ProfileConfiguration : IEntityTypeConfiguration<Profile>
{
    public void Configure(EntityTypeBuilder<Profile> b)
    {
        b.ToTable("profiles");
        b.HasKey(p => p.Uid);
        b.Property(p => p.TenantId).HasMaxLength(63);
        b.Property(p => p.ProfileId).HasMaxLength(64);
        b.Property(p => p.Scope).HasMaxLength(128);
        b.Property(p => p.Definition).HasJsonConversion();
        b.HasIndex(p => new { p.TenantId, p.ProfileId }).IsUnique();
        b.HasIndex(p => new { p.TenantId, p.Scope }).IsUnique();
    }
}

internal sealed class ProfileVersionConfiguration : IEntityTypeConfiguration<ProfileVersion>
{
    public void Configure(EntityTypeBuilder<ProfileVersion> b)
    {
        b.ToTable("profile_versions");
        b.HasKey(p => new { p.ProfileUid, p.Version });
        b.Property(p => p.TenantId).HasMaxLength(63);
        b.Property(p => p.ProfileId).HasMaxLength(64);
        b.Property(p => p.Definition).HasJsonConversion();
    }
}
