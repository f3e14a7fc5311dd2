using Google.Protobuf.WellKnownTypes;
using Issuer2.Grpc.V1;

namespace Issuer2.Server.Tests.Infrastructure;

/// <summary>Valid requests to start from; a test changes the one thing it is about.</summary>
public static class Samples
{
    /// <summary>
    /// A person-identity profile: given_name and family_name (strings, with defaults), birthdate (date),
    /// age_in_years (integer), is_over_18 (boolean), address.locality (string, nested), score (number).
    /// </summary>
    public static Profile Profile(string profileId)
    {
        var profile = new Profile
        {
            ProfileId = profileId,
            Vct = "https://credentials.example.com/identity_credential",
            CredentialValidity = Duration.FromTimeSpan(TimeSpan.FromDays(30)),
        };
        profile.Display.Add(new CredentialDisplay
        {
            Locale = "en-US",
            Name = "Identity credential",
            Description = "A test credential",
            BackgroundColor = "#12107c",
            TextColor = "#ffffff",
        });
        profile.Claims.Add(Claim(ClaimValueType.String, "given_name"));
        profile.Claims.Add(Claim(ClaimValueType.String, "family_name"));
        profile.Claims.Add(Claim(ClaimValueType.Date, "birthdate"));
        profile.Claims.Add(Claim(ClaimValueType.Integer, "age_in_years"));
        profile.Claims.Add(Claim(ClaimValueType.Boolean, "is_over_18"));
        profile.Claims.Add(Claim(ClaimValueType.String, "address", "locality"));
        profile.Claims.Add(Claim(ClaimValueType.Number, "score"));
        profile.DefaultValues.Add(Value(Google.Protobuf.WellKnownTypes.Value.ForString("Erika"), "given_name"));
        profile.DefaultValues.Add(Value(Google.Protobuf.WellKnownTypes.Value.ForString("Mustermann"), "family_name"));
        return profile;
    }

    public static ClaimDefinition Claim(ClaimValueType type, params string[] path)
    {
        var claim = new ClaimDefinition { ValueType = type, SelectivelyDisclosable = true };
        claim.Path.AddRange(path);
        claim.Display.Add(new ClaimDisplay { Locale = "en-US", Name = string.Join(' ', path) });
        return claim;
    }

    public static ClaimValue Value(Value value, params string[] path)
    {
        var claimValue = new ClaimValue { Value = value };
        claimValue.Path.AddRange(path);
        return claimValue;
    }

    public static ClaimValue StringValue(string value, params string[] path) =>
        Value(Google.Protobuf.WellKnownTypes.Value.ForString(value), path);

    public static ClaimValue NumberValue(double value, params string[] path) =>
        Value(Google.Protobuf.WellKnownTypes.Value.ForNumber(value), path);

    public static ClaimValue BoolValue(bool value, params string[] path) =>
        Value(Google.Protobuf.WellKnownTypes.Value.ForBool(value), path);

    public static Duration Minutes(double minutes) => Duration.FromTimeSpan(TimeSpan.FromMinutes(minutes));

    public static Duration Hours(double hours) => Duration.FromTimeSpan(TimeSpan.FromHours(hours));

    public static Duration Days(double days) => Duration.FromTimeSpan(TimeSpan.FromDays(days));

    public static Duration Seconds(double seconds) => Duration.FromTimeSpan(TimeSpan.FromSeconds(seconds));
}
