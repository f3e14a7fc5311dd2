using System.Text.Json;
using System.Text.Json.Nodes;
using Issuer2.Server.Tests.Infrastructure;

namespace Issuer2.Server.Tests.Wallet;

/// <summary>
/// Credential requests that mix the 1.0 and draft-13 shapes, or are half-formed draft-13 requests: each gets its
/// error in the right version's words (draft 13's invalid_proof with a fresh c_nonce), never a 500, and changes
/// nothing but one credential.refused event naming the version (compared on a snapshot of every table).
/// </summary>
public abstract class Draft13ShapeTests(ServerFixture fixture)
{
    /// <summary>A row: the body (from the world, a valid proof and the granted configuration), the answer, and the version its event names.</summary>
    private sealed record Row(Func<BadInputWorld, string, JsonObject> Body, int Status, string Error, bool CNonce, string? Version);

    private static JsonObject Proof(string jwt) => new() { ["proof_type"] = "jwt", ["jwt"] = jwt };

    private static JsonObject Draft13(BadInputWorld w, string jwt) => new() { ["format"] = "vc+sd-jwt", ["vct"] = w.Granted.Vct, ["proof"] = Proof(jwt) };

    private static JsonObject With(JsonObject body, params (string Name, JsonNode? Value)[] members)
    {
        foreach (var (name, value) in members)
        {
            if (value is null)
            {
                body.Remove(name);
            }
            else
            {
                body[name] = value;
            }
        }

        return body;
    }

    private const string Icr = "invalid_credential_request";
    private const string V1 = "v1";
    private const string D13 = "draft13";

    private static readonly Dictionary<string, Row> Rows = new(StringComparer.Ordinal)
    {
        // ---- mixed shapes: invalid_credential_request, no version ----
        ["format with proofs"] = new((w, p) => With(w.CredentialBody(p), ("format", "vc+sd-jwt"), ("vct", w.Granted.Vct)), 400, Icr, false, null),
        ["format with proofs, no configuration id"] =
            new((w, p) => With(w.CredentialBody(p), ("credential_configuration_id", null), ("format", "dc+sd-jwt"), ("vct", w.Granted.Vct)), 400, Icr, false, null),
        ["vct with proofs"] = new((w, p) => With(w.CredentialBody(p), ("vct", w.Granted.Vct)), 400, Icr, false, null),
        ["credential_configuration_id with proof"] =
            new((w, p) => new JsonObject { ["credential_configuration_id"] = w.Granted.ProfileId, ["proof"] = Proof(p) }, 400, Icr, false, null),
        ["proof and proofs"] = new((w, p) => With(w.CredentialBody(p), ("proof", Proof(p))), 400, Icr, false, null),
        ["draft-13 request with proofs instead of proof"] =
            new((w, p) => With(Draft13(w, p), ("proof", null), ("proofs", new JsonObject { ["jwt"] = new JsonArray(p) })), 400, Icr, false, null),

        // ---- half-formed draft 13: its codes, invalid_proof with a c_nonce ----
        ["proof with an unknown proof_type"] = new((w, p) => With(Draft13(w, p), ("proof", new JsonObject { ["proof_type"] = "cwt", ["cwt"] = p })), 400, "invalid_proof", true, D13),
        ["proof with proof_type JWT"] = new((w, p) => With(Draft13(w, p), ("proof", new JsonObject { ["proof_type"] = "JWT", ["jwt"] = p })), 400, "invalid_proof", true, D13),
        ["proof without proof_type"] = new((w, p) => With(Draft13(w, p), ("proof", new JsonObject { ["jwt"] = p })), 400, "invalid_proof", true, D13),
        ["proof without jwt"] = new((w, p) => With(Draft13(w, p), ("proof", new JsonObject { ["proof_type"] = "jwt" })), 400, "invalid_proof", true, D13),
        ["proof.jwt an array"] = new((w, p) => With(Draft13(w, p), ("proof", new JsonObject { ["proof_type"] = "jwt", ["jwt"] = new JsonArray(p) })), 400, "invalid_proof", true, D13),
        ["proof a string"] = new((w, p) => With(Draft13(w, p), ("proof", p)), 400, "invalid_proof", true, D13),
        ["format without proof"] = new((w, p) => With(Draft13(w, p), ("proof", null)), 400, "invalid_proof", true, D13),
        ["proof not a JWT"] = new((w, p) => Draft13(w, "not-a-jwt"), 400, "invalid_proof", true, D13),
        ["format without vct"] = new((w, p) => With(Draft13(w, p), ("vct", null)), 400, Icr, false, D13),
        ["vct without format"] = new((w, p) => With(Draft13(w, p), ("format", null)), 400, Icr, false, D13),
        ["format and credential_identifier"] = new((w, p) => With(Draft13(w, p), ("credential_identifier", w.Granted.ProfileId)), 400, Icr, false, D13),
        ["format a number"] = new((w, p) => With(Draft13(w, p), ("format", 13)), 400, Icr, false, D13),
        ["claims an array"] = new((w, p) => With(Draft13(w, p), ("claims", new JsonArray())), 400, Icr, false, D13),
        ["format mso_mdoc"] = new((w, p) => With(Draft13(w, p), ("format", "mso_mdoc"), ("vct", null), ("doctype", "org.iso.18013.5.1.mDL")), 400, "unsupported_credential_format", false, D13),
        ["format jwt_vc_json"] = new((w, p) => With(Draft13(w, p), ("format", "jwt_vc_json")), 400, "unsupported_credential_format", false, D13),
        ["vct no profile has"] = new((w, p) => With(Draft13(w, p), ("vct", "https://nobody.example/vct")), 400, "unsupported_credential_type", false, D13),
        ["credential_identifier not issued with the token"] =
            new((w, p) => new JsonObject { ["credential_identifier"] = w.Granted.ProfileId, ["proof"] = Proof(p) }, 400, Icr, false, D13),
        ["credential_response_encryption"] =
            new((w, p) => With(Draft13(w, p), ("credential_response_encryption", new JsonObject { ["alg"] = "ECDH-ES", ["enc"] = "A128GCM" })), 400, "invalid_encryption_parameters", false, D13),
    };

