using Grpc.Core;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Events;

namespace Issuer2.Server.Tests.Faults;

/// <summary>What the ledger found: totals over the tenant's offers.</summary>
public sealed record LedgerTotals(int Sessions, int Credentials, int TokenIssuedEvents, int CredentialIssuedEvents);

/// <summary>
/// The exactly-once books of a tenant after a fault, read through the management API only (OfferService GetOffer
/// and ListOfferSessions, SessionEventsService ListEvents), checked against each other and against what the wallets
/// were told.
/// </summary>
public static class IssuanceLedger
{
    private static readonly TimeSpan EventsBound = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Every offer's use count equals its sessions and its issued count its credentials; no session holds two
    /// credentials; the log holds exactly one TOKEN_ISSUED per session and one CREDENTIAL_ISSUED per credential, and no
    /// other; and per offer, what the wallets were told was done was done (no success it could not prove), while
    /// anything done beyond it had an attempt whose answer was lost (nothing applied twice).
    /// </summary>
    public static async Task<LedgerTotals> AssertConsistentAsync(ChannelBase channel, FaultTenant tenant, IReadOnlyList<FlowRecord> flows)
    {
        var offers = tenant.ClientsOn(channel).Offers;
        var sessions = new Dictionary<string, IssuanceSession>(StringComparer.Ordinal);
        var credentialIds = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < tenant.Offers.Count; i++)
        {
            var name = tenant.Offers[i].Offer.Name;
            var offer = (await offers.GetOfferAsync(new GetOfferRequest { Name = name })).Offer;
            var offerSessions = await SessionsAsync(offers, name);
            Assert.True(offer.UseCount == offerSessions.Count, $"{name}: use count {offer.UseCount}, {offerSessions.Count} sessions");
            Assert.True(offer.UseCount <= offer.MaxUses, $"{name}: use count {offer.UseCount} over {offer.MaxUses} uses");
            foreach (var session in offerSessions)
            {
                Assert.True(session.Credentials.Count <= 1, $"{session.Name} holds {session.Credentials.Count} credentials");
                Assert.True(sessions.TryAdd(session.Name, session), $"{session.Name} listed twice");
                foreach (var credential in session.Credentials)
                {
                    Assert.True(credentialIds.Add(credential.CredentialId), $"credential {credential.CredentialId} listed twice");
                }
            }

            var issued = offerSessions.Sum(s => s.Credentials.Count);
            Assert.True(offer.IssuedCredentialCount == issued, $"{name}: issued count {offer.IssuedCredentialCount}, {issued} credentials in its sessions");

            // What the wallets were told against what is stored.
            var mine = flows.Where(f => f.OfferIndex == i).ToList();
            var told = mine.Count(f => f.TokenReceived);
            var unknown = mine.Count(f => !f.TokenReceived && f.TokenOutcomeUnknown);
            Assert.True(told <= offer.UseCount && offer.UseCount <= told + unknown,
                $"{name}: {told} tokens answered, {unknown} token outcomes unknown, but {offer.UseCount} uses stored");
            var credentialsTold = mine.Count(f => f.CredentialReceived);
            var credentialsUnknown = mine.Count(f => !f.CredentialReceived && f.CredentialOutcomeUnknown);
            Assert.True(credentialsTold <= issued && issued <= credentialsTold + credentialsUnknown,
                $"{name}: {credentialsTold} credentials answered, {credentialsUnknown} outcomes unknown, but {issued} stored");
        }

        // Note: the log is read only below every transaction still open on the cluster (docs/session-events.md), and
        // other tests hold transactions open on a shared one: events held back appear once those end, so read again.
        var events = tenant.EventsOn(channel);
        var deadline = DateTime.UtcNow + EventsBound;
        IReadOnlyList<Event> tokenIssued, credentialIssued;
        Dictionary<string, int> perSession, perCredential;
        while (true)
        {
            tokenIssued = await EventClients.ListAllAsync(events, tenant.Tenant.Name, new EventFilter { EventTypes = { EventType.TokenIssued } });
            credentialIssued = await EventClients.ListAllAsync(events, tenant.Tenant.Name, new EventFilter { EventTypes = { EventType.CredentialIssued } });
            perSession = tokenIssued.GroupBy(e => e.Session, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            perCredential = credentialIssued.GroupBy(e => e.CredentialIssued.CredentialId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            if ((perSession.Keys.ToHashSet(StringComparer.Ordinal).SetEquals(sessions.Keys) && perCredential.Keys.ToHashSet(StringComparer.Ordinal).SetEquals(credentialIds))
                || DateTime.UtcNow > deadline)
            {
                break;
            }

            await Task.Delay(250);
        }

        Assert.All(perSession, p => Assert.True(p.Value == 1, $"{p.Key}: {p.Value} TOKEN_ISSUED events"));
        Assert.Equal(sessions.Keys.Order(StringComparer.Ordinal), perSession.Keys.Order(StringComparer.Ordinal));
        Assert.All(perCredential, p => Assert.True(p.Value == 1, $"credential {p.Key}: {p.Value} CREDENTIAL_ISSUED events"));
        Assert.Equal(credentialIds.Order(StringComparer.Ordinal), perCredential.Keys.Order(StringComparer.Ordinal));

        return new LedgerTotals(sessions.Count, credentialIds.Count, tokenIssued.Count, credentialIssued.Count);
    }

    private static async Task<List<IssuanceSession>> SessionsAsync(OfferService.OfferServiceClient offers, string offerName)
    {
        var sessions = new List<IssuanceSession>();
        var token = "";
        for (var page = 0; page < 100; page++)
        {
            var response = await offers.ListOfferSessionsAsync(new ListOfferSessionsRequest { Parent = offerName, PageSize = 200, PageToken = token });
            sessions.AddRange(response.Sessions);
            token = response.NextPageToken;
            if (token.Length == 0)
            {
                return sessions;
            }
        }

        throw new InvalidOperationException($"{offerName}: more than 100 pages of sessions");
    }
}
