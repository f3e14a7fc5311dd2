using Issuer2.Core.Nonces;
using Issuer2.Core.Security;

namespace Issuer2.Server.Hosting;

/// <summary>The "Issuer2:Keys" section: how the key ring is used (the keys themselves are under Issuer2:KeyEncryptionKeys).</summary>
public sealed class KeyRingOptions
{
    /// <summary>
    /// The version new secrets are made under; unset means the newest in the ring. Set it to the old version while a
    /// new one is rolled out to several hosts, so that no host writes what another cannot read yet.
    /// </summary>
    public int? CurrentVersion { get; set; }

    /// <summary>How long one nonce key is current (c_nonce, DPoP-Nonce). At least the longest nonce lifetime (5 minutes).</summary>
    public TimeSpan NonceEpoch { get; set; } = NonceKeys.DefaultEpoch;

    /// <summary>Refuses an epoch shorter than a nonce lives, naming the option.</summary>
    public void Check()
    {
        if (NonceKeys.Problem(NonceEpoch, SealedNonces.LongestLifetime) is { } problem)
            throw new InvalidOperationException($"Issuer2:Keys:NonceEpoch: {problem}");
    }
}
