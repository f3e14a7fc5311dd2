using Issuer2.Core.Events;
using Issuer2.Grpc.V1;
using Npgsql;

namespace Issuer2.Server.Tests.Events;

/// <summary>
/// PostgreSQL hands out sequence numbers in insert order but transactions commit in any order. T1 takes its
/// transaction id first, T2 then appends (a lower sequence) and commits, and T1 appends (a higher sequence) and
/// commits last: a subscriber reading throughout must neither skip T1's event nor deliver T2's before T1 ended.
/// </summary>
public sealed class OutOfOrderCommitTests(StreamingPostgresFixture fixture) : IClassFixture<StreamingPostgresFixture>
{
    [Fact]
    public async Task OlderTransactionAppendsLastAndCommitsLast_SubscriberReadingThroughout_ReceivesBothOnceInTransactionOrder()
    {
        var tenant = await fixture.CreateTenantAsync();
        var client = EventClients.For(fixture.Host.Channel, tenant.ApiKey);
        // The tenant's own first events, once visible, are behind "now": another test's open transaction on the
        // cluster may hold them back for a moment, and a subscriber from now would then rightly receive them.
        await EventClients.ListAtLeastAsync(client, tenant.Name, 2);
        await using var subscription = EventSubscription.Start(client, EventClients.FromNow(tenant.Name));
        await subscription.NextHeartbeatAsync();

        await using var first = await OpenAsync();
        await using var t1 = await first.BeginTransactionAsync();
        var t1Id = await ScalarAsync(first, t1, "SELECT (pg_current_xact_id()::text)::bigint");

        await using var second = await OpenAsync();
        EventCursor t2Event;
        await using (var t2 = await second.BeginTransactionAsync())
        {
            t2Event = await AppendAsync(second, t2, tenant.TenantId, "t2");
            await t2.CommitAsync();
        }

        // While T1 is open, T2's event is held back: heartbeats keep coming, each below T1's transaction.
        var whileOpen = new List<Heartbeat>();
        for (var i = 0; i < 5; i++)
        {
            whileOpen.Add(await subscription.NextHeartbeatAsync());
        }

        var receivedWhileOpen = subscription.Received.ToList();
        var t1Event = await AppendAsync(first, t1, tenant.TenantId, "t1");
        await t1.CommitAsync();
        var both = await subscription.NextEventsAsync(2);
        await subscription.NextHeartbeatAsync();

        Assert.True(t1Id < t2Event.TransactionId, $"T1 {t1Id} did not take the lower transaction id ({t2Event})");
        Assert.True(t1Event.Sequence > t2Event.Sequence, $"T1's sequence {t1Event.Sequence} is not above T2's {t2Event.Sequence}");
        Assert.Empty(receivedWhileOpen);
        Assert.All(whileOpen, h => Assert.True(fixture.Host.PositionOf(tenant.TenantId, h.Cursor) < t1Event, $"heartbeat {h.Cursor} is not below T1's event {t1Event}"));
        Assert.Equal(new[] { t1Event, t2Event }.Select(p => fixture.Host.CursorAt(tenant.TenantId, p)), both.Select(e => e.Cursor));
        Assert.Equal(new[] { "t1", "t2" }, both.Select(e => e.OfferRevoked.Cause));
        Assert.Equal(2, subscription.Received.Count);
        Assert.Equal(both, await EventClients.ListAllAsync(client, tenant.Name, afterCursor: whileOpen[^1].Cursor));
    }

    private async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(fixture.Database.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    private static async Task<long> ScalarAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Inserts an offer.revoked event of the tenant in the transaction; returns its cursor.</summary>
    private static async Task<EventCursor> AppendAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string tenantId, string cause)
    {
        await using var command = new NpgsqlCommand(
            """
            INSERT INTO events (tenant_id, type, occurred_at, offer_id, session_id, profile_id, detail)
            VALUES ($1, 'offer.revoked', now(), NULL, NULL, NULL, $2)
            RETURNING transaction_id, sequence
            """,
            connection,
            transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = tenantId });
        command.Parameters.Add(new NpgsqlParameter { Value = $$"""{"cause":"{{cause}}"}""" });
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return new EventCursor(reader.GetInt64(0), reader.GetInt64(1));
    }
}
