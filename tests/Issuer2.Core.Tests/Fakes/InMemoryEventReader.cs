using Issuer2.Core.Events;

namespace Issuer2.Core.Tests.Fakes;

/// <summary>
/// The event log of <see cref="InMemoryDatabase"/>, read as the SQLite reader does: commits are serial, so the
/// horizon is the newest sequence, nothing is ever held back, and a page that is not full ends at the horizon.
/// </summary>
internal sealed class InMemoryEventReader(InMemoryDatabase db) : IEventReader
{
    public async Task<IReadOnlyList<IssuerEvent>> ReadAfterAsync(string tenantId, EventCursor? after, int limit, CancellationToken ct) =>
        (await ReadAsync(tenantId, after ?? default, EventFilter.All, limit, ct)).Events;

    public Task<EventPage> ReadAsync(string tenantId, EventCursor after, EventFilter filter, int limit, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(filter);
        lock (db.Gate)
        {
            var horizon = db.Head;
            var rows = db.Events
                .Where(e => e.TenantId == tenantId && new EventCursor(e.TransactionId, e.Sequence) > after && filter.Matches(e))
                .Take(limit + 1)
                .ToList();
            var full = rows.Count > limit;
            var deliverable = rows.Take(limit).ToList();
            var last = deliverable.Count > 0 ? new EventCursor(deliverable[^1].TransactionId, deliverable[^1].Sequence) : after;
            var safe = full ? last : EventCursor.Max(last, horizon);
            return Task.FromResult(new EventPage(deliverable, safe, full, HeldBack: false));
        }
    }

    public Task<EventCursor> HeadAsync(CancellationToken ct) => Task.FromResult(db.Head);

    public Task<EventCursor> TenantPositionAsync(string tenantId, EventCursor safe, CancellationToken ct)
    {
        lock (db.Gate)
        {
            var newest = db.Events.Where(e => e.TenantId == tenantId && e.Position <= safe).Select(e => e.Position).DefaultIfEmpty().Max();
            return Task.FromResult(db.EventsPurgedThrough.TryGetValue(tenantId, out var mark) && mark <= safe ? EventCursor.Max(newest, mark) : newest);
        }
    }

    public Task<EventCursor?> PurgedThroughAsync(string tenantId, CancellationToken ct)
    {
        lock (db.Gate) return Task.FromResult(db.EventsPurgedThrough.TryGetValue(tenantId, out var mark) ? mark : (EventCursor?)null);
    }

    public Task<int> PurgeOlderThanAsync(DateTimeOffset cutoff, int batchSize, CancellationToken ct) =>
        Task.FromResult(db.PurgeEventsOlderThan(cutoff, batchSize));
}
