using System.Text.Json;

namespace Issuer2.Server.Tests.Infrastructure;

/// <summary>An openid-credential-offer:// URL taken apart (OID4VCI 1.0 §4.1).</summary>
public sealed class OfferUrl
{
    public const string Scheme = "openid-credential-offer://";
    public const string PreAuthorizedGrant = "urn:ietf:params:oauth:grant-type:pre-authorized_code";

    private OfferUrl(IReadOnlyDictionary<string, string> parameters) => Parameters = parameters;

    /// <summary>The decoded query parameters.</summary>
    public IReadOnlyDictionary<string, string> Parameters { get; }

    /// <summary>credential_offer_uri, for a BY_REFERENCE offer.</summary>
    public string? CredentialOfferUri => Parameters.GetValueOrDefault("credential_offer_uri");

    /// <summary>credential_offer (the JSON text), for a BY_VALUE offer.</summary>
    public string? CredentialOfferJson => Parameters.GetValueOrDefault("credential_offer");

    public static OfferUrl Parse(string url)
    {
        Assert.StartsWith(Scheme, url, StringComparison.Ordinal);
        var rest = url[Scheme.Length..];
        Assert.StartsWith("?", rest, StringComparison.Ordinal);
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in rest[1..].Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            Assert.True(equals > 0, $"malformed query parameter '{pair}' in {url}");
            var name = Decode(pair[..equals]);
            Assert.False(parameters.ContainsKey(name), $"parameter {name} twice in {url}");
            parameters[name] = Decode(pair[(equals + 1)..]);
        }

        return new OfferUrl(parameters);
    }

    /// <summary>The random token of a BY_REFERENCE offer: what follows "{credential_issuer}/offers/".</summary>
    public string TokenUnder(string credentialIssuer)
    {
        var uri = CredentialOfferUri;
        Assert.NotNull(uri);
        var prefix = credentialIssuer + "/offers/";
        Assert.StartsWith(prefix, uri, StringComparison.Ordinal);
        var token = uri[prefix.Length..];
        Assert.Matches("^[A-Za-z0-9_-]{22,}$", token);
        return token;
    }

    /// <summary>The pre-authorized code inside a BY_VALUE offer.</summary>
    public string PreAuthorizedCode()
    {
        Assert.NotNull(CredentialOfferJson);
        using var json = JsonDocument.Parse(CredentialOfferJson);
        var code = json.RootElement.GetProperty("grants").GetProperty(PreAuthorizedGrant).GetProperty("pre-authorized_code").GetString();
        Assert.False(string.IsNullOrEmpty(code));
        return code!;
    }

    private static string Decode(string value) => Uri.UnescapeDataString(value.Replace('+', ' '));
}
