using Issuer2.Core.Claims;
using Issuer2.Core.Common;
using Issuer2.Core.Credentials;
using Issuer2.Core.Profiles;
using Issuer2.Core.Tenants;
using Issuer2.Core.Tests.Fakes;

namespace Issuer2.Core.Tests.Profiles;

public sealed class ProfileRulesTests
{
    private static ProfileDefinition Definition(
        IReadOnlyList<ClaimDefinition>? claims = null,
        IReadOnlyList<ClaimValue>? defaults = null,
        string scope = "employee",
        string vct = "https://credentials.example/employee",
        TimeSpan? validity = null) =>
        new(scope, CredentialFormats.SdJwtVc, vct, [], claims ?? [TestBed.Claim("given_name")], defaults ?? [], validity ?? ProfileRules.DefaultValidity);

    private static IReadOnlyList<FieldViolation> Check(ProfileDefinition definition)
    {
        var v = new Violations();
        ProfileRules.Check(v, "profile.", definition, QuotaLimits.Default.ClaimValues);
        return v.Items;
    }

    private static ClaimDefinition PathClaim(params string[] path) => new(path, [], false, true, ClaimValueType.String);

    private static ClaimValue Value(string path, string json) => new(path.Split('.'), TestBed.Json(json));

    [Fact]
    public void Check_AcceptsAPlainProfile()
    {
        var violations = Check(Definition());

        Assert.Empty(violations);
    }

    [Theory]
    [InlineData("iss")]
    [InlineData("nbf")]
    [InlineData("exp")]
    [InlineData("iat")]
    [InlineData("cnf")]
    [InlineData("vct")]
    [InlineData("vct#integrity")]
    [InlineData("status")]
    [InlineData("jti")]
    [InlineData("aud")]
    [InlineData("_sd")]
    [InlineData("_sd_alg")]
    [InlineData("...")]
    public void Check_RefusesReservedTopLevelNames(string name)
    {
        var violations = Check(Definition(claims: [TestBed.Claim("given_name"), PathClaim(name)]));

        Assert.Equal("profile.claims[1].path", Assert.Single(violations).Field);
    }

    [Theory]
    [InlineData("iss")]
    [InlineData("status")]
    [InlineData("vct")]
    public void Check_AcceptsReservedTopLevelNamesInsideAnObject(string name)
    {
        var violations = Check(Definition(claims: [PathClaim("address", name)]));

        Assert.Empty(violations);
    }

    [Theory]
    [InlineData("_sd")]
    [InlineData("...")]
    public void Check_RefusesSdJwtNamesAtAnyDepth(string name)
    {
        var violations = Check(Definition(claims: [PathClaim("address", name)]));

        Assert.Equal("profile.claims[0].path", Assert.Single(violations).Field);
    }

