using Issuer2.Core.Sessions;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Issuer2.Storage.Configurations;

internal sealed class SessionConfiguration : IEntityTypeConfiguration<IssuanceSession>
{
    public void Configure(EntityTypeBuilder<IssuanceSession> b)
    {
        b.ToTable("issuance_sessions");
        b.HasKey(s => s.Id);
        b.Property(s => s.Id).HasMaxLength(32);
        b.Property(s => s.TenantId).HasMaxLength(63);
        b.Property(s => s.OfferId).HasMaxLength(32);
        b.Property(s => s.ConfigurationId).HasMaxLength(64);
        b.Property(s => s.CredentialIdentifier).HasMaxLength(64);
        b.Property(s => s.ClientId).HasMaxLength(255);
        b.HasIndex(s => s.OfferId);
        // Retention takes the oldest sessions first (WalletRetention.PurgeEndedSessionsAsync).
        b.HasIndex(s => s.CreatedAt);
    }
}

internal sealed class AccessTokenConfiguration : IEntityTypeConfiguration<AccessToken>
{
    public void Configure(EntityTypeBuilder<AccessToken> b)
    {
        b.ToTable("access_tokens");
        b.HasKey(t => t.TokenHash);
        b.Property(t => t.TokenHash).HasMaxLength(32);
        b.Property(t => t.TenantId).HasMaxLength(63);
        b.Property(t => t.SessionId).HasMaxLength(32);
        b.Property(t => t.DpopJkt).HasMaxLength(64);
        b.HasIndex(t => t.ExpiresAt);
    }
}

internal sealed class IssuedCredentialConfiguration : IEntityTypeConfiguration<IssuedCredential>
{
    public void Configure(EntityTypeBuilder<IssuedCredential> b)
    {
        b.ToTable("issued_credentials");
        b.HasKey(c => c.Id);
        b.Property(c => c.Id).HasMaxLength(32);
        b.Property(c => c.TenantId).HasMaxLength(63);
        b.Property(c => c.SessionId).HasMaxLength(32);
        b.Property(c => c.OfferId).HasMaxLength(32);
        b.Property(c => c.ConfigurationId).HasMaxLength(64);
        b.Property(c => c.Format).HasMaxLength(32);
        b.Property(c => c.HolderKeyThumbprint).HasMaxLength(64);
        b.Property(c => c.NotificationId).HasMaxLength(64);
        b.Property(c => c.NotificationEvent).HasMaxLength(32);
        // At most one credential per session and configuration: the database says so, on every host.
        b.HasIndex(c => new { c.SessionId, c.ConfigurationId }).IsUnique().HasDatabaseName(Wallet.CredentialIssuanceStore.OneCredentialPerSession);
        b.HasIndex(c => c.NotificationId).IsUnique();
        b.HasIndex(c => new { c.TenantId, c.IssuedAt });
    }
}

internal sealed class ConsumedNonceConfiguration : IEntityTypeConfiguration<ConsumedNonce>
{
    public void Configure(EntityTypeBuilder<ConsumedNonce> b)
    {
        b.ToTable("consumed_nonces");
        b.HasKey(n => n.NonceHash).HasName(Wallet.CredentialIssuanceStore.NonceUsedOnce);
        b.Property(n => n.NonceHash).HasMaxLength(32);
        b.HasIndex(n => n.ExpiresAt);
    }
}

internal sealed class DpopProofConfiguration : IEntityTypeConfiguration<Wallet.DpopProof>
{
    public void Configure(EntityTypeBuilder<Wallet.DpopProof> b)
    {
        b.ToTable("dpop_proofs");
        // One jti per key, on every host (RFC 9449 §11.1): the primary key decides.
        b.HasKey(p => p.JtiKey);
        b.Property(p => p.JtiKey).HasMaxLength(32);
        b.HasIndex(p => p.ExpiresAt);
    }
}

internal sealed class RefusalCounterConfiguration : IEntityTypeConfiguration<Wallet.RefusalCounter>
{
    public void Configure(EntityTypeBuilder<Wallet.RefusalCounter> b)
    {
        b.ToTable("refusal_counters");
        // One counter per refusal key and window, on every host: the primary key is the upsert's conflict target.
        b.HasKey(c => new { c.TenantId, c.Subject, c.EventType, c.Reason, c.WindowStart });
        b.Property(c => c.TenantId).HasMaxLength(63);
        b.Property(c => c.Subject).HasMaxLength(80);
        b.Property(c => c.EventType).HasMaxLength(64);
        b.Property(c => c.Reason).HasMaxLength(64);
        b.Property(c => c.OfferId).HasMaxLength(32);
        b.Property(c => c.SessionId).HasMaxLength(32);
        b.Property(c => c.ProfileId).HasMaxLength(64);
        // Maintenance flushes and purges closed windows, the oldest first.
        b.HasIndex(c => c.WindowStart);
    }
}
