using Issuer2.Core.Wallet;
using Microsoft.EntityFrameworkCore;

namespace Issuer2.Storage;

/// <summary>
/// The wallet flow's hot reads, compiled once so EF skips translating them on every request. One set per context
/// type: a compiled query keeps the SQL of the first model it met, and SQLite and PostgreSQL can share a process.
/// </summary>
internal static class HotQueries<TContext> where TContext : IssuerDbContext
{
    public static readonly Func<TContext, string, CancellationToken, Task<long?>> TenantVersion =
        EF.CompileAsyncQuery((TContext db, string tenantId, CancellationToken ct) =>
            db.Tenants.AsNoTracking().Where(t => t.Id == tenantId && t.DeletedAt == null).Select(t => (long?)t.MetadataVersion).FirstOrDefault());

    public static readonly Func<TContext, string, byte[], CancellationToken, Task<OfferWithTenant?>> OfferByUriToken =
        EF.CompileAsyncQuery((TContext db, string tenantId, byte[] uriTokenHash, CancellationToken ct) =>
            (from o in db.Offers.AsNoTracking()
             where o.UriTokenHash == uriTokenHash && o.TenantId == tenantId
             join t in db.Tenants.AsNoTracking() on o.TenantId equals t.Id
             where t.DeletedAt == null
             select new OfferWithTenant(o, t.MetadataVersion)).FirstOrDefault());

    public static readonly Func<TContext, string, byte[], CancellationToken, Task<CodeWithOffer?>> CodeByHash =
        EF.CompileAsyncQuery((TContext db, string tenantId, byte[] codeHash, CancellationToken ct) =>
            (from c in db.PreAuthorizedCodes.AsNoTracking()
             where c.CodeHash == codeHash && c.TenantId == tenantId
             join o in db.Offers.AsNoTracking() on c.OfferId equals o.Id
             join t in db.Tenants.AsNoTracking() on c.TenantId equals t.Id
             where t.DeletedAt == null
             select new CodeWithOffer(c, o, t.MetadataVersion)).FirstOrDefault());

    public static readonly Func<TContext, string, byte[], CancellationToken, Task<SessionAccess?>> SessionByToken =
        EF.CompileAsyncQuery((TContext db, string tenantId, byte[] tokenHash, CancellationToken ct) =>
            (from t in db.AccessTokens.AsNoTracking()
             where t.TokenHash == tokenHash && t.TenantId == tenantId
             join s in db.Sessions.AsNoTracking() on t.SessionId equals s.Id
             join o in db.Offers.AsNoTracking() on s.OfferId equals o.Id
             join tenant in db.Tenants.AsNoTracking() on t.TenantId equals tenant.Id
             where tenant.DeletedAt == null
             select new SessionAccess(s, o, t.ExpiresAt, tenant.MetadataVersion,
                 db.IssuedCredentials.Any(c => c.SessionId == s.Id && c.ConfigurationId == s.ConfigurationId))).FirstOrDefault());
}
