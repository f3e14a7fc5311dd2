using Issuer2.Core.Events;

namespace Issuer2.Core.Tests.Events;

public sealed class EventCursorTests
{
    [Theory]
    [InlineData(0, 0)]
    [InlineData(0, 1)]
    [InlineData(748_213, 42)]
    [InlineData(long.MaxValue, long.MaxValue)]
    public void TryParse_OfToString_GivesTheSameCursor(long transactionId, long sequence)
    {
        var cursor = new EventCursor(transactionId, sequence);

        var parsed = EventCursor.TryParse(cursor.ToString(), out var back);

        Assert.True(parsed);
        Assert.Equal(cursor, back);
    }

    [Fact]
    public void ToString_IsCompactHex()
    {
        var text = new EventCursor(255, 16).ToString();

        Assert.Equal("ff.10", text);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("1")]
    [InlineData(".1")]
    [InlineData("1.")]
    [InlineData("1.2.3")]
    [InlineData("xyz.1")]
    [InlineData("1.xyz")]
    [InlineData("-1.2")]
    [InlineData(" 1.2")]
    [InlineData("1.2 ")]
    [InlineData("10000000000000000.1")]
    public void TryParse_OfGarbage_Fails(string? text)
    {
        var parsed = EventCursor.TryParse(text, out var cursor);

        Assert.False(parsed);
        Assert.Equal(default, cursor);
    }

    [Fact]
    public void Cursor_OfAnEvent_IsItsTransactionAndSequence()
    {
        var e = new IssuerEvent { TenantId = "acme", Type = EventTypes.OfferCreated, OccurredAt = default, Detail = "{}", TransactionId = 7, Sequence = 9 };

        Assert.Equal(new EventCursor(7, 9).ToString(), e.Cursor);
    }

    [Fact]
    public void Create_SerializesTheDetailWithoutNulls()
    {
        var e = IssuerEvent.Create("acme", EventTypes.ProfileCreated, default, new { ProfileId = "employee", Note = (string?)null });

        Assert.Equal("""{"profileId":"employee"}""", e.Detail);
    }
}
