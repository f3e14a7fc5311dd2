using Issuer2.Core.Events;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Issuer2.Storage.Configurations;

internal sealed class EventConfiguration : IEntityTypeConfiguration<IssuerEvent>
{
    public void Configure(EntityTypeBuilder<IssuerEvent> b)
    {
        b.ToTable("events");
        b.HasKey(e => e.Sequence);
        b.Property(e => e.Sequence).ValueGeneratedOnAdd().HasAnnotation("Sqlite:Autoincrement", true);
        b.Property(e => e.TenantId).HasMaxLength(63);
        b.Property(e => e.Type).HasMaxLength(64);
        b.Property(e => e.OfferId).HasMaxLength(32);
        b.Property(e => e.SessionId).HasMaxLength(32);
        b.Property(e => e.ProfileId).HasMaxLength(64);
        b.Property(e => e.Actor).HasMaxLength(160);
        b.Ignore(e => e.Position);
        // Readers follow one tenant in (transaction id, sequence) order; retention deletes by time.
        b.HasIndex(e => new { e.TenantId, e.TransactionId, e.Sequence });
        b.HasIndex(e => e.OccurredAt);
    }
}

internal sealed class EventPurgeMarkConfiguration : IEntityTypeConfiguration<EventPurgeMark>
{
    public void Configure(EntityTypeBuilder<EventPurgeMark> b)
    {
        // One row per tenant that retention has reached, moved by the purge in the transaction that deletes.
        b.ToTable("event_purge_marks");
        b.HasKey(m => m.TenantId);
        b.Property(m => m.TenantId).HasMaxLength(63);
    }
}
