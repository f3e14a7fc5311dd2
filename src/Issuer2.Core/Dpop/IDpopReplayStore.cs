namespace Issuer2.Core.Dpop;

/// <summary>The DPoP proofs seen (RFC 9449 §11.1): each jti once, on every host, within the proof's window.</summary>
public interface IDpopReplayStore
{
    /// <summary>
    /// Records a proof's jti (hashed with the key thumbprint, so two keys' jtis never collide) until expiresAt; false
    /// when it was already recorded (on any host: a unique key).
    /// </summary>
    Task<bool> TryRecordAsync(byte[] jtiKey, DateTimeOffset expiresAt, CancellationToken ct);
}
