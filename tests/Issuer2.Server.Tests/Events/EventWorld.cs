using System.Net;
using System.Text.Json.Nodes;
using Issuer2.Core.Common;
using Issuer2.Core.Events;
using Issuer2.Server.Tests.Infrastructure;
using Issuer2.Server.Tests.Wallet;
using Microsoft.Extensions.DependencyInjection;

namespace Issuer2.Server.Tests.Events;

/// <summary>What the event tests do to make events: whole issuances by a C# wallet, and bursts of appended events.</summary>
public static class EventWorld
{
    /// <summary>
    /// A whole pre-authorized issuance by a C# wallet: resolve the offer, redeem the code, fetch a nonce, request the
    /// credential with a proof made at <paramref name="proofTime"/>, and send a credential_accepted notification.
    /// Returns the access token and the credential's notification id.
    /// </summary>
    public static async Task<(string AccessToken, string NotificationId)> IssueAsync(
        TestWallet wallet, string tenantId, string credentialIssuer, string configurationId, string offerUrl, DateTimeOffset proofTime)
    {
        using var key = new HolderKey();
        var token = await wallet.AccessTokenAsync(tenantId, offerUrl);
        var nonce = await wallet.FreshNonceAsync(tenantId);
        var credential = await wallet.CredentialAsync(tenantId, token,
            TestWallet.CredentialRequest(configurationId, key.Proof(credentialIssuer, nonce, proofTime)));
        Assert.True(credential.Status == HttpStatusCode.OK, $"credential: {credential}");
        var notification = await wallet.NotificationAsync(tenantId, token,
            new JsonObject { ["notification_id"] = credential.Text("notification_id"), ["event"] = "credential_accepted" });
        Assert.True(notification.Status == HttpStatusCode.NoContent, $"notification: {notification}");
        return (token, credential.Text("notification_id"));
    }

    /// <summary>Sends a notification of this event for an issued credential.</summary>
    public static async Task NotifyAsync(TestWallet wallet, string tenantId, (string AccessToken, string NotificationId) issued, string kind)
    {
        var notification = await wallet.NotificationAsync(tenantId, issued.AccessToken,
            new JsonObject { ["notification_id"] = issued.NotificationId, ["event"] = kind });
        Assert.True(notification.Status == HttpStatusCode.NoContent, $"notification: {notification}");
    }

    /// <summary>
    /// Appends <paramref name="count"/> offer.revoked events of the tenant through the host's own event log, committed
    /// in batches (each commit wakes the subscribers as a real write does). Each carries a cause of
    /// <paramref name="causeLength"/> characters, so a few thousand fill any HTTP/2 window.
    /// </summary>
    public static async Task AppendAsync(IssuerTestHost host, string tenantId, int count, int causeLength = 16, int batch = 500)
    {
        var cause = new string('x', causeLength);
        for (var done = 0; done < count; done += batch)
        {
            await using var scope = host.App.Services.CreateAsyncScope();
            var log = scope.ServiceProvider.GetRequiredService<IEventLog>();
            for (var i = done; i < Math.Min(count, done + batch); i++)
            {
                log.Append(IssuerEvent.Create(tenantId, EventTypes.OfferRevoked, host.Time.GetUtcNow(), new EventDetails.OfferRevoked(cause)));
            }

            await scope.ServiceProvider.GetRequiredService<IUnitOfWork>().SaveChangesAsync(CancellationToken.None);
        }
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or <paramref name="bound"/> passed; returns whether it held.</summary>
    public static async Task<bool> EventuallyAsync(Func<bool> condition, TimeSpan bound)
    {
        var deadline = DateTime.UtcNow + bound;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(20);
        }

        return true;
    }
}
