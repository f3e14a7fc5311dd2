using System.Diagnostics.Metrics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Issuer2.Core.Common;
using Issuer2.Core.Credentials;
using Issuer2.Core.Events;
using Issuer2.Core.Metadata;
using Issuer2.Core.Nonces;
using Issuer2.Core.Notifications;
using Issuer2.Core.Offers;
using Issuer2.Core.Sessions;
using Issuer2.Core.Tokens;
using Issuer2.Core.Wallet;

namespace Issuer2.Core.Tests.Fakes;

/// <summary>
/// The wallet flow and the event feed wired as the host wires them (one snapshot cache, signer cache and stream
/// count per host), and the steps a wallet takes, for tests that start further along the flow.
/// </summary>
internal sealed partial class TestBed
{
    /// <summary>The PIN of offers made by <see cref="PinCommand"/>.</summary>
    public const string Pin = "493817";

    private const string OfferUriPrefix = "openid-credential-offer://?credential_offer_uri=";

    public CountingEventNotifier Notifier { get; } = new();
    public TenantSnapshotCache SnapshotCache { get; } = new();
    public EventStreams Streams { get; } = new(new TestMeterFactory());
    public InMemoryEventReader EventReader => new(Db);
    public TenantDirectory Directory => new(new InMemoryTenantSnapshotStore(Db), SnapshotCache, Clock);
    /// <summary>The refusal coalescing the journal applies; tests may change it at any time.</summary>
    public RefusalCoalescing Coalescing { get; set; } = RefusalCoalescing.Default;

    public IEventJournal Journal => _journal ??= new InMemoryEventJournal(Db, () => Coalescing);
    private InMemoryEventJournal? _journal;
    public NonceService Nonces { get; }
    public ProofValidator Proofs { get; }
    public SignerCache Signers { get; }
    public ResolveOffer ResolveOffer { get; }
    public IssueToken IssueToken { get; }
    public AuthorizeAccessToken AuthorizeAccessToken { get; }
    public IssueCredential IssueCredential { get; }
    public RecordNotification RecordNotification { get; }
    public IssueNonce IssueNonce { get; }
    public EventFeed EventFeed { get; }
    public SessionEvents SessionEvents { get; }

    /// <summary>The tenant's credential issuer identifier: the audience of key proofs.</summary>
    public static string CredentialIssuer => $"{BaseUrl}/{TenantId}";

    /// <summary>A BY_REFERENCE offer command protected by <see cref="Pin"/>.</summary>
    public static CreateOfferCommand PinCommand(int maxUses = 0) => Command(maxUses: maxUses, txCode: new TxCodeOptions(Pin, 0, null, null));

    /// <summary>The typed detail of an event.</summary>
    public static T Detail<T>(IssuerEvent e) => JsonSerializer.Deserialize<T>(e.Detail, CoreJson.Options)!;

    /// <summary>The URI token of a BY_REFERENCE offer, as the wallet reads it from the offer URL.</summary>
    public static string UriToken(CreatedOffer offer)
    {
        var offerUri = Uri.UnescapeDataString(offer.OfferUrl[OfferUriPrefix.Length..]);
        return offerUri[(offerUri.LastIndexOf('/') + 1)..];
    }

    /// <summary>The pre-authorized code of a Credential Offer object.</summary>
    public static string PreAuthorizedCode(string offerJson) =>
        JsonNode.Parse(offerJson)!["grants"]![CredentialOfferDocument.PreAuthorizedGrant]!["pre-authorized_code"]!.GetValue<string>();

    /// <summary>A token request of the pre-authorized code grant.</summary>
    public static TokenRequest PreAuthorized(string code, string? txCode = null, string? authorizationDetails = null) =>
        new(CredentialOfferDocument.PreAuthorizedGrant, code, txCode, authorizationDetails);

    /// <summary>authorization_details asking for one credential configuration.</summary>
    public static string AuthorizationDetailsFor(string configurationId) =>
        $$"""[{"type":"openid_credential","credential_configuration_id":"{{configurationId}}"}]""";

    /// <summary>Creates an offer and returns it, failing the test when the management call refuses.</summary>
    public async Task<CreatedOffer> OfferAsync(CreateOfferCommand? command = null)
    {
        var created = await CreateOfferAsync(command ?? Command());
        return created.Value;
    }

    /// <summary>Resolves a BY_REFERENCE offer and returns the fresh pre-authorized code.</summary>
    public async Task<string> ResolveCodeAsync(CreatedOffer offer)
    {
        var resolved = await ResolveOffer.ExecuteAsync(TenantId, UriToken(offer), default);
        return PreAuthorizedCode(resolved.Value);
    }

    /// <summary>Resolves the offer and redeems its code (with the offer's PIN, if any) for an access token.</summary>
    public async Task<TokenResponse> TokenAsync(CreatedOffer offer, string? authorizationDetails = null)
    {
        var code = await ResolveCodeAsync(offer);
        var token = await IssueToken.ExecuteAsync(TenantId, PreAuthorized(code, offer.Pin, authorizationDetails), default);
        return token.Value;
    }

    /// <summary>The session an access token opens, as the credential endpoint finds it.</summary>
    public async Task<AuthorizedSession> AuthorizeAsync(TokenResponse token)
    {
        var authorized = await AuthorizeAccessToken.ExecuteAsync(TenantId, Bearer(token.AccessToken), default);
        return authorized.Value;
    }

    /// <summary>A new offer's session: offer, resolution, token and authorization.</summary>
    public async Task<AuthorizedSession> SessionAsync(CreatedOffer? offer = null, string? authorizationDetails = null) =>
        await AuthorizeAsync(await TokenAsync(offer ?? await OfferAsync(), authorizationDetails));

    /// <summary>A credential request for the session's configuration with one proof of <paramref name="holder"/> over a fresh c_nonce.</summary>
    public CredentialRequest CredentialRequestFor(HolderKey holder, string configurationId = "employee") =>
        new(configurationId, null, [holder.Proof(CredentialIssuer, Nonces.Mint(TenantId), Clock.GetUtcNow())]);

    /// <summary>Issues the session's credential with a proof of <paramref name="holder"/>.</summary>
    public async Task<CredentialResponse> CredentialAsync(AuthorizedSession session, HolderKey holder)
    {
        var issued = await IssueCredential.ExecuteAsync(session, CredentialRequestFor(holder, session.Access.Session.ConfigurationId), default);
        return issued.Value;
    }

    /// <summary>Commits one event of <paramref name="tenantId"/> now, as a refusal does, and returns it as stored (with its cursor).</summary>
    public Task<IssuerEvent> AppendEventAsync(string tenantId = TenantId, string? sessionId = null, string type = EventTypes.TokenRefused)
    {
        Db.Transaction([IssuerEvent.Create(tenantId, type, Clock.UtcNow(), new EventDetails.TokenRefused("code_used"), "offer1", sessionId, "employee")], () => true);
        return Task.FromResult(Db.Events[^1]);
    }

    private sealed class TestMeterFactory : IMeterFactory
    {
        public Meter Create(MeterOptions options) => new(options);

        public void Dispose()
        {
        }
    }
}
