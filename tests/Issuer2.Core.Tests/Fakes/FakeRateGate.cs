using Issuer2.Core.Wallet;

namespace Issuer2.Core.Tests.Fakes;

/// <summary>A rate gate that grants every permit except for the limits a test closed; it records what was asked.</summary>
internal sealed class FakeRateGate : IRateGate
{
    private readonly HashSet<OfferLimit> _closed = [];

    public List<(OfferLimit Limit, string TenantId, string OfferId)> Asked { get; } = [];

    public static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(7);

    public void Close(OfferLimit limit) => _closed.Add(limit);

    public TimeSpan? TryTake(OfferLimit limit, string tenantId, string offerId)
    {
        Asked.Add((limit, tenantId, offerId));
        return _closed.Contains(limit) ? RetryAfter : null;
    }
}
