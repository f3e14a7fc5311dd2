using Issuer2.Core.Claims;
using Issuer2.Core.Tests.Fakes;

namespace Issuer2.Core.Tests.Claims;

public sealed class ClaimPathsTests
{
    [Theory]
    [InlineData("\"Erika\"", ClaimValueType.String)]
    [InlineData("\"\"", ClaimValueType.String)]
    [InlineData("42", ClaimValueType.Integer)]
    [InlineData("-7", ClaimValueType.Integer)]
    [InlineData("0", ClaimValueType.Integer)]
    [InlineData("9007199254740991", ClaimValueType.Integer)]
    [InlineData("1.5", ClaimValueType.Number)]
    [InlineData("42", ClaimValueType.Number)]
    [InlineData("true", ClaimValueType.Boolean)]
    [InlineData("false", ClaimValueType.Boolean)]
    [InlineData("\"1964-08-12\"", ClaimValueType.Date)]
    [InlineData("\"2024-02-29\"", ClaimValueType.Date)]
    [InlineData("\"2026-01-31T12:00:00Z\"", ClaimValueType.DateTime)]
    [InlineData("\"2026-01-31T12:00:00.123Z\"", ClaimValueType.DateTime)]
    [InlineData("\"2026-01-31T12:00:00+01:00\"", ClaimValueType.DateTime)]
    [InlineData("\"2026-01-31T12:00:00-05:30\"", ClaimValueType.DateTime)]
    [InlineData("{\"street\":\"Main\"}", ClaimValueType.Object)]
    [InlineData("{}", ClaimValueType.Object)]
    [InlineData("[\"a\",1]", ClaimValueType.Array)]
    [InlineData("[]", ClaimValueType.Array)]
    public void TypeMismatch_AcceptsValuesOfTheType(string json, ClaimValueType type)
    {
        var mismatch = ClaimPaths.TypeMismatch(TestBed.Json(json), type);

        Assert.Null(mismatch);
    }

    [Theory]
    [InlineData("42", ClaimValueType.String)]
    [InlineData("true", ClaimValueType.String)]
    [InlineData("null", ClaimValueType.String)]
    [InlineData("1.5", ClaimValueType.Integer)]
    [InlineData("\"42\"", ClaimValueType.Integer)]
    [InlineData("1e300", ClaimValueType.Integer)]
    [InlineData("9007199254740993", ClaimValueType.Integer)]
    [InlineData("\"1.5\"", ClaimValueType.Number)]
    [InlineData("\"true\"", ClaimValueType.Boolean)]
    [InlineData("1", ClaimValueType.Boolean)]
    [InlineData("\"2024-02-30\"", ClaimValueType.Date)]
    [InlineData("\"2023-02-29\"", ClaimValueType.Date)]
    [InlineData("\"2024-13-01\"", ClaimValueType.Date)]
    [InlineData("\"12.08.1964\"", ClaimValueType.Date)]
    [InlineData("\"1964-8-12\"", ClaimValueType.Date)]
    [InlineData("\"1964-08-12T00:00:00Z\"", ClaimValueType.Date)]
    [InlineData("19640812", ClaimValueType.Date)]
    [InlineData("\"2026-01-31T12:00:00\"", ClaimValueType.DateTime)]
    [InlineData("\"2026-01-31T12:00:00.000\"", ClaimValueType.DateTime)]
    [InlineData("\"2026-01-31\"", ClaimValueType.DateTime)]
    [InlineData("\"2026-02-30T12:00:00Z\"", ClaimValueType.DateTime)]
    [InlineData("\"2026-01-31T12:00+01:00\"", ClaimValueType.DateTime)]
    [InlineData("\"31 Jan 2026 12:00:00 +01:00\"", ClaimValueType.DateTime)]
    [InlineData("1769860800", ClaimValueType.DateTime)]
    [InlineData("[]", ClaimValueType.Object)]
    [InlineData("\"{}\"", ClaimValueType.Object)]
    [InlineData("{}", ClaimValueType.Array)]
    [InlineData("\"[]\"", ClaimValueType.Array)]
    public void TypeMismatch_RefusesValuesOfAnotherType(string json, ClaimValueType type)
    {
        var mismatch = ClaimPaths.TypeMismatch(TestBed.Json(json), type);

        Assert.NotNull(mismatch);
    }

    [Fact]
    public void IsPrefix_IsTrueOnlyForAStrictPrefix()
    {
        Assert.True(ClaimPaths.IsPrefix(["address"], ["address", "street"]));
        Assert.False(ClaimPaths.IsPrefix(["address"], ["address"]));
        Assert.False(ClaimPaths.IsPrefix(["address", "street"], ["address"]));
        Assert.False(ClaimPaths.IsPrefix(["addr"], ["address", "street"]));
    }

    [Fact]
    public void SamePath_IsCaseSensitive()
    {
        Assert.True(ClaimPaths.SamePath(["address", "street"], ["address", "street"]));
        Assert.False(ClaimPaths.SamePath(["Address"], ["address"]));
    }
}
