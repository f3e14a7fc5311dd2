using System.Globalization;
using System.Security.Cryptography;
using CsCheck;

namespace Issuer2.Server.Tests.Fuzz;

/// <summary>
/// The run's seed and size, from the environment: <c>ISSUER2_FUZZ_SEED</c> (decimal or 0x-hex; a fresh one when
/// unset) replays a run's every generated case; <c>ISSUER2_FUZZ_CASES</c> sets the cases per endpoint (default
/// 2,000); <c>ISSUER2_FUZZ_ONLY</c>=<c>endpoint:index</c> runs one case of one endpoint alone.
/// </summary>
public sealed class FuzzSettings
{
    public const string SeedVariable = "ISSUER2_FUZZ_SEED";
    public const string CasesVariable = "ISSUER2_FUZZ_CASES";
    public const string OnlyVariable = "ISSUER2_FUZZ_ONLY";

    /// <summary>One seed for the whole test run, so both databases and all endpoints print the same.</summary>
    private static readonly Lazy<ulong> RunSeed = new(() =>
    {
        var text = Environment.GetEnvironmentVariable(SeedVariable);
        if (string.IsNullOrWhiteSpace(text))
        {
            return BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));
        }

        text = text.Trim();
        return text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.Parse(text[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture)
            : ulong.Parse(text, CultureInfo.InvariantCulture);
    });

    public ulong Seed { get; init; } = RunSeed.Value;

    public int Cases { get; init; } = int.TryParse(Environment.GetEnvironmentVariable(CasesVariable), CultureInfo.InvariantCulture, out var n) && n > 0 ? n : 2000;

    /// <summary>Lanes run at once; the cases of one lane run one after another (they share its offers and credential).</summary>
    public int Lanes { get; init; } = 8;

    /// <summary>Cases between two ledgers of the database.</summary>
    public int BatchSize { get; init; } = 250;

    /// <summary>The one case to run, when ISSUER2_FUZZ_ONLY names this endpoint.</summary>
    public static int? OnlyCase(string endpoint)
    {
        var only = Environment.GetEnvironmentVariable(OnlyVariable);
        if (string.IsNullOrWhiteSpace(only))
        {
            return null;
        }

        var parts = only.Split(':', 2);
        return parts.Length == 2 && parts[0] == endpoint && int.TryParse(parts[1], CultureInfo.InvariantCulture, out var index) ? index : -1;
    }

    public string SeedText => "0x" + Seed.ToString("x16", CultureInfo.InvariantCulture);

    /// <summary>The generator state of one case: a CsCheck PCG from the run's seed, the endpoint and the case's index.</summary>
    public PCG CaseRandom(string endpoint, int index)
    {
        var stream = (uint)StableHash(endpoint);
        return new PCG(stream, Mix(Seed + (ulong)index * 0x9E3779B97F4A7C15UL));
    }

    /// <summary>SplitMix64's finaliser: neighbouring indexes give unrelated states.</summary>
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static int StableHash(string text)
    {
        var hash = 17;
        foreach (var c in text)
        {
            hash = unchecked((hash * 31) + c);
        }

        return hash;
    }
}
