using Issuer2.Core.Offers;
using Issuer2.Core.Sessions;
using Issuer2.Core.Tokens;
using Microsoft.EntityFrameworkCore;

namespace Issuer2.Storage;

/// <summary>The wallet flow's hot reads, each compiled once per provider so EF skips translating it on every request.</summary>
internal interface IHotQueries
{
    Task<OfferWithTenant?> OfferByUriToken(IssuerDbContext db, string tenantId, byte[] uriTokenHash, CancellationToken ct);

    Task<CodeWithOffer?> CodeByHash(IssuerDbContext db, string tenantId, byte[] codeHash, CancellationToken ct);

    Task<SessionAccess?> SessionByToken(IssuerDbContext db, string tenantId, byte[] tokenHash, CancellationToken ct);
}

/// <summary>
/// The hot reads of one context type. A compiled query keeps the SQL of the first model it met, so each provider
/// has its own set (SQLite and PostgreSQL can share a process); each context hands out its set, so callers never
/// switch on the provider.
/// </summary>
internal sealed class HotQueries<TContext> : IHotQueries where TContext : IssuerDbContext
{
    public static readonly HotQueries<TContext> Instance = new();

    private static readonly Func<TContext, string, byte[], CancellationToken, Task<OfferWithTenant?>> OfferByUriTokenQuery =
        EF.CompileAsyncQuery((TContext db, string tenantId, byte[] uriTokenHash, CancellationToken ct) =>
            (from o in db.Offers.AsNoTracking()
             where o.UriTokenHash == uriTokenHash && o.TenantId == tenantId
             join t in db.Tenants.AsNoTracking() on o.TenantId equals t.Id
             where t.DeletedAt == null
             select new OfferWithTenant(o, t.MetadataVersion)).FirstOrDefault());

    private static readonly Func<TContext, string, byte[], CancellationToken, Task<CodeWithOffer?>> CodeByHashQuery =
        EF.CompileAsyncQuery((TContext db, string tenantId, byte[] codeHash, CancellationToken ct) =>
            (from c in db.PreAuthorizedCodes.AsNoTracking()
             where c.CodeHash == codeHash && c.TenantId == tenantId
             join o in db.Offers.AsNoTracking() on c.OfferId equals o.Id
             join t in db.Tenants.AsNoTracking() on c.TenantId equals t.Id
             where t.DeletedAt == null
             select new CodeWithOffer(c, o, t.MetadataVersion)).FirstOrDefault());

    private static readonly Func<TContext, string, byte[], CancellationToken, Task<SessionAccess?>> SessionByTokenQuery =
        EF.CompileAsyncQuery((TContext db, string tenantId, byte[] tokenHash, CancellationToken ct) =>
            (from t in db.AccessTokens.AsNoTracking()
             where t.TokenHash == tokenHash && t.TenantId == tenantId
             join s in db.Sessions.AsNoTracking() on t.SessionId equals s.Id
             join tenant in db.Tenants.AsNoTracking() on t.TenantId equals tenant.Id
             where tenant.DeletedAt == null
             // A wallet-initiated session has no offer.
             from o in db.Offers.AsNoTracking().Where(o => o.Id == s.OfferId).DefaultIfEmpty()
             // At most one: (session, configuration) is unique, and a session has one configuration.
             from c in db.IssuedCredentials.AsNoTracking().Where(c => c.SessionId == s.Id && c.ConfigurationId == s.ConfigurationId).DefaultIfEmpty()
             select new SessionAccess(s, o, t.ExpiresAt, tenant.MetadataVersion, c, t.DpopJkt)).FirstOrDefault());

    private HotQueries()
    {
    }

    public Task<OfferWithTenant?> OfferByUriToken(IssuerDbContext db, string tenantId, byte[] uriTokenHash, CancellationToken ct) =>
        OfferByUriTokenQuery((TContext)db, tenantId, uriTokenHash, ct);

    public Task<CodeWithOffer?> CodeByHash(IssuerDbContext db, string tenantId, byte[] codeHash, CancellationToken ct) =>
        CodeByHashQuery((TContext)db, tenantId, codeHash, ct);

    public Task<SessionAccess?> SessionByToken(IssuerDbContext db, string tenantId, byte[] tokenHash, CancellationToken ct) =>
        SessionByTokenQuery((TContext)db, tenantId, tokenHash, ct);
}