    public static TheoryData<string> All => [.. Rows.Keys];

    protected async Task RunAsync(string name)
    {
        var row = Rows[name];
        using var world = await BadInputWorld.CreateAsync(fixture);
        var (token, offer) = await world.SessionAsync();
        var body = row.Body(world, world.ValidProof(await world.NonceAsync()));
        await AssertRefusedAsync(world, world.Credential(token, body), row.Status, row.Error, row.CNonce, row.Version, offer.Offer.OfferId);
    }

    /// <summary>Draft 13 §7.3.2 for every nonce a proof may hold but the issuer's fresh one: missing, never minted, used, expired.</summary>
    protected async Task NonceAsync(string which)
    {
        using var world = await BadInputWorld.CreateAsync(fixture);
        string? nonce;
        switch (which)
        {
            case "missing":
                nonce = null;
                break;
            case "never minted":
                nonce = TestEnvironment.RandomText(43);
                break;
            case "used":
                // Consumed by another session's credential.
                nonce = await world.NonceAsync();
                var (otherToken, _) = await world.SessionAsync();
                var first = await world.Wallet.CredentialAsync(world.A.TenantId, otherToken, Draft13(world, world.ValidProof(nonce)));
                Assert.True(first.StatusCode == 200, $"first use: {first}");
                break;
            default:
                // Minted, then outlived (5 minutes); the session is opened after, so its token is fresh.
                nonce = await world.NonceAsync();
                fixture.Time.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));
                break;
        }

        var (token, offer) = await world.SessionAsync();
        var proof = world.Key.Proof(world.Issuer, nonce, world.Now);
        await AssertRefusedAsync(world, world.Credential(token, Draft13(world, proof)), 400, "invalid_proof", true, D13, offer.Offer.OfferId);
    }

    /// <summary>A type of the tenant the token does not grant: RFC 6750's insufficient_scope (draft 13 §7.3.1.1), 403.</summary>
    protected async Task OtherTypeAsync()
    {
        using var world = await BadInputWorld.CreateAsync(fixture);
        var other = await ServerFixture.CreateProfileAsync(world.A, p => p.Vct = "https://credentials.example.com/another_credential");
        var (token, offer) = await world.SessionAsync();
        var body = With(Draft13(world, world.ValidProof(await world.NonceAsync())), ("vct", other.Vct));
        await AssertRefusedAsync(world, world.Credential(token, body), 403, "insufficient_scope", false, D13, offer.Offer.OfferId);
    }

    private async Task AssertRefusedAsync(BadInputWorld world, HttpRequestMessage request, int status, string error, bool cNonce, string? version, string offerId)
    {
        var before = await DatabaseSnapshot.TakeAsync(fixture);
        var reply = await world.Wallet.SendAsync(request);
        var after = await DatabaseSnapshot.TakeAsync(fixture);

        Assert.True(reply.StatusCode < 500, $"a server error: {reply}");
        Assert.True(reply.StatusCode == status && reply.Error == error, $"expected {status} {error}, got {reply}");
        Assert.Equal("application/json", reply.ContentType);
        Assert.Equal("no-store", reply.CacheControl);
        string[] members = cNonce ? ["c_nonce", "c_nonce_expires_in", "error", "error_description"] : ["error", "error_description"];
        Assert.Equal(members, reply.Json.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        if (status == 403)
        {
            Assert.StartsWith("Bearer error=\"insufficient_scope\"", reply.WwwAuthenticate, StringComparison.Ordinal);
        }

        if (cNonce)
        {
            Assert.False(string.IsNullOrEmpty(reply.Json.GetProperty("c_nonce").GetString()));
            Assert.Equal(300, reply.Json.GetProperty("c_nonce_expires_in").GetInt32());
        }

        // Nothing changed but one credential.refused event of the session's offer, with the code sent and the version.
        var delta = DatabaseDelta.Between(before, after);
        Assert.True(delta.Changes.Keys.SequenceEqual(["events"]), $"changed:\n{delta}");
        var (removed, added) = delta.Changes["events"];
        Assert.Empty(removed);
        var refusal = Assert.Single(added);
        Assert.Equal("credential.refused", refusal["type"]);
        Assert.Equal(offerId, refusal["offer_id"]);
        using var detail = JsonDocument.Parse(refusal["detail"]!);
        Assert.Equal(error, detail.RootElement.GetProperty("error").GetString());
        Assert.Equal(version, detail.RootElement.TryGetProperty("version", out var v) ? v.GetString() : null);
    }

    /// <summary>The same refusals in 1.0 shape keep 1.0's codes and carry no c_nonce.</summary>
    protected async Task V1UsedNonceAsync()
    {
        using var world = await BadInputWorld.CreateAsync(fixture);
        var nonce = await world.NonceAsync();
        var (otherToken, _) = await world.SessionAsync();
        var first = await world.Wallet.CredentialAsync(world.A.TenantId, otherToken, world.CredentialBody(world.ValidProof(nonce)));
        Assert.True(first.StatusCode == 200, $"first use: {first}");
        var (token, offer) = await world.SessionAsync();
        await AssertRefusedAsync(world, world.Credential(token, world.CredentialBody(world.ValidProof(nonce))), 400, "invalid_nonce", false, V1, offer.Offer.OfferId);
    }
}

