using System.Security.Cryptography;
using System.Text;
using Issuer2.Core.Nonces;
using Issuer2.Core.Security;
using Issuer2.Core.Tests.Fakes;
using Microsoft.Extensions.Time.Testing;

namespace Issuer2.Core.Tests.Security;

/// <summary>The key ring: a key per purpose and version, the formats of the release before, nonce key epochs.</summary>
public sealed class KeyRingTests
{
    private static readonly byte[] Plaintext = Encoding.UTF8.GetBytes("a private key");

    private static KeyRing Ring(params int[] versions) => new(versions.ToDictionary(v => v, v => TestBed.Kek((byte)v)));

    private static KeyRing Staged(int current, params int[] versions) => new(versions.ToDictionary(v => v, v => TestBed.Kek((byte)v)), current);

    [Fact]
    public void Purposes_EncryptUnderDifferentKeys()
    {
        var ring = Ring(1);
        var purposes = new[] { KeyPurpose.SigningKeys, KeyPurpose.ReplayCopies, KeyPurpose.PinHashes, KeyPurpose.SecretsAtRest };

        foreach (var writer in purposes)
        {
            var sealedData = ring.Protector(writer).Encrypt(Plaintext, "ctx");
            foreach (var reader in purposes.Where(p => p != writer))
                Assert.ThrowsAny<CryptographicException>(() => ring.Protector(reader).Decrypt(sealedData, "ctx"));
            Assert.Equal(Plaintext, ring.Protector(writer).Decrypt(sealedData, "ctx"));
        }
    }

    [Fact]
    public void Purposes_HashUnderDifferentKeys()
    {
        var ring = Ring(1);

        var pin = ring.Protector(KeyPurpose.PinHashes).KeyedHash("ctx", "123456");
        var fingerprint = ring.Protector(KeyPurpose.ReplayCopies).KeyedHash("ctx", "123456");

        Assert.NotEqual(pin, fingerprint);
        Assert.False(ring.Protector(KeyPurpose.ReplayCopies).KeyedHashEquals("ctx", "123456", pin));
    }

    [Fact]
    public void EventCursorKey_DiffersPerVersionAndFromItsInterimDerivation_OnlyByVersion()
    {
        var ring = Ring(1, 2);

        // The derivation the event-cursor helper uses for now, so switching it to the ring keeps version 1's cursors.
        var interim = HKDF.DeriveKey(HashAlgorithmName.SHA256, TestBed.Kek(1), 32, info: "issuer2/v1/event-cursors"u8.ToArray());

        Assert.Equal(interim, ring.EventCursorKey(1));
        Assert.NotEqual(ring.EventCursorKey(1), ring.EventCursorKey(2));
        Assert.ThrowsAny<CryptographicException>(() => Ring(2).EventCursorKey(1));
    }

