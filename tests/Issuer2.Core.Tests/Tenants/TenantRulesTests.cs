using Issuer2.Core.Common;
using Issuer2.Core.Tenants;
using Issuer2.Core.Tests.Fakes;

namespace Issuer2.Core.Tests.Tenants;

public sealed class TenantRulesTests
{
    private static IReadOnlyList<FieldViolation> CheckId(string? id)
    {
        var v = new Violations();
        TenantRules.CheckId(v, "tenant.tenant_id", id);
        return v.Items;
    }

    private static IReadOnlyList<FieldViolation> Check(Action<Tenant> configure)
    {
        var tenant = new TestBed().SeedTenant(configure: configure);
        var v = new Violations();
        TenantRules.Check(v, "tenant.", tenant);
        return v.Items;
    }

    [Theory]
    [InlineData("acme")]
    [InlineData("abc")]
    [InlineData("a1b")]
    [InlineData("acme-corp")]
    [InlineData("acme--corp")]
    [InlineData("x2024")]
    [InlineData("healthy")]
    [InlineData("my-admin")]
    public void CheckId_AcceptsValidIds(string id)
    {
        var violations = CheckId(id);

        Assert.Empty(violations);
    }

    [Fact]
    public void CheckId_AcceptsThe63CharacterMaximum()
    {
        var violations = CheckId("a" + new string('b', 62));

        Assert.Empty(violations);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("a")]
    [InlineData("ab")]
    [InlineData("Acme")]
    [InlineData("acMe")]
    [InlineData("1acme")]
    [InlineData("-acme")]
    [InlineData("acme-")]
    [InlineData("ac_me")]
    [InlineData("ac.me")]
    [InlineData("ac me")]
    [InlineData("acmé")]
    [InlineData(".well-known")]
    [InlineData("acme/x")]
    [InlineData("acme\n")]
    public void CheckId_RefusesMalformedIds(string? id)
    {
        var violations = CheckId(id);

        var violation = Assert.Single(violations);
        Assert.Equal("tenant.tenant_id", violation.Field);
    }

    [Fact]
    public void CheckId_RefusesIdsLongerThan63Characters()
    {
        var violations = CheckId("a" + new string('b', 63));

        Assert.Equal("tenant.tenant_id", Assert.Single(violations).Field);
    }

