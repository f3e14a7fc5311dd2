namespace Issuer2.Storage;

/// <summary>
/// How far retention has deleted one tenant's events: the newest deleted position of that tenant. A cursor of this
/// tenant below it gets OUT_OF_RANGE; another tenant's purge never moves it.
/// </summary>
public sealed class EventPurgeMark
{
    public required string TenantId { get; init; }
    public long TransactionId { get; set; }
    public long Sequence { get; set; }
}
