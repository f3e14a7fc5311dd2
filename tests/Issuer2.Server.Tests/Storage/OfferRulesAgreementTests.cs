using Issuer2.Core.Events;
using Issuer2.Core.Offers;
using Issuer2.Core.Tokens;
using Issuer2.Server.Tests.Infrastructure;
using Issuer2.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Issuer2.Server.Tests.Storage;

/// <summary>
/// Core decides whether an offer or a code can be used (<see cref="OfferRules"/>, <see cref="CodeRules"/>); storage
/// enforces the same rules in SQL built from them. On a real database, for offers in every state, the Core
/// decision, the LINQ filter EF translates and the SQL of the conditional updates must agree.
/// </summary>
public abstract class OfferRulesAgreementTests(ServerFixture fixture)
{
    private const int PinLimit = 5;

    /// <summary>Offer records by name, each with the state Core must give it.</summary>
    private static readonly Dictionary<string, OfferState> _cases = new()
    {
        ["fresh"] = OfferState.Active,
        ["one use left, some wrong PINs"] = OfferState.Active,
        ["expires at this instant"] = OfferState.Expired,
        ["expired"] = OfferState.Expired,
        ["revoked"] = OfferState.Revoked,
        ["used up"] = OfferState.UsedUp,
        ["locked"] = OfferState.Locked,
        ["revoked, locked, used up and expired"] = OfferState.Revoked,
        ["locked and expired"] = OfferState.Locked,
        ["used up and expired"] = OfferState.UsedUp,
        ["at the PIN limit but not locked"] = OfferState.Active,
        ["counts no uses"] = OfferState.Active,
        ["counts no uses, expired"] = OfferState.Expired,
        ["counts no uses, revoked"] = OfferState.Revoked,
    };

    [Fact]
    public async Task OfferState_CoreLinqAndSql_AgreeOnEveryState()
    {
        var (offers, now) = await SeedAsync();
        await using var scope = fixture.Host.App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IssuerDbContext>();
        var ids = offers.Values.Select(o => o.Id).ToArray();

        foreach (var state in Enum.GetValues<OfferState>())
        {
            var expected = offers.Where(o => _cases[o.Key] == state).Select(o => o.Value.Id).Order().ToList();
            var byLinq = await db.Offers.AsNoTracking().Where(o => ids.Contains(o.Id)).Where(OfferRules.InState(state).Bind(now)).Select(o => o.Id).ToListAsync();
            var bySql = await MatchingAsync(db, offers.Values, OfferRules.InState(state), now);

            Assert.Equal(expected, byLinq.Order().ToList());
            Assert.Equal(expected, bySql);
        }
        foreach (var (name, offer) in offers)
        {
            Assert.Equal(_cases[name], offer.StateAt(now));
        }
        // Usable: active and counting uses, with one left; an offer that counts no uses (MaxUses 0) never is.
        var usable = offers.Where(o => o.Value.StateAt(now) == OfferState.Active && o.Value.MaxUses > 0).Select(o => o.Value.Id).Order().ToList();
        Assert.Equal(usable, offers.Values.Where(o => OfferRules.Usable.IsMetBy(o, now)).Select(o => o.Id).Order().ToList());
        Assert.Equal(usable, await MatchingAsync(db, offers.Values, OfferRules.Usable, now));
        Assert.Equal(usable, (await db.Offers.AsNoTracking().Where(o => ids.Contains(o.Id)).Where(OfferRules.Usable.Bind(now)).Select(o => o.Id).ToListAsync()).Order().ToList());
        Assert.DoesNotContain(offers["counts no uses"].Id, usable);
    }