    [Theory]
    [InlineData("health")]
    [InlineData("healthz")]
    [InlineData("ready")]
    [InlineData("metrics")]
    [InlineData("console")]
    [InlineData("admin")]
    [InlineData("api")]
    [InlineData("grpc")]
    [InlineData("static")]
    [InlineData("assets")]
    [InlineData("docs")]
    [InlineData("tenants")]
    [InlineData("oauth")]
    [InlineData("oauth2")]
    [InlineData("login")]
    [InlineData("logout")]
    [InlineData("callback")]
    [InlineData("status")]
    [InlineData("version")]
    [InlineData("www")]
    [InlineData("issuer2")]
    public void CheckId_RefusesReservedRouteWords(string id)
    {
        var violations = CheckId(id);

        var violation = Assert.Single(violations);
        Assert.Equal("tenant.tenant_id", violation.Field);
        Assert.Contains("reserved", violation.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_AcceptsTheDefaults()
    {
        var violations = Check(_ => { });

        Assert.Empty(violations);
    }

    [Fact]
    public void Check_AcceptsTheBounds()
    {
        var violations = Check(t =>
        {
            t.MaxOfferLifetime = TimeSpan.FromDays(365);
            t.DefaultOfferLifetime = TimeSpan.FromDays(365);
            t.PreAuthorizedCodeLifetime = TimeSpan.FromSeconds(30);
            t.PinAttemptLimit = 100;
        });

        Assert.Empty(violations);
    }

    [Fact]
    public void Check_RefusesDefaultLifetimeAboveMax()
    {
        var violations = Check(t =>
        {
            t.MaxOfferLifetime = TimeSpan.FromDays(7);
            t.DefaultOfferLifetime = TimeSpan.FromDays(8);
        });

        Assert.Equal("tenant.default_offer_lifetime", Assert.Single(violations).Field);
    }

    [Fact]
    public void Check_RefusesMaxLifetimeAbove365Days()
    {
        var violations = Check(t => t.MaxOfferLifetime = TimeSpan.FromDays(366));

        Assert.Equal("tenant.max_offer_lifetime", Assert.Single(violations).Field);
    }

    [Fact]
    public void Check_RefusesZeroDefaultLifetime()
    {
        var violations = Check(t => t.DefaultOfferLifetime = TimeSpan.Zero);

        Assert.Equal("tenant.default_offer_lifetime", Assert.Single(violations).Field);
    }

    [Theory]
    [InlineData(29)]
    [InlineData(0)]
    [InlineData(3601)]
    [InlineData(86400)]
    public void Check_RefusesCodeLifetimeOutside30SecondsTo1Hour(int seconds)
    {
        var violations = Check(t => t.PreAuthorizedCodeLifetime = TimeSpan.FromSeconds(seconds));

        Assert.Equal("tenant.pre_authorized_code_lifetime", Assert.Single(violations).Field);
    }

    [Fact]
    public void Check_AcceptsCodeLifetimeOf1Hour()
    {
        var violations = Check(t => t.PreAuthorizedCodeLifetime = TimeSpan.FromHours(1));

        Assert.Empty(violations);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(101)]
    public void Check_RefusesPinAttemptLimitOutside1To100(int limit)
    {
        var violations = Check(t => t.PinAttemptLimit = limit);

        Assert.Equal("tenant.pin_attempt_limit", Assert.Single(violations).Field);
    }

    [Fact]
    public void Check_RefusesNoAllowedMethod()
    {
        var violations = Check(t =>
        {
            t.AllowPreAuthorized = false;
            t.AllowAuthorized = false;
        });

        Assert.Equal("tenant.allowed_authentication_methods", Assert.Single(violations).Field);
    }

    [Fact]
    public void Check_RefusesTwoDisplaysOfOneLocale()
    {
        var violations = Check(t => t.Display = [new IssuerDisplay("en", "Acme", null), new IssuerDisplay("EN", "Acme 2", null)]);

        Assert.Equal("tenant.display[1].locale", Assert.Single(violations).Field);
    }

    [Fact]
    public void Check_RefusesHttpLogo()
    {
        var violations = Check(t => t.Display = [new IssuerDisplay("en", "Acme", new Logo("http://acme.example/logo.png", null))]);

        Assert.Equal("tenant.display[0].logo.uri", Assert.Single(violations).Field);
    }

    [Fact]
    public void Check_NamesEveryBadField()
    {
        var violations = Check(t =>
        {
            t.PreAuthorizedCodeLifetime = TimeSpan.FromSeconds(1);
            t.PinAttemptLimit = 0;
        });
        var fields = violations.Select(x => x.Field).Order(StringComparer.Ordinal).ToArray();

        Assert.Equal(["tenant.pin_attempt_limit", "tenant.pre_authorized_code_lifetime"], fields);
    }

    [Fact]
    public void Apply_ChangesOnlyTheGivenSettings()
    {
        var tenant = new TestBed().SeedTenant();

        TenantRules.Apply(tenant, new TenantSettings(RequirePin: true, AllowedMethods: [AuthenticationMethod.Authorized]));

        Assert.True(tenant.RequirePin);
        Assert.True(tenant.AllowAuthorized);
        Assert.False(tenant.AllowPreAuthorized);
        Assert.Equal(TenantRules.DefaultOfferLifetime, tenant.DefaultOfferLifetime);
        Assert.Equal(TenantRules.DefaultCodeLifetime, tenant.PreAuthorizedCodeLifetime);
        Assert.Equal(TenantRules.DefaultPinAttemptLimit, tenant.PinAttemptLimit);
    }
}
