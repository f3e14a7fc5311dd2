namespace Issuer2.Core.Common;

/// <summary>Commits every change and every appended event of one request in one transaction.</summary>
public interface IUnitOfWork
{
    /// <summary>
    /// Commits; throws <see cref="UniqueConflictException"/> when a unique key was taken concurrently, and
    /// <see cref="ConcurrencyConflictException"/> when a guarded row was changed concurrently.
    /// </summary>
    Task SaveChangesAsync(CancellationToken ct);

    /// <summary>
    /// Commits like <see cref="SaveChangesAsync"/> unless, counted in the same transaction under the tenant's lock (so
    /// concurrent commits on any host are counted one after the other), the change would leave more than
    /// <see cref="QuotaCheck.Limit"/> of a quota: then nothing is written, pending changes are forgotten, and the first
    /// exceeded check is returned.
    /// </summary>
    Task<QuotaCheck?> SaveWithinQuotasAsync(IReadOnlyList<QuotaCheck> checks, CancellationToken ct);

    /// <summary>Forgets every pending change, e.g. after a commit lost a race, so the request can read afresh.</summary>
    void Reset();
}

/// <summary>A row this request changed was changed first by a concurrent request (e.g. an offer revoked twice at once); nothing was written.</summary>
public sealed class ConcurrencyConflictException(string message, Exception? inner = null) : Exception(message, inner)
{
    public ConcurrencyConflictException() : this("A row was changed concurrently.") { }

    public ConcurrencyConflictException(string message) : this(message, null) { }
}

/// <summary>A unique key (an id, a request id, a version) was taken by a concurrent request; nothing was written.</summary>
public sealed class UniqueConflictException(string message, Exception? inner = null) : Exception(message, inner)
{
    public UniqueConflictException() : this("A unique key was taken concurrently.") { }

    public UniqueConflictException(string message) : this(message, null) { }
}