    [Fact]
    public async Task WrongPinCount_TheConditionalUpdate_CountsExactlyWhereCoreSaysItCounts()
    {
        var (offers, now) = await SeedAsync();

        foreach (var (name, offer) in offers)
        {
            await using var scope = fixture.Host.App.Services.CreateAsyncScope();
            var store = scope.ServiceProvider.GetRequiredService<ITokenRedemptionStore>();
            var counts = OfferRules.CountsWrongPin.IsMetBy(offer, PinLimit);

            var counted = await store.CountWrongPinAsync(offer, offer.PinFailedAttempts, PinLimit, null, [], CancellationToken.None);
            var stale = await store.CountWrongPinAsync(offer, offer.PinFailedAttempts, PinLimit, null, [], CancellationToken.None);
            var after = await store.FindOfferAsync(offer.TenantId, offer.Id, CancellationToken.None);

            Assert.True(counts == counted, $"{name}: Core says {counts}, the update counted {counted}");
            Assert.False(stale, $"{name}: a count from a stale read was taken");
            Assert.Equal(offer.PinFailedAttempts + (counts ? 1 : 0), after!.Offer.PinFailedAttempts);
        }
        Assert.Equal(
            ["fresh", "one use left, some wrong PINs", "expires at this instant", "expired", "used up", "used up and expired", "counts no uses", "counts no uses, expired"],
            offers.Where(o => OfferRules.CountsWrongPin.IsMetBy(o.Value, PinLimit)).Select(o => o.Key));
    }

    [Fact]
    public async Task CodeRedeemable_CoreAndSql_Agree()
    {
        var (offers, now) = await SeedAsync();
        var offer = offers["fresh"];
        PreAuthorizedCode Code(string id, DateTimeOffset expiresAt, DateTimeOffset? consumedAt) => new()
        {
            CodeHash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(offer.Id + id)),
            TenantId = offer.TenantId, OfferId = offer.Id, CreatedAt = now - TimeSpan.FromMinutes(1), ExpiresAt = expiresAt, ConsumedAt = consumedAt,
        };
        var codes = new Dictionary<string, PreAuthorizedCode>
        {
            ["fresh"] = Code("fresh", now + TimeSpan.FromMinutes(5), null),
            ["expires at this instant"] = Code("edge", now, null),
            ["expired"] = Code("expired", now - TimeSpan.FromSeconds(1), null),
            ["used"] = Code("used", now + TimeSpan.FromMinutes(5), now - TimeSpan.FromSeconds(5)),
            ["used and expired"] = Code("both", now - TimeSpan.FromSeconds(1), now - TimeSpan.FromSeconds(5)),
        };
        await using var scope = fixture.Host.App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IssuerDbContext>();
        db.PreAuthorizedCodes.AddRange(codes.Values);
        await db.SaveChangesAsync();

        var redeemable = new List<bool>();
        await using (var sql = new SqlBatch(db))
        {
            foreach (var code in codes.Values)
                sql.Add($"SELECT 1 FROM pre_authorized_codes WHERE code_hash = {sql.P(code.CodeHash)} AND {SqlCondition.Render(CodeRules.Redeemable, now, sql, db)}");
            redeemable.AddRange((await sql.RowsPerStatementAsync(CancellationToken.None)).Select(rows => rows == 1));
        }

