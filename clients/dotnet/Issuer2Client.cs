using System.Net.Http;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Issuer2.Grpc.V1;

namespace Issuer2.Client;

/// <summary>
/// One connection to an Issuer2 host: the generated stubs of every service on a channel that sends the API key
/// as call credentials and retries idempotent calls. Dispose it to close the connection.
/// </summary>
public sealed class Issuer2Client : IDisposable
{
    private readonly GrpcChannel _channel;

    /// <summary>Opens a channel to <see cref="Issuer2ClientOptions.Address"/> with the options' API key and retries.</summary>
    public Issuer2Client(Issuer2ClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        _channel = Issuer2Channel.Create(options);
        var invoker = _channel.Intercept(new RetryInterceptor(options.Retry, options.TimeProvider));
        Tenants = new TenantService.TenantServiceClient(invoker);
        Profiles = new ProfileService.ProfileServiceClient(invoker);
        Offers = new OfferService.OfferServiceClient(invoker);
        Events = new SessionEventsService.SessionEventsServiceClient(invoker);
    }

    /// <summary>The options this client was made with.</summary>
    public Issuer2ClientOptions Options { get; }

    /// <summary>The channel itself, for stubs of your own.</summary>
    public ChannelBase Channel => _channel;

    /// <summary>Tenants and their API keys (admin key for tenants; a tenant's key for its own API keys).</summary>
    public TenantService.TenantServiceClient Tenants { get; }

    /// <summary>Credential profiles of a tenant.</summary>
    public ProfileService.ProfileServiceClient Profiles { get; }

    /// <summary>Credential offers of a tenant and their issuance sessions.</summary>
    public OfferService.OfferServiceClient Offers { get; }

    /// <summary>The tenant's event log: live stream and paged list.</summary>
    public SessionEventsService.SessionEventsServiceClient Events { get; }

    /// <summary>A follower of <paramref name="parent"/>'s events that resumes on its own; see <see cref="EventFollower"/>.</summary>
    public EventFollower Follow(string parent, EventFollowerOptions? options = null) =>
        new(Events, parent, options ?? new EventFollowerOptions { TimeProvider = Options.TimeProvider });

    /// <inheritdoc />
    public void Dispose() => _channel.Dispose();
}

/// <summary>Makes the gRPC channel of <see cref="Issuer2Client"/>.</summary>
public static class Issuer2Channel
{
    /// <summary>
    /// A channel to <paramref name="options"/>' address that adds <c>authorization: Bearer &lt;key&gt;</c> to every call:
    /// over TLS for <c>https</c>, over cleartext HTTP/2 (h2c) for <c>http</c> (loopback or a trusted network only).
    /// </summary>
    public static GrpcChannel Create(Issuer2ClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Address.Scheme != Uri.UriSchemeHttps && options.Address.Scheme != Uri.UriSchemeHttp)
        {
            throw new ArgumentException($"The address must be http:// (h2c) or https:// (TLS), not {options.Address.Scheme}://.", nameof(options));
        }

        if (string.IsNullOrWhiteSpace(options.ApiKey))
        {
            throw new ArgumentException("An API key is required.", nameof(options));
        }

        var key = options.ApiKey.Trim();
        var credentials = CallCredentials.FromInterceptor((_, metadata) =>
        {
            metadata.Add("authorization", "Bearer " + key);
            return Task.CompletedTask;
        });
        var insecure = options.Address.Scheme == Uri.UriSchemeHttp;
        return GrpcChannel.ForAddress(options.Address, new GrpcChannelOptions
        {
            HttpHandler = options.HttpHandler ?? DefaultHandler(),
            Credentials = insecure
                ? ChannelCredentials.Create(ChannelCredentials.Insecure, credentials)
                : ChannelCredentials.Create(ChannelCredentials.SecureSsl, credentials),
            // Note: gRPC sends call credentials over cleartext only when told to; h2c is for loopback and trusted networks.
            UnsafeUseInsecureChannelCallCredentials = insecure,
            MaxReceiveMessageSize = 16 * 1024 * 1024,
        });
    }

    private static SocketsHttpHandler DefaultHandler() => new()
    {
        EnableMultipleHttp2Connections = true,
        KeepAlivePingDelay = TimeSpan.FromSeconds(30),
        KeepAlivePingTimeout = TimeSpan.FromSeconds(15),
        KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
    };
}
