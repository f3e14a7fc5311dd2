using System.Security.Cryptography;
using Issuer2.Core.Events;
using Issuer2.Core.Security;

namespace Issuer2.Server.Hosting;

/// <summary>
/// The one place the event-cursor keys come from: the key ring's event-cursor key of each version (its own HKDF info,
/// so cursors share a key with nothing else). New cursors are made under the ring's current version; cursors of every
/// other version in the ring still open, so a rotation does not break a client's resume.
/// </summary>
internal static class EventCursorKey
{
    public static EventCursors CursorsFrom(KeyRing keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        // A cursor names its key version in one byte.
        if (keys.CurrentVersion > byte.MaxValue)
            throw new InvalidOperationException($"The current key-encryption key version {keys.CurrentVersion} is above {byte.MaxValue}, the highest event cursors can name.");
        var byVersion = keys.Versions.Where(v => v <= byte.MaxValue).ToDictionary(v => (byte)v, keys.EventCursorKey);
        try
        {
            return new EventCursors(byVersion, (byte)keys.CurrentVersion);
        }
        finally
        {
            foreach (var key in byVersion.Values) CryptographicOperations.ZeroMemory(key);
        }
    }
}
