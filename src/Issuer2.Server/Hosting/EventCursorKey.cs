using System.Security.Cryptography;
using Issuer2.Core.Events;

namespace Issuer2.Server.Hosting;

/// <summary>
/// The one place the event-cursor key comes from: derived from the key-encryption key with its own HKDF info, so
/// cursors share a key with nothing else. A per-purpose key ring can supply it here instead.
/// </summary>
internal static class EventCursorKey
{
    /// <summary>The HKDF info of the cursor key; changing it changes every cursor.</summary>
    public const string Info = "issuer2/v1/event-cursors";

    public static EventCursors CursorsFrom(ReadOnlySpan<byte> keyEncryptionKey)
    {
        var key = HKDF.DeriveKey(HashAlgorithmName.SHA256, keyEncryptionKey.ToArray(), 32, info: System.Text.Encoding.UTF8.GetBytes(Info));
        try
        {
            return new EventCursors(key);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }
}