        Assert.Equal(codes.Values.Select(c => CodeRules.Redeemable.IsMetBy(c, now)), redeemable);
        Assert.Equal(["fresh"], codes.Where(c => CodeRules.Redeemable.IsMetBy(c.Value, now)).Select(c => c.Key));
    }

    /// <summary>The ids of <paramref name="offers"/> that the SQL written from <paramref name="condition"/> selects, ordered.</summary>
    private static async Task<List<string>> MatchingAsync(
        IssuerDbContext db, IEnumerable<Offer> offers, Core.Common.Condition<Offer, DateTimeOffset> condition, DateTimeOffset now)
    {
        var list = offers.ToList();
        await using var sql = new SqlBatch(db);
        foreach (var offer in list) sql.Add($"SELECT 1 FROM offers WHERE id = {sql.P(offer.Id)} AND {SqlCondition.Render(condition, now, sql, db)}");
        var rows = await sql.RowsPerStatementAsync(CancellationToken.None);
        return list.Where((_, i) => rows[i] == 1).Select(o => o.Id).Order().ToList();
    }

    /// <summary>One offer per case in a fresh tenant, written straight to the database; their records as read back, and "now".</summary>
    private async Task<(Dictionary<string, Offer> Offers, DateTimeOffset Now)> SeedAsync()
    {
        var tenant = await fixture.CreateTenantAsync();
        var profile = await ServerFixture.CreateProfileAsync(tenant);
        var now = Core.Common.Clock.ToMicroseconds(fixture.Now);
        await using var scope = fixture.Host.App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IssuerDbContext>();
        var stored = await db.Profiles.AsNoTracking().SingleAsync(p => p.TenantId == tenant.TenantId && p.ProfileId == profile.ProfileId);

        Offer Make(int maxUses = 3, int uses = 0, TimeSpan? expiresIn = null, bool revoked = false, bool locked = false, int pinAttempts = 0) => new()
        {
            Id = Core.Common.Ids.New(),
            TenantId = tenant.TenantId,
            ProfileId = stored.ProfileId,
            ProfileUid = stored.Uid,
            ProfileVersion = stored.Version,
            // An offer that counts no uses is an AUTHORIZED one without issuer_state (wallet-initiated issuance).
            Method = maxUses == OfferRules.CountsNoUses ? Core.Tenants.AuthenticationMethod.Authorized : Core.Tenants.AuthenticationMethod.PreAuthorized,
            Delivery = DeliveryMode.ByReference,
            IssuerStateMode = IssuerStateMode.Omit,
            UriTokenHash = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32),
            MaxUses = maxUses,
            UseCount = uses,
            PinFailedAttempts = pinAttempts,
            CreatedAt = now - TimeSpan.FromHours(1),
            ExpiresAt = now + (expiresIn ?? TimeSpan.FromHours(1)),
            RevokedAt = revoked ? now - TimeSpan.FromMinutes(1) : null,
            LockedAt = locked ? now - TimeSpan.FromMinutes(2) : null,
        };
        var past = TimeSpan.FromSeconds(-1);
        var offers = new Dictionary<string, Offer>
        {
            ["fresh"] = Make(),
            ["one use left, some wrong PINs"] = Make(uses: 2, pinAttempts: 3),
            ["expires at this instant"] = Make(expiresIn: TimeSpan.Zero),
            ["expired"] = Make(expiresIn: past),
            ["revoked"] = Make(revoked: true),
            ["used up"] = Make(uses: 3),
            ["locked"] = Make(locked: true, pinAttempts: PinLimit),
            ["revoked, locked, used up and expired"] = Make(uses: 3, expiresIn: past, revoked: true, locked: true, pinAttempts: PinLimit),
            ["locked and expired"] = Make(expiresIn: past, locked: true, pinAttempts: PinLimit),
            ["used up and expired"] = Make(uses: 3, expiresIn: past),
            ["at the PIN limit but not locked"] = Make(pinAttempts: PinLimit),
            ["counts no uses"] = Make(maxUses: OfferRules.CountsNoUses),
            ["counts no uses, expired"] = Make(maxUses: OfferRules.CountsNoUses, expiresIn: past),
            ["counts no uses, revoked"] = Make(maxUses: OfferRules.CountsNoUses, revoked: true),
        };
        db.Offers.AddRange(offers.Values);
        await db.SaveChangesAsync();
        var ids = offers.Values.Select(o => o.Id).ToArray();
        var read = await db.Offers.AsNoTracking().Where(o => ids.Contains(o.Id)).ToDictionaryAsync(o => o.Id);
        return (offers.ToDictionary(o => o.Key, o => read[o.Value.Id]), now);
    }
}

public sealed class OfferRulesAgreementTests_Sqlite(SqliteServerFixture fixture)
    : OfferRulesAgreementTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class OfferRulesAgreementTests_Postgres(PostgresServerFixture fixture)
    : OfferRulesAgreementTests(fixture), IClassFixture<PostgresServerFixture>;
