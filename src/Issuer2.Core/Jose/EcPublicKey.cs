using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Issuer2.Core.Jose;

/// <summary>
/// A wallet's P-256 public key as an <see cref="ECDsa"/>, for one signature check. On Linux the key is built with
/// OpenSSL 3's <c>EVP_PKEY_fromdata</c> (group and encoded point) in libcrypto, the library .NET's own ECDsa runs on:
/// <see cref="ECDsa.Create(ECParameters)"/> builds a legacy EC_KEY, runs a full key check (a scalar multiplication)
/// and converts the key to a provider key on first use, which cost 2.5 times the verification itself
/// (bench/README.md, "Profile"). The encoded point is still decoded and checked to lie on the curve (P-256 has
/// cofactor 1, so every point on it but infinity has the group's order). Elsewhere, or when that library is not
/// there, the portable path.
/// </summary>
public static partial class EcPublicKey
{
    private const string LibCrypto = "libcrypto.so.3";

    // EVP_PKEY_PUBLIC_KEY: the domain parameters and the public key (openssl/evp.h).
    private const int PublicKeySelection = 0x86;

    // OSSL_PARAM data types (openssl/core.h).
    private const uint Utf8String = 4;
    private const uint OctetString = 5;

    private static readonly nint GroupName = Marshal.StringToCoTaskMemUTF8("group");
    private static readonly nint PublicKeyName = Marshal.StringToCoTaskMemUTF8("pub");
    private static readonly nint Curve = Marshal.StringToCoTaskMemUTF8("prime256v1");
    private static readonly nint EcName = Marshal.StringToCoTaskMemUTF8("EC");

    private static volatile bool s_native = OperatingSystem.IsLinux();

    /// <summary>Whether keys are built by OpenSSL directly (false: the portable path); a test checks it on Linux.</summary>
    internal static bool BuildsWithOpenSsl => s_native;

    /// <summary>The key of the affine coordinates <paramref name="x"/> and <paramref name="y"/> (32 bytes each); the caller disposes it.</summary>
    /// <exception cref="CryptographicException">The point is not on P-256.</exception>
    public static ECDsa P256(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y)
    {
        if (x.Length != 32 || y.Length != 32) throw new CryptographicException("A P-256 coordinate is 32 bytes.");
        if (s_native && OperatingSystem.IsLinux())
        {
            try
            {
                return Native(x, y);
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                s_native = false;
            }
        }
        return ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, Q = new ECPoint { X = x.ToArray(), Y = y.ToArray() } });
    }

    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private static unsafe ECDsaOpenSsl Native(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y)
    {
        // SEC 1 §2.3.3: the uncompressed encoding, 0x04 || X || Y.
        var point = stackalloc byte[65];
        point[0] = 4;
        x.CopyTo(new Span<byte>(point + 1, 32));
        y.CopyTo(new Span<byte>(point + 33, 32));
        var parameters = stackalloc OsslParam[3];
        parameters[0] = new OsslParam { Key = GroupName, DataType = Utf8String, Data = Curve, DataSize = 10 };
        parameters[1] = new OsslParam { Key = PublicKeyName, DataType = OctetString, Data = (nint)point, DataSize = 65 };
        parameters[2] = default;

        var context = EVP_PKEY_CTX_new_from_name(0, EcName, 0);
        if (context == 0) throw new CryptographicException("OpenSSL has no EC key management.");
        try
        {
            if (EVP_PKEY_fromdata_init(context) != 1 || EVP_PKEY_fromdata(context, out var key, PublicKeySelection, parameters) != 1)
            {
                ERR_clear_error();
                throw new CryptographicException("The point is not a P-256 public key.");
            }
            // The ECDsa takes a reference of its own; this handle's is released here.
            using var handle = new SafeEvpPKeyHandle(key, ownsHandle: true);
            return new ECDsaOpenSsl(handle);
        }
        finally
        {
            EVP_PKEY_CTX_free(context);
        }
    }

    /// <summary>OSSL_PARAM (openssl/core.h).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct OsslParam
    {
        public nint Key;
        public uint DataType;
        public nint Data;
        public nuint DataSize;
        public nuint ReturnSize;
    }

    [LibraryImport(LibCrypto)]
    private static partial nint EVP_PKEY_CTX_new_from_name(nint libraryContext, nint name, nint properties);

    [LibraryImport(LibCrypto)]
    private static partial int EVP_PKEY_fromdata_init(nint context);

    [LibraryImport(LibCrypto)]
    private static unsafe partial int EVP_PKEY_fromdata(nint context, out nint key, int selection, OsslParam* parameters);

    [LibraryImport(LibCrypto)]
    private static partial void EVP_PKEY_CTX_free(nint context);

    [LibraryImport(LibCrypto)]
    private static partial void ERR_clear_error();
}
