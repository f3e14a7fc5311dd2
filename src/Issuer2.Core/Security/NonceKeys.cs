using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using Issuer2.Core.Common;

namespace Issuer2.Core.Security;

/// <summary>
/// The keys of anonymous nonces (c_nonce, DPoP-Nonce), which anyone may have minted without limit: their own purpose,
/// and a fresh key every epoch. The key of epoch <c>e</c> under ring version <c>v</c> is HKDF of version <c>v</c>'s
/// KEK with info <c>issuer2/v1/nonces/epoch/{e}</c>, where <c>e</c> counts whole epochs since 1970-01-01 UTC: stateless,
/// so every host with the same ring and clock agrees. Nonces are minted under the current epoch and the ring's current
/// version, and open under the previous, current or next epoch (the next only absorbs clock skew between hosts) and
/// any version in the ring; an epoch is at least as long as any nonce lives, so no live nonce outlives its key.
/// </summary>
/// <remarks>
/// Format: the byte 2, the ring version (2 bytes, big-endian), the epoch's low 16 bits (2 bytes), the 12-byte GCM
/// nonce, the 16-byte tag, the ciphertext. Nonces of the release before (one shared key) do not open: they lived five
/// minutes, and a wallet that presents one gets <c>invalid_nonce</c> or <c>use_dpop_nonce</c> with a fresh nonce.
/// </remarks>
public sealed class NonceKeys
{
    /// <summary>The production epoch length: a day.</summary>
    public static readonly TimeSpan DefaultEpoch = TimeSpan.FromDays(1);

    private readonly KeyRing _ring;
    private readonly TimeProvider _clock;
    private readonly long _epochTicks;
    private volatile EpochKeys? _keys;

    /// <summary>Keys of <paramref name="ring"/> per epoch of <paramref name="epoch"/>, which must be at least <paramref name="longestNonceLifetime"/>.</summary>
    public NonceKeys(KeyRing ring, TimeProvider clock, TimeSpan epoch, TimeSpan longestNonceLifetime)
    {
        ArgumentNullException.ThrowIfNull(ring);
        if (Problem(epoch, longestNonceLifetime) is { } problem) throw new ArgumentOutOfRangeException(nameof(epoch), problem);
        _ring = ring;
        _clock = clock;
        _epochTicks = epoch.Ticks;
    }

    /// <summary>Why <paramref name="epoch"/> cannot be the epoch length, or null: it must outlast every nonce (the overlap of one epoch must cover a nonce's life).</summary>
    public static string? Problem(TimeSpan epoch, TimeSpan longestNonceLifetime) =>
        epoch >= longestNonceLifetime && epoch <= TimeSpan.FromDays(3650)
            ? null
            : string.Create(CultureInfo.InvariantCulture, $"The nonce key epoch must be from {longestNonceLifetime} (the longest nonce lifetime) to 3650 days; {epoch} is not.");

    /// <summary>The epoch <paramref name="at"/> falls in.</summary>
    public long EpochAt(DateTimeOffset at) => Math.DivRem(at.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks, _epochTicks, out var rest) - (rest < 0 ? 1 : 0);

    /// <summary>Encrypts a nonce's payload under the current epoch and version, bound to <paramref name="context"/>.</summary>
    public byte[] Seal(ReadOnlySpan<byte> payload, string context)
    {
        var keys = Current();
        var version = _ring.CurrentVersion;
        var output = new byte[SecretProtector.HeaderSize + SecretProtector.NonceSize + SecretProtector.TagSize + payload.Length];
        output[0] = SecretProtector.Format;
        BinaryPrimitives.WriteUInt16BigEndian(output.AsSpan(1, 2), (ushort)version);
        BinaryPrimitives.WriteUInt16BigEndian(output.AsSpan(3, 2), unchecked((ushort)keys.Epoch));
        SecretProtector.Seal(keys.For(version, keys.Epoch), payload, context, output);
        return output;
    }

    /// <summary>The payload of a nonce sealed for <paramref name="context"/> in the previous, current or next epoch; null otherwise.</summary>
    public byte[]? Open(ReadOnlySpan<byte> sealedNonce, string context)
    {
        if (sealedNonce.Length < SecretProtector.HeaderSize + SecretProtector.NonceSize + SecretProtector.TagSize || sealedNonce[0] != SecretProtector.Format) return null;
        var version = BinaryPrimitives.ReadUInt16BigEndian(sealedNonce.Slice(1, 2));
        var low = BinaryPrimitives.ReadUInt16BigEndian(sealedNonce.Slice(3, 2));
        var keys = Current();
        foreach (var epoch in (ReadOnlySpan<long>)[keys.Epoch, keys.Epoch - 1, keys.Epoch + 1])
        {
            if (unchecked((ushort)epoch) != low) continue;
            if (!_ring.Has(version)) return null;
            try
            {
                return SecretProtector.Open(keys.For(version, epoch), sealedNonce, context);
            }
            catch (CryptographicException)
            {
                return null;
            }
        }
        return null;
    }

    private EpochKeys Current()
    {
        var epoch = EpochAt(_clock.UtcNow());
        var keys = _keys;
        if (keys is not null && keys.Epoch == epoch) return keys;
        // A new epoch: derive the keys of its neighbourhood once (a few HKDFs a day), then share them.
        keys = new EpochKeys(epoch, _ring);
        _keys = keys;
        return keys;
    }

    /// <summary>The keys of one epoch and its two neighbours, for every version of the ring.</summary>
    private sealed class EpochKeys
    {
        private readonly Dictionary<(int Version, long Epoch), byte[]> _keys = [];

        public EpochKeys(long epoch, KeyRing ring)
        {
            Epoch = epoch;
            foreach (var version in ring.Versions)
                for (var e = epoch - 1; e <= epoch + 1; e++)
                    _keys[(version, e)] = ring.Derive(version, string.Create(CultureInfo.InvariantCulture, $"{KeyRing.InfoOf(KeyPurpose.Nonces)}/epoch/{e}"));
        }

        public long Epoch { get; }

        public byte[] For(int version, long epoch) => _keys[(version, epoch)];
    }
}
