using System.Buffers.Text;
using System.Text;
using Issuer2.Core.Common;

namespace Issuer2.Core.Tests.Common;

public sealed class PageTokensTests
{
    [Fact]
    public void Decode_OfEncodedToken_ReturnsThePosition()
    {
        var token = PageTokens.Encode("offers/acme//", "638000000000000000 abc");

        var position = PageTokens.Decode(token, "offers/acme//");

        Assert.Equal("638000000000000000 abc", position.Value);
    }

    [Fact]
    public void Encode_IsUrlSafe()
    {
        var token = PageTokens.Encode("profiles/acme", "ÿÿÿ>>>???");

        Assert.Matches(@"\A[A-Za-z0-9_-]+\z", token);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void Decode_OfNoToken_IsTheFirstPage(string? token)
    {
        var position = PageTokens.Decode(token, "profiles/acme");

        Assert.True(position.IsSuccess);
        Assert.Null(position.Value);
    }

    [Theory]
    [InlineData("profiles/globex")]
    [InlineData("offers/acme/Active/")]
    [InlineData("profiles/acme/")]
    public void Decode_OfTokenFromAnotherList_IsInvalidOnPageToken(string otherScope)
    {
        var token = PageTokens.Encode(otherScope, "employee");

        var position = PageTokens.Decode(token, "profiles/acme");

        Assert.Equal("page_token", Assert.Single(position.Error!.Violations).Field);
    }

    [Theory]
    [InlineData("not a token")]
    [InlineData("!!!!")]
    [InlineData("eyJ")]
    [InlineData("bnVsbA")]
    [InlineData("WzFd")]
    [InlineData("e30")]
    public void Decode_OfGarbage_IsInvalidOnPageToken(string token)
    {
        var position = PageTokens.Decode(token, "profiles/acme");

        Assert.Equal(ErrorReasons.InvalidArgument, position.Error?.Reason);
        Assert.Equal("page_token", Assert.Single(position.Error!.Violations).Field);
    }

    [Fact]
    public void Decode_OfTokenWithEmptyPosition_IsInvalid()
    {
        var token = Base64Url.EncodeToString(Encoding.UTF8.GetBytes("""{"s":"profiles/acme","p":""}"""));

        var position = PageTokens.Decode(token, "profiles/acme");

        Assert.False(position.IsSuccess);
    }

    [Fact]
    public void Decode_NamesTheGivenField()
    {
        var position = PageTokens.Decode("!!!!", "profiles/acme", "list.page_token");

        Assert.Equal("list.page_token", Assert.Single(position.Error!.Violations).Field);
    }

    [Theory]
    [InlineData(0, 50)]
    [InlineData(1, 1)]
    [InlineData(50, 50)]
    [InlineData(200, 200)]
    [InlineData(201, 200)]
    [InlineData(1000, 200)]
    [InlineData(int.MaxValue, 200)]
    public void PageSize_DefaultsAndCoerces(int requested, int expected)
    {
        var size = PageSizes.Of(ListKind.Offers, requested);

        Assert.Equal(expected, size.Value);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    public void PageSize_Negative_IsInvalidOnPageSize(int requested)
    {
        var size = PageSizes.Of(ListKind.Offers, requested);

        Assert.Equal("page_size", Assert.Single(size.Error!.Violations).Field);
    }

    [Theory]
    [InlineData(ListKind.Tenants, 200)]
    [InlineData(ListKind.ApiKeys, 200)]
    [InlineData(ListKind.Profiles, 200)]
    [InlineData(ListKind.Offers, 200)]
    [InlineData(ListKind.OfferSessions, 200)]
    [InlineData(ListKind.Events, 500)]
    public void PageSize_OfEveryList_DefaultsTo50AndIsCoercedToItsMaximum(ListKind list, int max)
    {
        Assert.Equal(50, PageSizes.Of(list, 0).Value);
        Assert.Equal(max, PageSizes.Of(list, max).Value);
        Assert.Equal(max, PageSizes.Of(list, max + 1).Value);
    }
}
