using Issuer2.Core.Tokens;

namespace Issuer2.Core.Sessions;

/// <summary>
/// How long an issuance session and its issued-credential records are kept: at least until every credential of the
/// session has expired (status lists will need them), then <see cref="Period"/> longer; a session that ended without a
/// credential (its access token expired) is kept <see cref="Period"/> after that end.
/// </summary>
/// <param name="Period">How long past its end a session is kept.</param>
public sealed record SessionRetention(TimeSpan Period)
{
    /// <summary>The production default: 90 days past the end.</summary>
    public static readonly SessionRetention Default = new(TimeSpan.FromDays(90));

    /// <summary>
    /// When a session ends: the latest expiry of its credentials, and never before its access token could still be used
    /// (a session without credentials ends when its token expires).
    /// </summary>
    public static DateTimeOffset EndOf(IssuanceSession session, IEnumerable<IssuedCredential> credentials)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(credentials);
        var end = TokenEnd(session);
        foreach (var c in credentials)
        {
            if (c.ExpiresAt > end) end = c.ExpiresAt;
        }
        return end;
    }

    /// <summary>When the session's access token, minted with it, has expired.</summary>
    public static DateTimeOffset TokenEnd(IssuanceSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        return session.CreatedAt + AccessTokens.Lifetime;
    }

    /// <summary>
    /// A session (and its credential records) whose end is at or before this instant is past retention at
    /// <paramref name="now"/>: both the storage purge and <see cref="IsPastRetention"/> compare against it.
    /// </summary>
    public DateTimeOffset Cutoff(DateTimeOffset now) => now - Period;

    /// <summary>
    /// Sessions created at or before this instant have a token end at or before <see cref="Cutoff"/>: the purge's
    /// first filter, before it looks at their credentials.
    /// </summary>
    public DateTimeOffset CreatedCutoff(DateTimeOffset now) => Cutoff(now) - AccessTokens.Lifetime;

    /// <summary>Whether the session may be removed at <paramref name="now"/>.</summary>
    public bool IsPastRetention(IssuanceSession session, IEnumerable<IssuedCredential> credentials, DateTimeOffset now) =>
        EndOf(session, credentials) <= Cutoff(now);
}