    [Fact]
    public void Check_RefusesADuplicatePath()
    {
        var violations = Check(Definition(claims: [PathClaim("address", "street"), PathClaim("given_name"), PathClaim("address", "street")]));

        var violation = Assert.Single(violations);
        Assert.Equal("profile.claims[2].path", violation.Field);
        Assert.Contains("claims[0]", violation.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_RefusesAPathInsideAnotherDeclaredClaim()
    {
        var violations = Check(Definition(claims: [PathClaim("address"), PathClaim("address", "street")]));

        Assert.Equal("profile.claims[1].path", Assert.Single(violations).Field);
    }

    [Fact]
    public void Check_RefusesAPathThatContainsAnEarlierClaim()
    {
        var violations = Check(Definition(claims: [PathClaim("address", "street"), PathClaim("address")]));

        Assert.Equal("profile.claims[1].path", Assert.Single(violations).Field);
    }

    [Fact]
    public void Check_AcceptsSiblingPaths()
    {
        var violations = Check(Definition(claims: [PathClaim("address", "street"), PathClaim("address", "locality"), PathClaim("addresses")]));

        Assert.Empty(violations);
    }

    [Fact]
    public void Check_RefusesAnEmptyPath()
    {
        var violations = Check(Definition(claims: [PathClaim()]));

        Assert.Equal("profile.claims[0].path", Assert.Single(violations).Field);
    }

    [Fact]
    public void Check_RefusesAPathDeeperThan8()
    {
        var violations = Check(Definition(claims: [PathClaim("a", "b", "c", "d", "e", "f", "g", "h", "i")]));

        Assert.Equal("profile.claims[0].path", Assert.Single(violations).Field);
    }

    [Fact]
    public void Check_RefusesAnEmptyOrOverlongSegment()
    {
        var violations = Check(Definition(claims: [PathClaim("address", ""), PathClaim(new string('a', 101))]));
        var fields = violations.Select(v => v.Field).ToArray();

        Assert.Equal(["profile.claims[0].path", "profile.claims[1].path"], fields);
    }

    [Fact]
    public void Check_RefusesMoreThan100Claims()
    {
        var claims = Enumerable.Range(0, 101).Select(i => PathClaim($"claim{i}")).ToList();

        var violations = Check(Definition(claims: claims));

        Assert.Equal("profile.claims", Assert.Single(violations).Field);
    }

    [Theory]
    [InlineData(ClaimValueType.String, "42")]
    [InlineData(ClaimValueType.Integer, "1.5")]
    [InlineData(ClaimValueType.Integer, "\"3\"")]
    [InlineData(ClaimValueType.Number, "\"3.5\"")]
    [InlineData(ClaimValueType.Boolean, "\"yes\"")]
    [InlineData(ClaimValueType.Date, "\"2024-02-30\"")]
    [InlineData(ClaimValueType.DateTime, "\"2026-01-31T12:00:00\"")]
    [InlineData(ClaimValueType.Object, "[]")]
    [InlineData(ClaimValueType.Array, "{}")]
    [InlineData(ClaimValueType.String, "null")]
    public void Check_RefusesADefaultValueOfTheWrongType(ClaimValueType type, string json)
    {
        var definition = Definition(claims: [TestBed.Claim("x", type)], defaults: [Value("x", json)]);

        var violations = Check(definition);

        Assert.Equal("profile.default_values[0].value", Assert.Single(violations).Field);
    }

    [Theory]
    [InlineData(ClaimValueType.String, "\"Erika\"")]
    [InlineData(ClaimValueType.Integer, "3")]
    [InlineData(ClaimValueType.Number, "3.5")]
    [InlineData(ClaimValueType.Boolean, "false")]
    [InlineData(ClaimValueType.Date, "\"2024-02-29\"")]
    [InlineData(ClaimValueType.DateTime, "\"2026-01-31T12:00:00Z\"")]
    [InlineData(ClaimValueType.Object, "{\"a\":1}")]
    [InlineData(ClaimValueType.Array, "[1,2]")]
    public void Check_AcceptsADefaultValueOfTheType(ClaimValueType type, string json)
    {
        var definition = Definition(claims: [TestBed.Claim("x", type)], defaults: [Value("x", json)]);

        var violations = Check(definition);

        Assert.Empty(violations);
    }

    [Fact]
    public void Check_RefusesADefaultValueWithoutAJsonValue()
    {
        var definition = Definition(defaults: [new ClaimValue(["given_name"], default)]);

        var violations = Check(definition);

        Assert.Equal("profile.default_values[0].value", Assert.Single(violations).Field);
    }

    [Fact]
    public void Check_RefusesADefaultValueForAnUndeclaredPath()
    {
        var definition = Definition(defaults: [Value("family_name", "\"Mustermann\"")]);

        var violations = Check(definition);

        Assert.Equal("profile.default_values[0].path", Assert.Single(violations).Field);
    }

    [Fact]
    public void Check_RefusesADefaultValueInsideADeclaredClaim()
    {
        var definition = Definition(claims: [TestBed.Claim("address", ClaimValueType.Object)], defaults: [Value("address.street", "\"Main\"")]);

        var violations = Check(definition);

        Assert.Equal("profile.default_values[0].path", Assert.Single(violations).Field);
    }

    [Fact]
    public void Check_RefusesTwoDefaultValuesForOnePath()
    {
        var definition = Definition(defaults: [Value("given_name", "\"Erika\""), Value("given_name", "\"Max\"")]);

        var violations = Check(definition);

        Assert.Equal("profile.default_values[1].path", Assert.Single(violations).Field);
    }

    [Theory]
    [InlineData("employee badge")]
    [InlineData("")]
    [InlineData("quote\"d")]
    [InlineData("back\\slash")]
    [InlineData("tab\tbed")]
    [InlineData("employé")]
    [InlineData("employee\n")]
    public void Check_RefusesAScopeThatIsNotAnOAuthScopeToken(string scope)
    {
        var violations = Check(Definition(scope: scope));

        Assert.Equal("profile.scope", Assert.Single(violations).Field);
    }

    [Fact]
    public void Check_RefusesAScopeLongerThan128()
    {
        var violations = Check(Definition(scope: new string('s', 129)));

        Assert.Equal("profile.scope", Assert.Single(violations).Field);
    }

    [Theory]
    [InlineData("openid:employee")]
    [InlineData("https://scopes.example/employee#v1")]
    [InlineData("a")]
    public void Check_AcceptsOAuthScopeTokens(string scope)
    {
        var violations = Check(Definition(scope: scope));

        Assert.Empty(violations);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void Check_RefusesAMissingVct(string vct)
    {
        var violations = Check(Definition(vct: vct));

        Assert.Equal("profile.vct", Assert.Single(violations).Field);
    }

    [Fact]
    public void Check_RefusesAVctLongerThan2048()
    {
        var violations = Check(Definition(vct: new string('v', 2049)));

        Assert.Equal("profile.vct", Assert.Single(violations).Field);
    }

    [Theory]
    [InlineData(59)]
    [InlineData(0)]
    [InlineData(-60)]
    public void Check_RefusesValidityUnderOneMinute(int seconds)
    {
        var violations = Check(Definition(validity: TimeSpan.FromSeconds(seconds)));

        Assert.Equal("profile.credential_validity", Assert.Single(violations).Field);
    }

    [Fact]
    public void Check_RefusesValidityOverTenYears()
    {
        var violations = Check(Definition(validity: TimeSpan.FromDays(3654)));

        Assert.Equal("profile.credential_validity", Assert.Single(violations).Field);
    }

    [Theory]
    [InlineData(60)]
    [InlineData(315_619_200)]
    public void Check_AcceptsValidityAtTheBounds(int seconds)
    {
        var violations = Check(Definition(validity: TimeSpan.FromSeconds(seconds)));

        Assert.Empty(violations);
    }

    [Theory]
    [InlineData("employee")]
    [InlineData("Employee.v2_final-1")]
    [InlineData("a")]
    public void CheckId_AcceptsProfileIds(string id)
    {
        var v = new Violations();

        ProfileRules.CheckId(v, "profile.profile_id", id);

        Assert.Empty(v.Items);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("employee badge")]
    [InlineData("employee/badge")]
    [InlineData("employee\n")]
    public void CheckId_RefusesMalformedProfileIds(string? id)
    {
        var v = new Violations();

        ProfileRules.CheckId(v, "profile.profile_id", id);

        Assert.Equal("profile.profile_id", Assert.Single(v.Items).Field);
    }

    [Fact]
    public void CheckId_RefusesAProfileIdLongerThan64()
    {
        var v = new Violations();

        ProfileRules.CheckId(v, "profile.profile_id", new string('p', 65));

        Assert.Single(v.Items);
    }

    [Fact]
    public void MissingMandatory_NamesMandatoryClaimsWithNeitherDefaultNorOverride()
    {
        var definition = Definition(
            claims:
            [
                TestBed.Claim("given_name", mandatory: true),
                TestBed.Claim("family_name", mandatory: true),
                TestBed.Claim("employee_id", mandatory: true),
                TestBed.Claim("nickname"),
            ],
            defaults: [Value("family_name", "\"Mustermann\"")]);

        var missing = ProfileRules.MissingMandatory(definition, [Value("employee_id", "\"E-1\"")], AuthenticationMethod.PreAuthorized).Select(c => ClaimPaths.Format(c.Path)).ToArray();

        Assert.Equal(["given_name"], missing);
    }

    [Fact]
    public void MissingMandatory_IsEmptyWhenAllAreSupplied()
    {
        var definition = Definition(claims: [TestBed.Claim("given_name", mandatory: true)]);

        var missing = ProfileRules.MissingMandatory(definition, [Value("given_name", "\"Erika\"")], AuthenticationMethod.PreAuthorized);

        Assert.Empty(missing);
    }

    // Claim mappings

    private static ProfileDefinition Mapped(params ClaimMapping[] mappings) =>
        Definition(claims: [TestBed.Claim("given_name"), TestBed.Claim("address.locality"), TestBed.Claim("email")]) with { ClaimMappings = mappings };

    [Fact]
    public void Check_AcceptsMappingsOfDeclaredClaimsFromEitherSource()
    {
        var violations = Check(Mapped(
            TestBed.Mapping("given_name", "given_name"),
            TestBed.Mapping("address.locality", "address.locality", ClaimSource.UserInfo),
            new ClaimMapping(["email"], ClaimSource.IdToken, ["a", "b", "c", "d", "e", "f", "g", new string('h', 128)])));

        Assert.Empty(violations);
    }

    [Theory]
    [InlineData("nickname")]
    [InlineData("address")]
    [InlineData("address.locality.extra")]
    public void Check_RefusesAMappingOfAnUndeclaredClaim(string path)
    {
        var violations = Check(Mapped(TestBed.Mapping(path, "sub")));

        Assert.Equal("profile.claim_mappings[0].path", Assert.Single(violations).Field);
    }

    [Fact]
    public void Check_RefusesAClaimMappedTwice()
    {
        var violations = Check(Mapped(TestBed.Mapping("email", "email"), TestBed.Mapping("email", "preferred_email", ClaimSource.UserInfo)));

        Assert.Equal("profile.claim_mappings[1].path", Assert.Single(violations).Field);
    }

    [Fact]
    public void Check_RefusesSourcePathsOfNoOrNineSegmentsOrOverlongOrEmptySegments()
    {
        var violations = Check(Mapped(
            new ClaimMapping(["given_name"], ClaimSource.IdToken, []),
            new ClaimMapping(["address", "locality"], ClaimSource.IdToken, ["a", "b", "c", "d", "e", "f", "g", "h", "i"]),
            new ClaimMapping(["email"], ClaimSource.UserInfo, [new string('e', 129)])));
        var empty = Check(Mapped(new ClaimMapping(["email"], ClaimSource.IdToken, ["address", ""])));

        Assert.Equal(["profile.claim_mappings[0].source_path", "profile.claim_mappings[1].source_path", "profile.claim_mappings[2].source_path"],
            violations.Select(v => v.Field));
        Assert.Equal("profile.claim_mappings[0].source_path", Assert.Single(empty).Field);
    }

    [Fact]
    public void Check_AcceptsSixtyFourMappingsAndRefusesMore()
    {
        var claims = Enumerable.Range(0, 65).Select(i => TestBed.Claim($"c{i}")).ToArray();
        var mappings = claims.Select(c => new ClaimMapping(c.Path, ClaimSource.IdToken, c.Path)).ToArray();

        Assert.Empty(Check(Definition(claims: claims) with { ClaimMappings = mappings[..64] }));
        Assert.Equal("profile.claim_mappings", Assert.Single(Check(Definition(claims: claims) with { ClaimMappings = mappings })).Field);
    }

    [Fact]
    public void Check_MappingsAreNotCheckedWhileTheClaimsAreUnsound()
    {
        var definition = Definition(claims: [PathClaim("iss")]) with { ClaimMappings = [TestBed.Mapping("nickname", "sub")] };

        var violations = Check(definition);

        Assert.Equal("profile.claims[0].path", Assert.Single(violations).Field);
    }

    [Fact]
    public void MissingMandatory_AMappedClaimCountsForTheAuthorizationCodeFlowOnly()
    {
        var definition = Definition(claims: [TestBed.Claim("email", mandatory: true), TestBed.Claim("given_name", mandatory: true)])
            with { ClaimMappings = [TestBed.Mapping("email", "email")] };

        var authorized = ProfileRules.MissingMandatory(definition, [], AuthenticationMethod.Authorized).Select(c => ClaimPaths.Format(c.Path));
        var preAuthorized = ProfileRules.MissingMandatory(definition, [], AuthenticationMethod.PreAuthorized).Select(c => ClaimPaths.Format(c.Path));

        Assert.Equal(["given_name"], authorized);
        Assert.Equal(["email", "given_name"], preAuthorized);
    }
}
