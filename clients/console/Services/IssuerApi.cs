using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Web;
using Issuer2.Grpc.V1;

namespace Issuer2.BrowserConsole.Services;

/// <summary>
/// The four services over gRPC-Web on the origin that served the console, each call with
/// <c>authorization: Bearer &lt;API key&gt;</c> (the same convention as Issuer2.Client and the CLI).
/// </summary>
internal sealed class IssuerApi : IDisposable
{
    private readonly GrpcChannel _channel;

    public IssuerApi(Uri origin)
    {
        // Binary gRPC-Web over fetch; the browser's fetch streams responses, so SubscribeEvents arrives event by event.
        _channel = GrpcChannel.ForAddress(origin, new GrpcChannelOptions
        {
            HttpHandler = new GrpcWebHandler(GrpcWebMode.GrpcWeb, new HttpClientHandler()),
            HttpVersion = System.Net.HttpVersion.Version11,
            MaxReceiveMessageSize = 8 * 1024 * 1024,
        });
        Tenants = new TenantService.TenantServiceClient(_channel);
        Profiles = new ProfileService.ProfileServiceClient(_channel);
        Offers = new OfferService.OfferServiceClient(_channel);
        Events = new SessionEventsService.SessionEventsServiceClient(_channel);
    }

    /// <summary>The key sent with every call (set by <see cref="ConsoleSession"/>).</summary>
    public string? ApiKey { get; set; }

    public TenantService.TenantServiceClient Tenants { get; }

    public ProfileService.ProfileServiceClient Profiles { get; }

    public OfferService.OfferServiceClient Offers { get; }

    public SessionEventsService.SessionEventsServiceClient Events { get; }

    /// <summary>Call options carrying the API key.</summary>
    public CallOptions Options(CancellationToken ct = default)
    {
        var headers = new Metadata();
        if (ApiKey is not null) headers.Add("authorization", "Bearer " + ApiKey);
        return new CallOptions(headers, cancellationToken: ct);
    }

    public void Dispose() => _channel.Dispose();
}
