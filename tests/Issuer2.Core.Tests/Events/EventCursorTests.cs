using Issuer2.Core.Events;

namespace Issuer2.Core.Tests.Events;

public sealed class EventCursorTests
{
    private static readonly byte[] Key = [.. Enumerable.Range(1, 32).Select(i => (byte)i)];
    private readonly EventCursors _cursors = new(Key);

    [Theory]
    [InlineData(0, 0)]
    [InlineData(0, 1)]
    [InlineData(748_213, 42)]
    [InlineData(0x0001_0000_0000_0005, 1L << 50)]
    [InlineData(long.MaxValue, long.MaxValue)]
    public void TryDecode_OfEncode_GivesThePosition(long transactionId, long sequence)
    {
        var position = new EventCursor(transactionId, sequence);

        var decoded = _cursors.TryDecode("acme", _cursors.Encode("acme", position), out var back);

        Assert.True(decoded);
        Assert.Equal(position, back);
    }

    [Fact]
    public void Encode_IsDeterministicAndShowsNoDigitsOfThePosition()
    {
        var cursor = _cursors.Encode("acme", new EventCursor(0, 255));

        Assert.Equal(cursor, new EventCursors(Key).Encode("acme", new EventCursor(0, 255)));
        Assert.Equal(44, cursor.Length);
        Assert.DoesNotContain("ff", cursor, StringComparison.OrdinalIgnoreCase);
        Assert.NotEqual(cursor, _cursors.Encode("acme", new EventCursor(0, 256)));
    }

    [Fact]
    public void Encode_OfOnePosition_DiffersPerTenant()
    {
        var position = new EventCursor(0, 0);

        Assert.NotEqual(_cursors.Encode("acme", position), _cursors.Encode("globex", position));
    }

    [Fact]
    public void TryDecode_OfAnotherTenantsCursor_Fails()
    {
        var theirs = _cursors.Encode("globex", new EventCursor(7, 9));

        Assert.False(_cursors.TryDecode("acme", theirs, out var position));
        Assert.Equal(default, position);
    }

    [Fact]
    public void TryDecode_OfACursorUnderAnotherKey_Fails()
    {
        var other = new EventCursors(new byte[32]).Encode("acme", new EventCursor(7, 9));

        Assert.False(_cursors.TryDecode("acme", other, out _));
    }

    [Fact]
    public void TryDecode_WithAnyByteChanged_Fails()
    {
        var bytes = System.Buffers.Text.Base64Url.DecodeFromChars(_cursors.Encode("acme", new EventCursor(7, 9)));

        for (var i = 0; i < bytes.Length; i++)
        {
            for (var bit = 0; bit < 8; bit++)
            {
                var tampered = (byte[])bytes.Clone();
                tampered[i] ^= (byte)(1 << bit);
                Assert.False(_cursors.TryDecode("acme", System.Buffers.Text.Base64Url.EncodeToString(tampered), out _), $"byte {i} bit {bit}");
            }
        }
    }

    [Fact]
    public void TryDecode_WithABlockSwappedFromAnotherCursor_Fails()
    {
        var a = System.Buffers.Text.Base64Url.DecodeFromChars(_cursors.Encode("acme", new EventCursor(7, 9)));
        var b = System.Buffers.Text.Base64Url.DecodeFromChars(_cursors.Encode("acme", new EventCursor(7, 10)));
        var mixed = a[..17].Concat(b[17..]).ToArray();

        Assert.False(_cursors.TryDecode("acme", System.Buffers.Text.Base64Url.EncodeToString(mixed), out _));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("ff.10")]
    [InlineData("not a cursor")]
    [InlineData("AQ")]
    public void TryDecode_OfGarbage_Fails(string? text)
    {
        Assert.False(_cursors.TryDecode("acme", text, out var position));
        Assert.Equal(default, position);
    }

    [Fact]
    public void TryDecode_OfAWrongLength_Fails()
    {
        var cursor = _cursors.Encode("acme", new EventCursor(7, 9));
        var bytes = System.Buffers.Text.Base64Url.DecodeFromChars(cursor);

        Assert.False(_cursors.TryDecode("acme", cursor[..^1], out _));
        Assert.False(_cursors.TryDecode("acme", cursor + "A", out _));
        Assert.False(_cursors.TryDecode("acme", System.Buffers.Text.Base64Url.EncodeToString([.. bytes, 0]), out _));
        Assert.False(_cursors.TryDecode("acme", System.Buffers.Text.Base64Url.EncodeToString(bytes.AsSpan(0, bytes.Length - 1)), out _));
    }

    [Fact]
    public void TryDecode_OfAnUnknownKeyVersion_Fails()
    {
        var bytes = System.Buffers.Text.Base64Url.DecodeFromChars(_cursors.Encode("acme", new EventCursor(7, 9)));
        bytes[0] = 2;

        Assert.False(_cursors.TryDecode("acme", System.Buffers.Text.Base64Url.EncodeToString(bytes), out _));
    }

    [Fact]
    public void TryDecode_UnderARing_ReadsCursorsOfAnOlderVersion()
    {
        var old = _cursors.Encode("acme", new EventCursor(7, 9));
        var ring = new EventCursors(new Dictionary<byte, byte[]> { [EventCursors.SingleKeyVersion] = Key, [2] = new byte[32] }, current: 2);

        Assert.True(ring.TryDecode("acme", old, out var position));
        Assert.Equal(new EventCursor(7, 9), position);
        Assert.NotEqual(old, ring.Encode("acme", position));
    }

    [Fact]
    public void Position_OfAnEvent_IsItsTransactionAndSequence()
    {
        var e = new IssuerEvent { TenantId = "acme", Type = EventTypes.OfferCreated, OccurredAt = default, Detail = "{}", TransactionId = 7, Sequence = 9 };

        Assert.Equal(new EventCursor(7, 9), e.Position);
    }

    [Fact]
    public void Create_SerializesTheDetailWithoutNulls()
    {
        var e = IssuerEvent.Create("acme", EventTypes.ProfileCreated, default, new { ProfileId = "employee", Note = (string?)null });

        Assert.Equal("""{"profileId":"employee"}""", e.Detail);
    }
}
