using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Issuer2.Core.Events;

/// <summary>
/// Turns a position in the log into the opaque cursor a client holds, and back. A cursor is bound to its tenant and
/// reveals nothing but itself: the same (tenant, position) always gives the same cursor, two cursors tell only whether
/// they are equal, and another tenant's cursor, a forged or a tampered one does not decode.
/// </summary>
/// <remarks>
/// Format: base64url of <c>version (1 byte) ‖ C1 ‖ C2</c>, two AES-256 blocks:
/// <c>C1 = AES(k, (txid ‖ sequence) ⊕ T1)</c> and <c>C2 = AES(k, C1 ⊕ T2)</c>, where txid and sequence are 64-bit
/// big-endian and <c>T1 ‖ T2 = HMAC-SHA256(kₜ, tenant id)</c>. Decoding checks <c>AES⁻¹(C2) ⊕ C1 = T2</c>, so
/// any change to either block, or another tenant's T2, is refused (a forgery succeeds with probability 2⁻¹²⁸).
/// Two blocks rather than one because the position needs 16 bytes of its own: PostgreSQL's <c>pg_current_xact_id()</c>
/// is 64-bit (epoch ‖ xid), grows with every write transaction of the whole cluster and keeps its epoch through
/// pg_upgrade (pg_resetwal can raise it), and the event sequence is a bigint; squeezing both into 6 bytes would make a
/// long-lived cluster's cursors wrap to wrong positions, which no test would notice until it happened.
/// The version byte names the key, so a key ring can rotate it while old cursors still decode.
/// </remarks>
public sealed class EventCursors
{
    /// <summary>The version byte of cursors made from a single key.</summary>
    public const byte SingleKeyVersion = 1;

    private const int Block = 16;
    private const int Length = 1 + 2 * Block;

    /// <summary>How many characters every cursor has (what a page budget counts for one).</summary>
    public static readonly int TextLength = Base64Url.GetEncodedLength(Length);

    private readonly Dictionary<byte, Keys> _keys;
    private readonly byte _current;

    /// <summary>Cursors under one 32-byte key (version <see cref="SingleKeyVersion"/>).</summary>
    public EventCursors(ReadOnlySpan<byte> key)
        : this(new Dictionary<byte, byte[]> { [SingleKeyVersion] = key.ToArray() }, SingleKeyVersion)
    {
    }

    /// <summary>Cursors made under <paramref name="current"/>; every version in <paramref name="keysByVersion"/> still decodes.</summary>
    public EventCursors(IReadOnlyDictionary<byte, byte[]> keysByVersion, byte current)
    {
        ArgumentNullException.ThrowIfNull(keysByVersion);
        if (!keysByVersion.ContainsKey(current)) throw new ArgumentException("The current version has no key.", nameof(current));
        _keys = keysByVersion.ToDictionary(k => k.Key, k => new Keys(k.Value));
        _current = current;
    }

    /// <summary>The cursor a client holds for <paramref name="position"/> of <paramref name="tenantId"/>'s log.</summary>
    internal string Encode(string tenantId, EventCursor position)
    {
        var keys = _keys[_current];
        Span<byte> tweak = stackalloc byte[2 * Block];
        keys.Tweak(tenantId, tweak);
        Span<byte> output = stackalloc byte[Length];
        output[0] = _current;
        Span<byte> block = stackalloc byte[Block];
        BinaryPrimitives.WriteInt64BigEndian(block, position.TransactionId);
        BinaryPrimitives.WriteInt64BigEndian(block[8..], position.Sequence);
        Xor(block, tweak[..Block]);
        var c1 = output.Slice(1, Block);
        keys.Encrypt(block, c1);
        c1.CopyTo(block);
        Xor(block, tweak[Block..]);
        keys.Encrypt(block, output.Slice(1 + Block, Block));
        return Base64Url.EncodeToString(output);
    }

    /// <summary>The position <paramref name="cursor"/> names, when it is a cursor of <paramref name="tenantId"/>'s log made here.</summary>
    internal bool TryDecode(string tenantId, string? cursor, out EventCursor position)
    {
        position = default;
        if (string.IsNullOrEmpty(cursor) || cursor.Length != Base64Url.GetEncodedLength(Length) || !Base64Url.IsValid(cursor)) return false;
        Span<byte> input = stackalloc byte[Length];
        if (!Base64Url.TryDecodeFromChars(cursor, input, out var written) || written != Length) return false;
        // Note: only the canonical text of the bytes is a cursor, so one position has one cursor.
        if (!string.Equals(Base64Url.EncodeToString(input), cursor, StringComparison.Ordinal)) return false;
        if (!_keys.TryGetValue(input[0], out var keys)) return false;

        Span<byte> tweak = stackalloc byte[2 * Block];
        keys.Tweak(tenantId, tweak);
        var c1 = input.Slice(1, Block);
        Span<byte> check = stackalloc byte[Block];
        keys.Decrypt(input.Slice(1 + Block, Block), check);
        Xor(check, c1);
        if (!CryptographicOperations.FixedTimeEquals(check, tweak[Block..])) return false;

        Span<byte> block = stackalloc byte[Block];
        keys.Decrypt(c1, block);
        Xor(block, tweak[..Block]);
        var transactionId = BinaryPrimitives.ReadInt64BigEndian(block);
        var sequence = BinaryPrimitives.ReadInt64BigEndian(block[8..]);
        if (transactionId < 0 || sequence < 0) return false;
        position = new EventCursor(transactionId, sequence);
        return true;
    }

    private static void Xor(Span<byte> into, ReadOnlySpan<byte> with)
    {
        for (var i = 0; i < into.Length; i++) into[i] ^= with[i];
    }

    /// <summary>One version's keys: AES for the blocks, HMAC for the tenant's tweak, each derived from the one key.</summary>
    private sealed class Keys
    {
        private readonly Aes _aes;
        private readonly byte[] _tenantKey;
        private readonly Lock _gate = new();

        public Keys(byte[] key)
        {
            if (key.Length != 32) throw new ArgumentException("An event-cursor key must be 32 bytes (256 bits).", nameof(key));
            _aes = Aes.Create();
            _aes.Key = HKDF.Expand(HashAlgorithmName.SHA256, key, 32, "issuer2/event-cursors/aes"u8.ToArray());
            _tenantKey = HKDF.Expand(HashAlgorithmName.SHA256, key, 32, "issuer2/event-cursors/tenant"u8.ToArray());
        }

        public void Tweak(string tenantId, Span<byte> destination) =>
            HMACSHA256.HashData(_tenantKey, Encoding.UTF8.GetBytes(tenantId), destination);

        // Note: ECB on exactly one block is the bare AES permutation; the chaining is done above, by hand.
        public void Encrypt(ReadOnlySpan<byte> block, Span<byte> destination)
        {
            lock (_gate) _aes.EncryptEcb(block, destination, PaddingMode.None);
        }

        public void Decrypt(ReadOnlySpan<byte> block, Span<byte> destination)
        {
            lock (_gate) _aes.DecryptEcb(block, destination, PaddingMode.None);
        }
    }
}
