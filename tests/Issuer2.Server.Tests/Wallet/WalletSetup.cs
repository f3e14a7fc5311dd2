using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;

namespace Issuer2.Server.Tests.Wallet;

/// <summary>Tenants, profiles and offers the wallet tests start from.</summary>
public static class WalletSetup
{
    /// <summary>
    /// The sample profile with values for the wallet tests: family_name always visible; given_name, age_in_years,
    /// is_over_18 and address.locality selectively disclosable, each with a default; birthdate and score without a
    /// value (so absent from credentials).
    /// </summary>
    public static void IdentityProfile(Profile profile)
    {
        profile.Claims.Single(c => c.Path.SequenceEqual(["family_name"])).SelectivelyDisclosable = false;
        profile.DefaultValues.Add(Samples.NumberValue(42, "age_in_years"));
        profile.DefaultValues.Add(Samples.BoolValue(false, "is_over_18"));
        profile.DefaultValues.Add(Samples.StringValue("Berlin", "address", "locality"));
    }

    /// <summary>The disclosures every credential of <see cref="IdentityProfile"/> carries (by claim name).</summary>
    public static readonly string[] DisclosedClaimNames = ["age_in_years", "given_name", "is_over_18", "locality"];

    /// <summary>Overrides an offer applies over the profile's defaults: given_name Max, is_over_18 true.</summary>
    public static void WithOverrides(CreateOfferRequest request)
    {
        request.Overrides.Add(Samples.StringValue("Max", "given_name"));
        request.Overrides.Add(Samples.BoolValue(true, "is_over_18"));
    }

    /// <summary>
    /// Moves the host's fake clock forward to the real time. Wallet libraries stamp proofs with the real clock; the
    /// fake one stands still while a test class runs, and a proof from "the future" is refused.
    /// </summary>
    public static void CatchUpWithRealTime(ServerFixture fixture)
    {
        var real = DateTimeOffset.UtcNow;
        if (real > fixture.Time.GetUtcNow())
        {
            fixture.Time.SetUtcNow(real);
        }
    }

    /// <summary>A wallet on the fixture's host.</summary>
    public static TestWallet WalletOn(ServerFixture fixture) => new(fixture.Host.HttpUrl);
}