public sealed class Draft13ShapeTests_Sqlite(SqliteServerFixture fixture)
    : Draft13ShapeTests(fixture), IClassFixture<SqliteServerFixture>
{
    [Theory]
    [MemberData(nameof(All))]
    public Task MixedOrHalfFormedShape_GetsItsError_AndChangesNothingButOneRefusal(string row) => RunAsync(row);

    [Theory]
    [InlineData("missing")]
    [InlineData("never minted")]
    [InlineData("used")]
    [InlineData("expired")]
    public Task Draft13Proof_WithoutFreshIssuerNonce_IsInvalidProofWithFreshCNonce(string which) => NonceAsync(which);

    [Fact]
    public Task Draft13Request_ForAnotherTypeOfTheTenant_IsInsufficientScope() => OtherTypeAsync();

    [Fact]
    public Task V1Request_WithUsedNonce_KeepsInvalidNonce() => V1UsedNonceAsync();
}

public sealed class Draft13ShapeTests_Postgres(PostgresServerFixture fixture)
    : Draft13ShapeTests(fixture), IClassFixture<PostgresServerFixture>
{
    [Theory]
    [MemberData(nameof(All))]
    public Task MixedOrHalfFormedShape_GetsItsError_AndChangesNothingButOneRefusal(string row) => RunAsync(row);

    [Theory]
    [InlineData("missing")]
    [InlineData("never minted")]
    [InlineData("used")]
    [InlineData("expired")]
    public Task Draft13Proof_WithoutFreshIssuerNonce_IsInvalidProofWithFreshCNonce(string which) => NonceAsync(which);

    [Fact]
    public Task Draft13Request_ForAnotherTypeOfTheTenant_IsInsufficientScope() => OtherTypeAsync();
}
