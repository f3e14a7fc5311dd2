using System.Security.Cryptography;
using System.Text;
using Issuer2.Core.IdentityProviders;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Issuer2.Core.Tests.IdentityProviders;

/// <summary>ID-token validation (OIDC Core §3.1.3.7) with tokens signed by a test provider key.</summary>
public sealed class IdTokenValidatorTests : IDisposable
{
    private const string Issuer = "https://idp.example";
    private const string ClientId = "issuer2-acme";
    private const string Nonce = "n-0S6_WzA2Mj";

    private static readonly DateTimeOffset Now = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);

    private readonly RSA _rsa = RSA.Create(2048);
    private readonly RsaSecurityKey _signingKey;
    private readonly JsonWebKey _publicJwk;

    public IdTokenValidatorTests()
    {
        _signingKey = new RsaSecurityKey(_rsa) { KeyId = "k1" };
        _publicJwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(_rsa.ExportParameters(false)) { KeyId = "k1" });
    }

    public void Dispose() => _rsa.Dispose();

    [Fact]
    public async Task Valid_ReturnsSubjectAndClaims()
    {
        var (token, problem) = await ValidateAsync(Sign(Claims()));

        Assert.Null(problem);
        Assert.Equal("alice", token!.Subject);
        Assert.Equal("Alice", token.Claims.GetProperty("given_name").GetString());
    }

    public static TheoryData<string, IdTokenProblem> Refusals => new()
    {
        { "wrong iss", IdTokenProblem.Issuer },
        { "wrong aud", IdTokenProblem.Audience },
        { "two audiences without azp", IdTokenProblem.AuthorizedParty },
        { "azp of another client", IdTokenProblem.AuthorizedParty },
        { "wrong nonce", IdTokenProblem.Nonce },
        { "no nonce", IdTokenProblem.Nonce },
        { "expired", IdTokenProblem.Expired },
        { "issued in the future", IdTokenProblem.IssuedAt },
        { "no sub", IdTokenProblem.Subject },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task ClaimThatDoesNotMatch_IsRefused(string change, IdTokenProblem expected)
    {
        var claims = Claims();
        switch (change)
        {
            case "wrong iss": claims["iss"] = "https://evil.example"; break;
            case "wrong aud": claims["aud"] = "someone-else"; break;
            case "two audiences without azp": claims["aud"] = new[] { ClientId, "someone-else" }; break;
            case "azp of another client": claims["azp"] = "someone-else"; break;
            case "wrong nonce": claims["nonce"] = "other"; break;
            case "no nonce": claims.Remove("nonce"); break;
            case "expired": claims["exp"] = (Now - TimeSpan.FromMinutes(5)).ToUnixTimeSeconds(); break;
            case "issued in the future": claims["iat"] = (Now + TimeSpan.FromMinutes(5)).ToUnixTimeSeconds(); break;
            case "no sub": claims.Remove("sub"); break;
        }

        var (_, problem) = await ValidateAsync(Sign(claims));

        Assert.Equal(expected, problem);
    }

    [Fact]
    public async Task TwoAudiencesWithOurAzp_IsValid()
    {
        var claims = Claims();
        claims["aud"] = new[] { ClientId, "someone-else" };
        claims["azp"] = ClientId;

        Assert.Null((await ValidateAsync(Sign(claims))).Problem);
    }

    [Fact]
    public async Task BadSignature_IsRefused()
    {
        var token = Sign(Claims());
        var tampered = token[..^4] + (token[^4] == 'A' ? "B" : "A") + token[^3..];

        Assert.Equal(IdTokenProblem.Signature, (await ValidateAsync(tampered)).Problem);
    }

    [Fact]
    public async Task SignedByAnotherKeyWithTheSameKid_IsRefused()
    {
        using var other = RSA.Create(2048);
        var token = Sign(Claims(), new SigningCredentials(new RsaSecurityKey(other) { KeyId = "k1" }, SecurityAlgorithms.RsaSha256));

        Assert.Equal(IdTokenProblem.Signature, (await ValidateAsync(token)).Problem);
    }

    [Fact]
    public async Task AlgNone_IsRefused()
    {
        var unsigned = Part("{\"alg\":\"none\",\"kid\":\"k1\"}") + "." + Part(System.Text.Json.JsonSerializer.Serialize(Claims())) + ".";

        Assert.NotNull((await ValidateAsync(unsigned)).Problem);
    }

    [Fact]
    public async Task Hs256_SignedWithThePublicKeyAsSecret_IsRefusedAsAnAlgorithm()
    {
        var secret = new SymmetricSecurityKey(_rsa.ExportSubjectPublicKeyInfo()) { KeyId = "k1" };
        var token = Sign(Claims(), new SigningCredentials(secret, SecurityAlgorithms.HmacSha256));

        Assert.Equal(IdTokenProblem.Algorithm, (await ValidateAsync(token)).Problem);
    }

    [Fact]
    public async Task AnAlgorithmTheProviderDoesNotAdvertise_IsRefused()
    {
        var (_, problem) = await IdTokenValidator.ValidateAsync(Sign(Claims()),
            new IdTokenExpectations(Issuer, ClientId, Nonce, [_publicJwk], [SecurityAlgorithms.EcdsaSha256], Now));

        Assert.Equal(IdTokenProblem.Algorithm, problem);
    }

    [Fact]
    public async Task UnknownKid_AsksForTheKeysAgain()
    {
        var token = Sign(Claims(), new SigningCredentials(new RsaSecurityKey(_rsa) { KeyId = "k2" }, SecurityAlgorithms.RsaSha256));

        Assert.Equal(IdTokenProblem.UnknownKey, (await ValidateAsync(token)).Problem);
    }

    [Fact]
    public async Task NotAJwt_IsMalformed()
    {
        Assert.Equal(IdTokenProblem.Malformed, (await ValidateAsync("not-a-token")).Problem);
    }

    private Task<(ValidatedIdToken? Token, IdTokenProblem? Problem)> ValidateAsync(string token) =>
        IdTokenValidator.ValidateAsync(token, new IdTokenExpectations(Issuer, ClientId, Nonce, [_publicJwk], null, Now));

    private static Dictionary<string, object> Claims() => new()
    {
        ["iss"] = Issuer,
        ["sub"] = "alice",
        ["aud"] = ClientId,
        ["nonce"] = Nonce,
        ["iat"] = Now.ToUnixTimeSeconds(),
        ["exp"] = (Now + TimeSpan.FromMinutes(5)).ToUnixTimeSeconds(),
        ["given_name"] = "Alice",
    };

    private string Sign(Dictionary<string, object> claims, SigningCredentials? credentials = null) =>
        new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(
            System.Text.Json.JsonSerializer.Serialize(claims), credentials ?? new SigningCredentials(_signingKey, SecurityAlgorithms.RsaSha256));

    private static string Part(string json) => Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(json));
}
