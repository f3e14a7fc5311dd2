using System.Text.Json.Nodes;
using Issuer2.Core.Offers;

namespace Issuer2.Core.Tests.Offers;

public sealed class CredentialOfferDocumentTests
{
    private const string Issuer = "https://issuer.example/acme";
    private const string Grant = "urn:ietf:params:oauth:grant-type:pre-authorized_code";

    private static JsonNode Reparse(JsonObject offer) => JsonNode.Parse(offer.ToJsonString())!;

    [Fact]
    public void PreAuthorized_WithoutPin_HasIssuerConfigurationAndCode()
    {
        var offer = Reparse(CredentialOfferDocument.PreAuthorized(Issuer, "employee", "code-123", null));

        Assert.Equal(Issuer, offer["credential_issuer"]!.GetValue<string>());
        Assert.Equal("employee", Assert.Single(offer["credential_configuration_ids"]!.AsArray())!.GetValue<string>());
        Assert.Equal("code-123", offer["grants"]![Grant]!["pre-authorized_code"]!.GetValue<string>());
        Assert.Null(offer["grants"]![Grant]!["tx_code"]);
        Assert.Single(offer["grants"]!.AsObject());
    }

    [Fact]
    public void PreAuthorized_HasOnlyTheSpecMembers()
    {
        var offer = Reparse(CredentialOfferDocument.PreAuthorized(Issuer, "employee", "code-123", null));
        var members = offer.AsObject().Select(m => m.Key).Order(StringComparer.Ordinal).ToArray();

        Assert.Equal(["credential_configuration_ids", "credential_issuer", "grants"], members);
    }

    [Fact]
    public void AuthorizationCode_WithIssuerState_HasOnlyTheAuthorizationCodeGrantCarryingIt()
    {
        var offer = Reparse(CredentialOfferDocument.AuthorizationCode(Issuer, "employee", "state-123"));
        var grants = offer["grants"]!.AsObject();

        Assert.Equal(Issuer, offer["credential_issuer"]!.GetValue<string>());
        Assert.Equal("employee", Assert.Single(offer["credential_configuration_ids"]!.AsArray())!.GetValue<string>());
        Assert.Equal(["authorization_code"], grants.Select(g => g.Key));
        Assert.Equal(["issuer_state"], grants["authorization_code"]!.AsObject().Select(m => m.Key));
        Assert.Equal("state-123", grants["authorization_code"]!["issuer_state"]!.GetValue<string>());
    }

    [Fact]
    public void AuthorizationCode_WithoutIssuerState_HasAnEmptyGrantObject()
    {
        var offer = Reparse(CredentialOfferDocument.AuthorizationCode(Issuer, "employee", null));

        Assert.Equal("{}", offer["grants"]!["authorization_code"]!.ToJsonString());
        Assert.Equal(["credential_configuration_ids", "credential_issuer", "grants"], offer.AsObject().Select(m => m.Key).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void PreAuthorized_WithNumericPin_DescribesItWithoutTheValue()
    {
        var txCode = new CredentialOfferDocument.TxCode(TxCodeInputMode.Numeric, 6, "Sent to you by SMS");

        var tx = Reparse(CredentialOfferDocument.PreAuthorized(Issuer, "employee", "code-123", txCode))["grants"]![Grant]!["tx_code"]!;
        var members = tx.AsObject().Select(m => m.Key).Order(StringComparer.Ordinal).ToArray();

        Assert.Equal("numeric", tx["input_mode"]!.GetValue<string>());
        Assert.Equal(6, tx["length"]!.GetValue<int>());
        Assert.Equal("Sent to you by SMS", tx["description"]!.GetValue<string>());
        Assert.Equal(["description", "input_mode", "length"], members);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void PreAuthorized_WithTextPinAndNoDescription_OmitsDescription(string? description)
    {
        var txCode = new CredentialOfferDocument.TxCode(TxCodeInputMode.Text, 8, description);

        var tx = Reparse(CredentialOfferDocument.PreAuthorized(Issuer, "employee", "code-123", txCode))["grants"]![Grant]!["tx_code"]!;

        Assert.Equal("text", tx["input_mode"]!.GetValue<string>());
        Assert.Equal(8, tx["length"]!.GetValue<int>());
        Assert.False(tx.AsObject().ContainsKey("description"));
    }

    [Fact]
    public void ByValueUrl_DecodesBackToTheOfferJson()
    {
        var offer = CredentialOfferDocument.PreAuthorized(Issuer, "employee", "code+/=&?#", new(TxCodeInputMode.Numeric, 6, "Ünïcode & spaces"));
        const string prefix = "openid-credential-offer://?credential_offer=";

        var url = CredentialOfferDocument.ByValueUrl(offer);
        var decoded = Uri.UnescapeDataString(url[prefix.Length..]);

        Assert.StartsWith(prefix, url, StringComparison.Ordinal);
        Assert.Equal(offer.ToJsonString(), decoded);
        Assert.DoesNotContain(" ", url, StringComparison.Ordinal);
        Assert.DoesNotContain("&", url[prefix.Length..], StringComparison.Ordinal);
        Assert.DoesNotContain("#", url, StringComparison.Ordinal);
    }

    [Fact]
    public void ByReferenceUrl_DecodesBackToTheOfferUri()
    {
        var offerUri = CredentialOfferDocument.OfferUri(Issuer, "tok_en-123");
        const string prefix = "openid-credential-offer://?credential_offer_uri=";

        var url = CredentialOfferDocument.ByReferenceUrl(offerUri);

        Assert.Equal("https://issuer.example/acme/offers/tok_en-123", offerUri);
        Assert.StartsWith(prefix, url, StringComparison.Ordinal);
        Assert.Equal(offerUri, Uri.UnescapeDataString(url[prefix.Length..]));
        Assert.DoesNotContain("/", url[prefix.Length..], StringComparison.Ordinal);
    }
}
