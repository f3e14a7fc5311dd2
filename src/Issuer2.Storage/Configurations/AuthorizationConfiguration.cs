using Issuer2.Core.Authorization;
using Issuer2.Core.Offers;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Issuer2.Storage.Configurations;

internal sealed class AuthorizationConfiguration : IEntityTypeConfiguration<Authorization>
{
    public void Configure(EntityTypeBuilder<Authorization> b)
    {
        b.ToTable("authorizations");
        b.HasKey(a => a.Id);
        b.Property(a => a.Id).HasMaxLength(32);
        b.Property(a => a.TenantId).HasMaxLength(63);
        b.Property(a => a.ClientId).HasMaxLength(255);
        b.Property(a => a.RedirectUri).HasMaxLength(2048);
        b.Property(a => a.State).HasMaxLength(1024);
        b.Property(a => a.CodeChallenge).HasMaxLength(64);
        b.Property(a => a.ConfigurationId).HasMaxLength(64);
        b.Property(a => a.Scope).HasMaxLength(1024);
        b.Property(a => a.OfferId).HasMaxLength(32);
        b.Property(a => a.IssuerStateHash).HasMaxLength(32);
        b.Property(a => a.DpopJkt).HasMaxLength(64);
        b.Property(a => a.RequestUriHash).HasMaxLength(32);
        b.Property(a => a.BrowserHash).HasMaxLength(32);
        b.Property(a => a.ProviderStateHash).HasMaxLength(32);
        b.Property(a => a.ProviderNonce).HasMaxLength(64);
        b.Property(a => a.CodeHash).HasMaxLength(32);
        b.Property(a => a.SessionId).HasMaxLength(32);
        // Each secret finds at most one request, on every host.
        b.HasIndex(a => a.RequestUriHash).IsUnique();
        b.HasIndex(a => a.ProviderStateHash).IsUnique();
        b.HasIndex(a => a.CodeHash).IsUnique();
        b.HasIndex(a => a.ExpiresAt);
    }
}

internal sealed class IssuerStateConfiguration : IEntityTypeConfiguration<IssuerState>
{
    public void Configure(EntityTypeBuilder<IssuerState> b)
    {
        b.ToTable("issuer_states");
        b.HasKey(s => s.StateHash);
        b.Property(s => s.StateHash).HasMaxLength(32);
        b.Property(s => s.TenantId).HasMaxLength(63);
        b.Property(s => s.OfferId).HasMaxLength(32);
        b.HasIndex(s => s.OfferId);
        b.HasIndex(s => s.ExpiresAt);
    }
}