    [Fact]
    public void Protector_OfNoncesOrCursors_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => Ring(1).Protector(KeyPurpose.Nonces));
        Assert.Throws<ArgumentException>(() => Ring(1).Protector(KeyPurpose.EventCursors));
    }

    [Fact]
    public void NewSecrets_AreMadeUnderTheNewestVersion_AndOldOnesStillOpen()
    {
        var old = Ring(1).Protector(KeyPurpose.SigningKeys).Encrypt(Plaintext, "ctx");
        var rotated = Ring(1, 2).Protector(KeyPurpose.SigningKeys);

        var fresh = rotated.Encrypt(Plaintext, "ctx");

        Assert.Equal(1, SecretProtector.VersionOf(old));
        Assert.Equal(2, SecretProtector.VersionOf(fresh));
        Assert.Equal(Plaintext, rotated.Decrypt(old, "ctx"));
        Assert.Equal(Plaintext, rotated.Decrypt(fresh, "ctx"));
    }

    [Fact]
    public void CurrentVersion_WhenSet_IsWhatNewSecretsUse()
    {
        var staged = Staged(1, 1, 2);

        Assert.Equal(1, SecretProtector.VersionOf(staged.Protector(KeyPurpose.SigningKeys).Encrypt(Plaintext, "ctx")));
        Assert.Equal(1, SecretProtector.HashVersionOf(staged.Protector(KeyPurpose.PinHashes).KeyedHash("ctx", "1234")));
        Assert.Throws<ArgumentException>(() => Staged(3, 1, 2));
    }

    [Fact]
    public void RemovedVersion_IsRefusedClearly()
    {
        var old = Ring(1).Protector(KeyPurpose.SigningKeys).Encrypt(Plaintext, "ctx");
        var oldPin = Ring(1).Protector(KeyPurpose.PinHashes).KeyedHash("ctx", "1234");
        var withoutOne = Ring(2);

        var decrypt = Assert.ThrowsAny<CryptographicException>(() => withoutOne.Protector(KeyPurpose.SigningKeys).Decrypt(old, "ctx"));
        var hash = Assert.ThrowsAny<CryptographicException>(() => withoutOne.Protector(KeyPurpose.PinHashes).KeyedHashEquals("ctx", "1234", oldPin));

        Assert.Contains("version 1", decrypt.Message, StringComparison.Ordinal);
        Assert.Contains("version 1", hash.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PinHash_NamesItsVersion_AndIsCheckedUnderIt()
    {
        var v1 = Ring(1).Protector(KeyPurpose.PinHashes).KeyedHash("pin/acme/o1", "1234");
        var rotated = Ring(1, 2).Protector(KeyPurpose.PinHashes);

        Assert.Equal(36, v1.Length);
        Assert.True(rotated.KeyedHashEquals("pin/acme/o1", "1234", v1));
        Assert.False(rotated.KeyedHashEquals("pin/acme/o1", "4321", v1));
        Assert.Equal(2, SecretProtector.HashVersionOf(rotated.KeyedHash("pin/acme/o1", "1234")));
    }

    [Fact]
    public void LegacyCiphertext_OfTheReleaseBeforePurposes_OpensAsVersion1_ForEveryPurposeThatStoredOne()
    {
        var legacy = LegacyEncrypt(TestBed.Kek(1), Plaintext, "signing-key/acme/kid");
        var ring = Ring(1, 2);

        Assert.Equal(1, SecretProtector.VersionOf(legacy));
        Assert.True(SecretProtector.IsLegacy(legacy));
        foreach (var purpose in new[] { KeyPurpose.SigningKeys, KeyPurpose.ReplayCopies, KeyPurpose.SecretsAtRest })
            Assert.Equal(Plaintext, ring.Protector(purpose).Decrypt(legacy, "signing-key/acme/kid"));
        Assert.ThrowsAny<CryptographicException>(() => Ring(2).Protector(KeyPurpose.SigningKeys).Decrypt(legacy, "signing-key/acme/kid"));
        Assert.ThrowsAny<CryptographicException>(() => new KeyRing(new Dictionary<int, byte[]> { [1] = TestBed.Kek(3) }).Protector(KeyPurpose.SigningKeys).Decrypt(legacy, "signing-key/acme/kid"));
    }

    [Fact]
    public void LegacyPinHash_OfTheReleaseBeforePurposes_IsCheckedAsVersion1()
    {
        var legacy = HMACSHA256.HashData(
            HKDF.DeriveKey(HashAlgorithmName.SHA256, TestBed.Kek(1), 32, info: "issuer2/v1/keyed-hash"u8.ToArray()), "pin/acme/o1\n123456"u8.ToArray());
        var pins = Ring(1, 2).Protector(KeyPurpose.PinHashes);

        Assert.Equal(1, SecretProtector.HashVersionOf(legacy));
        Assert.True(pins.KeyedHashEquals("pin/acme/o1", "123456", legacy));
        Assert.False(pins.KeyedHashEquals("pin/acme/o1", "654321", legacy));
    }

    [Fact]
    public void Rewrap_MovesOldAndLegacySecretsToTheCurrentVersion_AndLeavesCurrentOnesAlone()
    {
        var ring = Ring(1, 2);
        var protector = ring.Protector(KeyPurpose.SigningKeys);
        var legacy = LegacyEncrypt(TestBed.Kek(1), Plaintext, "ctx");
        var old = Ring(1).Protector(KeyPurpose.SigningKeys).Encrypt(Plaintext, "ctx");

        var fromLegacy = protector.Rewrap(legacy, "ctx")!;
        var fromOld = protector.Rewrap(old, "ctx")!;

        Assert.Equal(2, SecretProtector.VersionOf(fromLegacy));
        Assert.Equal(2, SecretProtector.VersionOf(fromOld));
        Assert.Equal(Plaintext, Ring(2).Protector(KeyPurpose.SigningKeys).Decrypt(fromLegacy, "ctx"));
        Assert.Null(protector.Rewrap(fromOld, "ctx"));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(65536)]
    public void Ring_WithVersionOutOfRange_IsRefused(int version) =>
        Assert.Throws<ArgumentException>(() => new KeyRing(new Dictionary<int, byte[]> { [version] = TestBed.Kek(1) }));

    [Fact]
    public void NonceKey_OpensInItsEpochAndTheNext_AndNotAfter()
    {
        var clock = new FakeTimeProvider(TestBed.Start);
        var keys = new NonceKeys(Ring(1), clock, TimeSpan.FromHours(1), SealedNonces.LongestLifetime);
        var sealedNonce = keys.Seal(Plaintext, "c_nonce/acme");

        clock.Advance(TimeSpan.FromMinutes(59));
        Assert.Equal(Plaintext, keys.Open(sealedNonce, "c_nonce/acme"));
        clock.Advance(TimeSpan.FromMinutes(60));
        Assert.Equal(Plaintext, keys.Open(sealedNonce, "c_nonce/acme"));
        clock.Advance(TimeSpan.FromMinutes(61));
        Assert.Null(keys.Open(sealedNonce, "c_nonce/acme"));
    }

    [Fact]
    public void NonceKey_ChangesEveryEpoch()
    {
        var clock = new FakeTimeProvider(TestBed.Start);
        var keys = new NonceKeys(Ring(1), clock, TimeSpan.FromHours(1), SealedNonces.LongestLifetime);
        var before = keys.Seal(Plaintext, "c_nonce/acme");
        clock.Advance(TimeSpan.FromHours(1));
        var after = keys.Seal(Plaintext, "c_nonce/acme");

        // Another host whose clock is an epoch behind (skew) opens the later nonce as "next"; two epochs on, neither opens the first.
        var behind = new NonceKeys(Ring(1), new FakeTimeProvider(TestBed.Start), TimeSpan.FromHours(1), SealedNonces.LongestLifetime);
        Assert.Equal(Plaintext, behind.Open(after, "c_nonce/acme"));
        Assert.NotEqual(before.AsSpan(3, 2).ToArray(), after.AsSpan(3, 2).ToArray());
        clock.Advance(TimeSpan.FromHours(1));
        Assert.Null(keys.Open(before, "c_nonce/acme"));
        Assert.Equal(Plaintext, keys.Open(after, "c_nonce/acme"));
    }

    [Fact]
    public void NonceKey_IsNotAnyOtherPurposesKey_AndOpensAcrossVersionsInTheRing()
    {
        var clock = new FakeTimeProvider(TestBed.Start);
        var oldHost = new NonceKeys(Ring(1), clock, NonceKeys.DefaultEpoch, SealedNonces.LongestLifetime);
        var newHost = new NonceKeys(Ring(1, 2), clock, NonceKeys.DefaultEpoch, SealedNonces.LongestLifetime);
        var fromOld = oldHost.Seal(Plaintext, "ctx");

        Assert.Equal(Plaintext, newHost.Open(fromOld, "ctx"));
        Assert.Null(oldHost.Open(newHost.Seal(Plaintext, "ctx"), "ctx"));
        Assert.ThrowsAny<CryptographicException>(() => Ring(1).Protector(KeyPurpose.SecretsAtRest).Decrypt(fromOld, "ctx"));
        Assert.Null(newHost.Open(Ring(1).Protector(KeyPurpose.SecretsAtRest).Encrypt(Plaintext, "ctx"), "ctx"));
    }

    [Fact]
    public void NonceOfTheReleaseBeforePurposes_DoesNotOpen()
    {
        var keys = new NonceKeys(Ring(1), new FakeTimeProvider(TestBed.Start), NonceKeys.DefaultEpoch, SealedNonces.LongestLifetime);

        Assert.Null(keys.Open(LegacyEncrypt(TestBed.Kek(1), Plaintext, "c_nonce/acme"), "c_nonce/acme"));
    }

    [Fact]
    public void NonceEpoch_ShorterThanANonceLives_IsRefused()
    {
        Assert.Equal(TimeSpan.FromMinutes(5), SealedNonces.LongestLifetime);
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            new NonceKeys(Ring(1), new FakeTimeProvider(TestBed.Start), TimeSpan.FromMinutes(4), SealedNonces.LongestLifetime));
    }

    /// <summary>Exactly what the release before purposes wrote: format 1, key id of the shared key, AES-256-GCM under it.</summary>
    internal static byte[] LegacyEncrypt(byte[] kek, byte[] plaintext, string context)
    {
        var key = HKDF.DeriveKey(HashAlgorithmName.SHA256, kek, 32, info: "issuer2/v1/encryption"u8.ToArray());
        var output = new byte[1 + 4 + 12 + 16 + plaintext.Length];
        output[0] = 1;
        SHA256.HashData(key).AsSpan(0, 4).CopyTo(output.AsSpan(1));
        RandomNumberGenerator.Fill(output.AsSpan(5, 12));
        using var aes = new AesGcm(key, 16);
        aes.Encrypt(output.AsSpan(5, 12), plaintext, output.AsSpan(33), output.AsSpan(17, 16), Encoding.UTF8.GetBytes(context));
        return output;
    }
}
