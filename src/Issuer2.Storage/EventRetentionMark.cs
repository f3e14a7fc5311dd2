namespace Issuer2.Storage;

/// <summary>How far retention has deleted the event log: readers with an older cursor get OUT_OF_RANGE.</summary>
public sealed class EventRetentionMark
{
    public const string EventsId = "events";

    public required string Id { get; init; }
    public long TransactionId { get; set; }
    public long Sequence { get; set; }
}
