using Issuer2.Core.Authorization;
using Issuer2.Core.Tenants;
using Issuer2.Core.Wallet;

namespace Issuer2.Core.Tests.Authorization;

public sealed class ClientPolicyTests
{
    [Theory]
    [InlineData("https://wallet.example/cb", true)]
    [InlineData("https://wallet.example:8443/cb?x=1", true)]
    [InlineData("com.example.wallet:/callback", true)]
    [InlineData("com.example.wallet://callback", true)]
    [InlineData("http://127.0.0.1:53123/cb", true)]
    [InlineData("http://127.0.0.1/cb", true)]
    [InlineData("http://[::1]:8080/cb", true)]
    [InlineData("http://localhost:8080/cb", false)]
    [InlineData("http://wallet.example/cb", false)]
    [InlineData("https://wallet.example/cb#frag", false)]
    [InlineData("https://user:pw@wallet.example/cb", false)]
    [InlineData("wallet:/cb", false)]
    [InlineData("/relative", false)]
    [InlineData("https://wallet.example/c b", false)]
    [InlineData("", false)]
    public void AnyClient_RedirectUris_HttpsPrivateUseOrLoopbackOnly(string uri, bool accepted) =>
        Assert.Equal(accepted, ClientPolicy.AcceptableForAnyClient(uri));

    [Fact]
    public void RegisteredClients_UnknownClientIsInvalidClient_RedirectComparedExactly()
    {
        var settings = AuthorizationServerSettings.Default with
        {
            ClientMode = WalletClientMode.Registered,
            RegisteredClients = [new WalletClient("w1", ["https://wallet.example/cb"])],
        };

        Assert.Null(ClientPolicy.Check(settings, "w1", "https://wallet.example/cb"));
        Assert.Equal(WalletErrorCode.InvalidClient, ClientPolicy.Check(settings, "w2", "https://wallet.example/cb")?.Code);
        Assert.Equal(WalletErrorCode.InvalidRequest, ClientPolicy.Check(settings, "w1", "https://wallet.example/cb/")?.Code);
        Assert.Equal(WalletErrorCode.InvalidRequest, ClientPolicy.Check(settings, "w1", "https://WALLET.example/cb")?.Code);
    }

    [Theory]
    [InlineData("wallet", true)]
    [InlineData("https://wallet.example", true)]
    [InlineData("", false)]
    [InlineData("tab\there", false)]
    [InlineData("ünicode", false)]
    public void ClientIds_PrintableAsciiOnly(string clientId, bool wellFormed) =>
        Assert.Equal(wellFormed, ClientPolicy.IsWellFormedClientId(clientId));

    [Fact]
    public void Pkce_S256_RoundTrips_AndTheRfc7636ExampleVerifies()
    {
        Assert.True(Pkce.Verifies("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        Assert.False(Pkce.Verifies("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        Assert.True(Pkce.IsWellFormedChallenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        Assert.False(Pkce.IsWellFormedChallenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c"));
        Assert.False(Pkce.IsWellFormedVerifier(new string('a', 42)));
        Assert.True(Pkce.IsWellFormedVerifier(new string('a', 128)));
        Assert.False(Pkce.IsWellFormedVerifier(new string('a', 129)));
        Assert.False(Pkce.IsWellFormedVerifier(new string('a', 42) + "+"));
    }

    [Fact]
    public void ErrorRedirect_AppendsToAnExistingQuery_WithStateAndIss()
    {
        var target = new WalletRedirect("https://wallet.example/cb?app=1", "s 1", "https://issuer.example/acme");

        var location = target.WithError(new WalletError(WalletErrorCode.AccessDenied, "No."));

        Assert.Equal("https://wallet.example/cb?app=1&error=access_denied&error_description=No.&state=s%201&iss=https%3A%2F%2Fissuer.example%2Facme", location);
    }
}
