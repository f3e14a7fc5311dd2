namespace Issuer2.Server.Tests.Fuzz;

/// <summary>
/// What the fuzzers of the two protected resources (credential, OID4VCI 1.0 §8; notification, §11) share: a POST of a
/// JSON body to the endpoint of tenant A with the access token as a bearer token (RFC 6750 §2.1), its "access token",
/// "method" and "path" mutations, and the refusals that come before the body's meaning.
/// </summary>
public static class BearerRequests
{
    /// <summary>
    /// The method and path of a request to <paramref name="endpoint"/>, and whether a token of A may open it: POST to
    /// tenant A's endpoint; a "method" mutation's method; a "path" mutation's tenant B, where A's token opens nothing.
    /// </summary>
    public static (string Method, string Path, bool Authorized) Target(FuzzWorld world, string endpoint, Mutation m) => m.Kind switch
    {
        "method" => (m.S, $"/{world.A.TenantId}/{endpoint}", true),
        "path" => ("POST", $"/{world.B.TenantId}/{endpoint}", false),
        _ => ("POST", $"/{world.A.TenantId}/{endpoint}", true),
    };

    /// <summary>Whether the server still accepts a valid token sent as the "access token" mutation <paramref name="how"/> sends it.</summary>
    public static bool Accepted(string how) => how is "lower-case scheme" or "extra spaces";

    /// <summary>
    /// The Authorization headers of the "access token" mutation <paramref name="how"/> of a request with
    /// <paramref name="token"/> (<paramref name="tokenOfB"/>: a token of tenant B; <paramref name="seed"/>: the case's
    /// number). A <paramref name="how"/> not named here sends <paramref name="token"/> as it is.
    /// </summary>
    public static List<KeyValuePair<string, string>> Headers(string how, string token, string? tokenOfB, int seed) => how switch
    {
        "missing" or "in the query" => [],
        "Basic" => [new("Authorization", "Basic " + token)],
        "unknown" => [new("Authorization", "Bearer " + Mutations.Letters(43, seed))],
        "of tenant B" => [new("Authorization", "Bearer " + tokenOfB)],
        "truncated" => [new("Authorization", "Bearer " + token[..(seed % token.Length)])],
        "oversized" => [new("Authorization", "Bearer " + token + Mutations.Letters(100, seed))],
        "lower-case scheme" => [new("Authorization", "bearer " + token)],
        "extra spaces" => [new("Authorization", "Bearer   " + token + "  ")],
        "twice" => [new("Authorization", "Bearer " + token), new("Authorization", "Bearer " + token)],
        "DPoP scheme" => [new("Authorization", "DPoP " + token)],
        "empty" => [new("Authorization", "Bearer ")],
        _ => [new("Authorization", "Bearer " + token)],
    };

    /// <summary>
    /// The refusal of a request before its body's meaning counts: a method other than POST (405, Allow: POST), then a
    /// token that opens nothing here (401 invalid_token), then a body the JSON reader refuses (400
    /// <paramref name="invalidRequest"/>); null when it passes all three.
    /// </summary>
    public static Built? Refusal(WireRequest request, bool authorized, JsonBody sent, string invalidRequest)
    {
        if (request.Method != "POST")
        {
            return new Built(request, Expectation.MethodNotAllowed("POST"));
        }

        if (!authorized)
        {
            return new Built(request, Expectation.InvalidToken);
        }

        if (sent.ReaderRefuses)
        {
            return new Built(request, Expectation.BadRequest(invalidRequest));
        }

        return null;
    }
}
