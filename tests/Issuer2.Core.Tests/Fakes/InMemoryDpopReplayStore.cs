using Issuer2.Core.Dpop;

namespace Issuer2.Core.Tests.Fakes;

/// <summary>The jtis seen, in memory: a set keyed by the jti key, as the database's primary key is.</summary>
internal sealed class InMemoryDpopReplayStore : IDpopReplayStore
{
    private readonly Dictionary<string, DateTimeOffset> _recorded = new(StringComparer.Ordinal);

    /// <summary>What was recorded: the jti key (hex) and until when.</summary>
    public IReadOnlyDictionary<string, DateTimeOffset> Recorded => _recorded;

    public Task<bool> TryRecordAsync(byte[] jtiKey, DateTimeOffset expiresAt, CancellationToken ct) =>
        Task.FromResult(_recorded.TryAdd(Convert.ToHexString(jtiKey), expiresAt));
}
