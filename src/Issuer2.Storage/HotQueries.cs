using Issuer2.Core.Events;
using Issuer2.Core.Offers;
using Issuer2.Core.Sessions;
using Issuer2.Core.Tenants;
using Issuer2.Core.Tokens;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Issuer2.Storage;

/// <summary>
/// The wallet flow's hot reads as plain SQL, one round trip each, their rows read by <see cref="RowShape{T}"/> from the
/// provider's model: EF's query pipeline cost about a tenth of the server's CPU per flow (bench/README.md). One set
/// per model, since SQLite and PostgreSQL map times and ids differently and can share a process.
/// </summary>
internal sealed class HotQueries
{
    private readonly RowShape<Offer> _offer;
    private readonly RowShape<PreAuthorizedCode> _code;
    private readonly RowShape<IssuanceSession> _session;
    private readonly RowShape<AccessToken> _token;
    private readonly RowShape<IssuedCredential> _issued;
    private readonly string _offerByUriToken;
    private readonly string _codeByHash;
    private readonly string _sessionByToken;

    public HotQueries(IModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        Events = RowShape<IssuerEvent>.Of(model);
        _offer = RowShape<Offer>.Of(model);
        _code = RowShape<PreAuthorizedCode>.Of(model);
        _session = RowShape<IssuanceSession>.Of(model);
        _token = RowShape<AccessToken>.Of(model);
        _issued = RowShape<IssuedCredential>.Of(model);
        var tenants = model.FindEntityType(typeof(Tenant))!.GetTableMappings().Single().Table.Name;
        var version = Column<Tenant>(model, nameof(Tenant.MetadataVersion));
        var live = $"tn.{Column<Tenant>(model, nameof(Tenant.DeletedAt))} IS NULL";
        var tenantId = Column<Tenant>(model, nameof(Tenant.Id));

        _offerByUriToken = $"SELECT {_offer.Columns("o")}, tn.{version} FROM {_offer.Table} o JOIN {tenants} tn ON tn.{tenantId} = o.{Column<Offer>(model, nameof(Offer.TenantId))} "
            + $"WHERE o.{Column<Offer>(model, nameof(Offer.UriTokenHash))} = {{0}} AND o.{Column<Offer>(model, nameof(Offer.TenantId))} = {{1}} AND {live} LIMIT 1";
        _codeByHash = $"SELECT {_code.Columns("c")}, {_offer.Columns("o")}, tn.{version} FROM {_code.Table} c "
            + $"JOIN {_offer.Table} o ON o.{Column<Offer>(model, nameof(Offer.Id))} = c.{Column<PreAuthorizedCode>(model, nameof(PreAuthorizedCode.OfferId))} "
            + $"JOIN {tenants} tn ON tn.{tenantId} = c.{Column<PreAuthorizedCode>(model, nameof(PreAuthorizedCode.TenantId))} "
            + $"WHERE c.{Column<PreAuthorizedCode>(model, nameof(PreAuthorizedCode.CodeHash))} = {{0}} AND c.{Column<PreAuthorizedCode>(model, nameof(PreAuthorizedCode.TenantId))} = {{1}} AND {live} LIMIT 1";
        // A wallet-initiated session has no offer; (session, configuration) is unique, so at most one issued credential.
        _sessionByToken = $"SELECT {_token.Columns("t")}, {_session.Columns("s")}, {_offer.Columns("o")}, {_issued.Columns("ic")}, tn.{version} FROM {_token.Table} t "
            + $"JOIN {_session.Table} s ON s.{Column<IssuanceSession>(model, nameof(IssuanceSession.Id))} = t.{Column<AccessToken>(model, nameof(AccessToken.SessionId))} "
            + $"JOIN {tenants} tn ON tn.{tenantId} = t.{Column<AccessToken>(model, nameof(AccessToken.TenantId))} "
            + $"LEFT JOIN {_offer.Table} o ON o.{Column<Offer>(model, nameof(Offer.Id))} = s.{Column<IssuanceSession>(model, nameof(IssuanceSession.OfferId))} "
            + $"LEFT JOIN {_issued.Table} ic ON ic.{Column<IssuedCredential>(model, nameof(IssuedCredential.SessionId))} = s.{Column<IssuanceSession>(model, nameof(IssuanceSession.Id))} "
            + $"AND ic.{Column<IssuedCredential>(model, nameof(IssuedCredential.ConfigurationId))} = s.{Column<IssuanceSession>(model, nameof(IssuanceSession.ConfigurationId))} "
            + $"WHERE t.{Column<AccessToken>(model, nameof(AccessToken.TokenHash))} = {{0}} AND t.{Column<AccessToken>(model, nameof(AccessToken.TenantId))} = {{1}} AND {live} LIMIT 1";
    }

    /// <summary>The event log's rows (<see cref="IssuerStore.ReadAsync"/>, which subscribers' feeds read on every wake-up).</summary>
    public RowShape<IssuerEvent> Events { get; }

    public async Task<OfferWithTenant?> OfferByUriToken(IssuerDbContext db, string tenantId, byte[] uriTokenHash, CancellationToken ct)
    {
        var rows = await ReadAsync(db, _offerByUriToken, uriTokenHash, tenantId,
            r => new OfferWithTenant(_offer.Read(r, 0), r.GetInt64(_offer.Width)), ct);
        return rows.Count == 0 ? null : rows[0];
    }

    public async Task<CodeWithOffer?> CodeByHash(IssuerDbContext db, string tenantId, byte[] codeHash, CancellationToken ct)
    {
        var rows = await ReadAsync(db, _codeByHash, codeHash, tenantId,
            r => new CodeWithOffer(_code.Read(r, 0), _offer.Read(r, _code.Width), r.GetInt64(_code.Width + _offer.Width)), ct);
        return rows.Count == 0 ? null : rows[0];
    }

    public async Task<SessionAccess?> SessionByToken(IssuerDbContext db, string tenantId, byte[] tokenHash, CancellationToken ct)
    {
        var rows = await ReadAsync(db, _sessionByToken, tokenHash, tenantId, r =>
        {
            var token = _token.Read(r, 0);
            var at = _token.Width;
            var session = _session.Read(r, at);
            var offer = _offer.ReadOptional(r, at += _session.Width);
            var issued = _issued.ReadOptional(r, at += _offer.Width);
            return new SessionAccess(session, offer, token.ExpiresAt, r.GetInt64(at + _issued.Width), issued, token.DpopJkt);
        }, ct);
        return rows.Count == 0 ? null : rows[0];
    }

    private static async Task<IReadOnlyList<TRow>> ReadAsync<TRow>(
        IssuerDbContext db, string query, byte[] hash, string tenantId, Func<System.Data.Common.DbDataReader, TRow> row, CancellationToken ct)
    {
        await using var sql = new SqlBatch(db);
        sql.Add(string.Format(System.Globalization.CultureInfo.InvariantCulture, query, sql.P(hash), sql.P(tenantId)));
        return await sql.ReadAsync(row, ct);
    }

    private static string Column<TEntity>(IModel model, string property) =>
        model.FindEntityType(typeof(TEntity))!.FindProperty(property)!.GetTableColumnMappings().Single().Column.Name;
}
