using System.Net;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Web;
using Issuer2.Grpc.V1;
using Issuer2.Server.Tests.Infrastructure;

namespace Issuer2.Server.Tests;

/// <summary>
/// A body that is not one well-formed gRPC message (bad protobuf, a truncated or extra frame, a wrong compression
/// flag) from an authenticated caller is INVALID_ARGUMENT with reason MALFORMED_REQUEST on both listeners, never
/// UNKNOWN or INTERNAL.
/// </summary>
public abstract class MalformedRequestTests(ServerFixture fixture)
{
    public static TheoryData<string, bool> Cases()
    {
        var data = new TheoryData<string, bool>();
        foreach (var name in new[]
        {
            "invalid tag", "truncated field", "truncated frame", "short frame header", "compression flag 2",
            "compressed without grpc-encoding", "gzip that is not gzip", "two messages in a unary call", "length over 2 GB",
        })
        {
            data.Add(name, false);
            data.Add(name, true);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task MalformedBody_WithValidKey_IsInvalidArgument(string malformation, bool grpcWeb)
    {
        var tenant = await fixture.CreateTenantAsync();
        var valid = new ListProfilesRequest { Parent = tenant.Name }.ToByteArray();
        var (body, encoding) = malformation switch
        {
            "invalid tag" => (GrpcWire.Frame([0x00]), null),
            "truncated field" => (GrpcWire.Frame([0x0A, 0x10, 0x61]), null),
            "truncated frame" => (GrpcWire.Frame(valid)[..^3], null),
            "short frame header" => (new byte[] { 0x00, 0x00, 0x00 }, null),
            "compression flag 2" => (GrpcWire.Frame(valid, flag: 2), null),
            "compressed without grpc-encoding" => (GrpcWire.Frame(valid, flag: 1), null),
            "gzip that is not gzip" => (GrpcWire.Frame(valid, flag: 1), "gzip"),
            "two messages in a unary call" => ([.. GrpcWire.Frame(valid), .. GrpcWire.Frame(valid)], null),
            "length over 2 GB" => (GrpcWire.Frame(valid, declaredLength: -1), (string?)null),
            _ => throw new ArgumentOutOfRangeException(nameof(malformation), malformation, null),
        };
        using var http = grpcWeb ? GrpcWire.Http11Client() : GrpcWire.Http2Client();
        using var request = GrpcWire.Request(BaseUrl(grpcWeb), GrpcWire.ListProfiles, new ByteArrayContent(body), grpcWeb, "Bearer " + tenant.ApiKey);
        if (encoding is not null)
        {
            request.Headers.Add("grpc-encoding", encoding);
        }

        using var response = await http.SendAsync(request);
        var status = await GrpcWire.ReadStatusAsync(response);

        Assert.Equal(HttpStatusCode.OK, status.HttpStatus);
        Assert.True(status.Code == StatusCode.InvalidArgument, $"{malformation}: {status.Code} \"{status.Message}\"");
        Assert.Equal("MALFORMED_REQUEST", status.Reason);
        Assert.Equal(RpcAssert.Domain, status.Domain);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task MalformedBody_WithoutKey_IsUnauthenticated(bool grpcWeb)
    {
        // The key is checked first: without one, nothing about the body is revealed.
        using var http = grpcWeb ? GrpcWire.Http11Client() : GrpcWire.Http2Client();
        using var request = GrpcWire.Request(BaseUrl(grpcWeb), GrpcWire.ListProfiles, new ByteArrayContent(GrpcWire.Frame([0x00])), grpcWeb, null);

        using var response = await http.SendAsync(request);
        var status = await GrpcWire.ReadStatusAsync(response);

        Assert.Equal(StatusCode.Unauthenticated, status.Code);
        Assert.Equal("UNAUTHENTICATED", status.Reason);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task WellFormedRawRequest_WithValidKey_IsOk(bool grpcWeb)
    {
        // The control of the test above: the same hand-made request, well formed, succeeds.
        var tenant = await fixture.CreateTenantAsync();
        var body = GrpcWire.Frame(new ListProfilesRequest { Parent = tenant.Name }.ToByteArray());
        using var http = grpcWeb ? GrpcWire.Http11Client() : GrpcWire.Http2Client();
        using var request = GrpcWire.Request(BaseUrl(grpcWeb), GrpcWire.ListProfiles, new ByteArrayContent(body), grpcWeb, "Bearer " + tenant.ApiKey);

        using var response = await http.SendAsync(request);
        var status = await GrpcWire.ReadStatusAsync(response);

        Assert.Equal(StatusCode.OK, status.Code);
    }

    [Fact]
    public async Task BadProtobuf_FromGrpcNetClient_IsInvalidArgument_OverGrpcAndGrpcWeb()
    {
        var tenant = await fixture.CreateTenantAsync();
        // The method's name with a marshaller that sends any bytes: a client library sending a broken message.
        var raw = new Method<byte[], byte[]>(
            MethodType.Unary, "issuer2.v1.ProfileService", "ListProfiles", Marshallers.Create(b => b, b => b), Marshallers.Create(b => b, b => b));
        using var web = GrpcChannel.ForAddress(fixture.Host.HttpUrl, new GrpcChannelOptions
        {
            HttpHandler = new GrpcWebHandler(GrpcWebMode.GrpcWeb, new HttpClientHandler()),
            HttpVersion = HttpVersion.Version11,
        });

        foreach (var channel in new ChannelBase[] { fixture.Host.Channel, web })
        {
            var headers = new Metadata { { "authorization", "Bearer " + tenant.ApiKey } };

            var refusal = await RpcAssert.FailsAsync(StatusCode.InvalidArgument, "MALFORMED_REQUEST", async () =>
                await channel.CreateCallInvoker().AsyncUnaryCall(raw, null, new CallOptions(headers), [0x0A, 0x10, 0x61]));

            Assert.DoesNotContain("Exception was thrown by handler", refusal.Status.Detail, StringComparison.Ordinal);
        }
    }

    private string BaseUrl(bool grpcWeb) => grpcWeb ? fixture.Host.HttpUrl : fixture.Host.GrpcUrl;
}

public sealed class MalformedRequestTests_Sqlite(SqliteServerFixture fixture)
    : MalformedRequestTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class MalformedRequestTests_Postgres(PostgresServerFixture fixture)
    : MalformedRequestTests(fixture), IClassFixture<PostgresServerFixture>;
