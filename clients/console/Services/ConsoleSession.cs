using Grpc.Core;
using Issuer2.Grpc.V1;
using Microsoft.JSInterop;

namespace Issuer2.BrowserConsole.Services;

/// <summary>
/// Who is signed in: the API key (kept in the tab's sessionStorage only, never in localStorage or a cookie, so it
/// ends with the tab) and, for a tenant's key, the tenant it manages. Signing in asks the server: a key it refuses is
/// never stored.
/// </summary>
internal sealed class ConsoleSession(IJSRuntime js, IssuerApi api)
{
    private const string KeyItem = "issuer2.apiKey";
    private const string TenantItem = "issuer2.tenant";
    private const string AdminItem = "issuer2.admin";

    /// <summary>The signed-in key, or null.</summary>
    public string? ApiKey { get; private set; }

    /// <summary>The tenant id the key manages (a tenant key), or the tenant the admin picked, or null.</summary>
    public string? TenantId { get; private set; }

    /// <summary>Whether the key is the admin key (tenants and their API keys).</summary>
    public bool IsAdmin { get; private set; }

    public bool SignedIn => ApiKey is not null;

    /// <summary>"tenants/{id}" of the current tenant.</summary>
    public string TenantName => "tenants/" + TenantId;

    /// <summary>Raised when the signed-in state changes (the layout redraws its navigation).</summary>
    public event Action? Changed;

    /// <summary>Reads a key stored earlier in this tab.</summary>
    public async Task RestoreAsync()
    {
        ApiKey = await js.InvokeAsync<string?>("sessionStorage.getItem", KeyItem);
        TenantId = await js.InvokeAsync<string?>("sessionStorage.getItem", TenantItem);
        IsAdmin = await js.InvokeAsync<string?>("sessionStorage.getItem", AdminItem) == "1";
        api.ApiKey = ApiKey;
        Changed?.Invoke();
    }

    /// <summary>
    /// Checks the key with the server: the admin key may list tenants; a tenant's key may read its tenant. Throws the
    /// server's RpcException (UNAUTHENTICATED for a wrong key) and keeps nothing then.
    /// </summary>
    public async Task SignInAsync(string apiKey, string? tenantId, CancellationToken ct)
    {
        api.ApiKey = apiKey;
        try
        {
            var admin = false;
            try
            {
                await api.Tenants.ListTenantsAsync(new ListTenantsRequest { PageSize = 1 }, api.Options(ct));
                admin = true;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.PermissionDenied)
            {
                // A tenant's key: it reads its own tenant only.
            }

            if (!admin)
            {
                if (string.IsNullOrWhiteSpace(tenantId))
                {
                    throw new RpcException(new Status(StatusCode.InvalidArgument, "This is a tenant's API key: enter the tenant id it belongs to."));
                }

                await api.Tenants.GetTenantAsync(new GetTenantRequest { Name = "tenants/" + tenantId.Trim() }, api.Options(ct));
            }

            ApiKey = apiKey;
            IsAdmin = admin;
            TenantId = string.IsNullOrWhiteSpace(tenantId) ? null : tenantId.Trim();
            await js.InvokeVoidAsync("sessionStorage.setItem", KeyItem, apiKey);
            await js.InvokeVoidAsync("sessionStorage.setItem", AdminItem, admin ? "1" : "0");
            await StoreTenantAsync();
            Changed?.Invoke();
        }
        catch
        {
            api.ApiKey = ApiKey;
            throw;
        }
    }

    /// <summary>The admin picks the tenant whose API keys it manages.</summary>
    public async Task SelectTenantAsync(string tenantId)
    {
        TenantId = tenantId;
        await StoreTenantAsync();
        Changed?.Invoke();
    }

    public async Task SignOutAsync()
    {
        ApiKey = null;
        TenantId = null;
        IsAdmin = false;
        api.ApiKey = null;
        await js.InvokeVoidAsync("sessionStorage.clear");
        Changed?.Invoke();
    }

    private async Task StoreTenantAsync()
    {
        if (TenantId is null) await js.InvokeVoidAsync("sessionStorage.removeItem", TenantItem);
        else await js.InvokeVoidAsync("sessionStorage.setItem", TenantItem, TenantId);
    }
}
