using Issuer2.Core.Sessions;
using Issuer2.Core.Tests.Fakes;
using Issuer2.Core.Tokens;

namespace Issuer2.Core.Tests.Sessions;

/// <summary>How long a session and its issued-credential records are kept.</summary>
public sealed class SessionRetentionTests
{
    private static readonly DateTimeOffset Created = TestBed.Start;

    private static readonly SessionRetention NinetyDays = SessionRetention.Default;

    private static IssuanceSession Session() => new()
    {
        Id = "s1", TenantId = "t", OfferId = "o1", ConfigurationId = "c", ProfileUid = Guid.NewGuid(), ProfileVersion = 1, CreatedAt = Created,
    };

    private static IssuedCredential Credential(DateTimeOffset expiresAt) => new()
    {
        Id = Guid.NewGuid().ToString("N"), TenantId = "t", SessionId = "s1", ConfigurationId = "c", Format = "dc+sd-jwt",
        HolderKeyThumbprint = "x", IssuedAt = Created.AddMinutes(1), ExpiresAt = expiresAt, NotificationId = "n",
    };

    [Fact]
    public void Default_IsNinetyDays()
    {
        Assert.Equal(TimeSpan.FromDays(90), SessionRetention.Default.Period);
    }

    [Fact]
    public void SessionWithoutCredential_IsKeptNinetyDaysAfterItsTokenExpired()
    {
        var end = Created + AccessTokens.Lifetime;

        Assert.Equal(end, SessionRetention.EndOf(Session(), []));
        Assert.False(NinetyDays.IsPastRetention(Session(), [], end + TimeSpan.FromDays(90) - TimeSpan.FromSeconds(1)));
        Assert.True(NinetyDays.IsPastRetention(Session(), [], end + TimeSpan.FromDays(90)));
    }

    [Fact]
    public void SessionWithCredentials_IsKeptUntilTheLastCredentialExpired_ThenNinetyDays()
    {
        var year = Created.AddYears(1);
        var credentials = new[] { Credential(Created.AddDays(30)), Credential(year) };

        Assert.Equal(year, SessionRetention.EndOf(Session(), credentials));
        Assert.False(NinetyDays.IsPastRetention(Session(), credentials, year.AddDays(89)));
        Assert.True(NinetyDays.IsPastRetention(Session(), credentials, year.AddDays(90)));
    }

    [Fact]
    public void CreatedCutoff_SelectsExactlyTheSessionsWhoseTokenEndedBeforeTheCutoff()
    {
        var now = Created.AddDays(200);

        Assert.Equal(NinetyDays.Cutoff(now), NinetyDays.CreatedCutoff(now) + AccessTokens.Lifetime);
    }
}
