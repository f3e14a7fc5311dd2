using Issuer2.Core.Sessions;

namespace Issuer2.Server.Hosting;

/// <summary>
/// The "Issuer2:Retention" section: how long wallet traffic's lasting rows are kept (docs/security.md, "Caps per offer
/// and retention"). One-time rows (codes, tokens, nonces, …) go as soon as they expired; events follow
/// <c>Issuer2:Events:Retention</c>.
/// </summary>
public sealed class RetentionOptions
{
    /// <summary>
    /// How long an issuance session and its issued-credential records are kept after the last of its credentials
    /// expired, or after its access token expired when it issued none.
    /// </summary>
    public TimeSpan Sessions { get; set; } = SessionRetention.Default.Period;

    /// <summary>The Core policy these options state (a negative period counts as none).</summary>
    public SessionRetention ToSessionRetention() => new(Sessions < TimeSpan.Zero ? TimeSpan.Zero : Sessions);
}
