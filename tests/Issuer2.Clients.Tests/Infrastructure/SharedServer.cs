namespace Issuer2.Clients.Tests.Infrastructure;

/// <summary>One SQLite server for the tests that do not restart it.</summary>
public sealed class SharedServer : IAsyncLifetime
{
    public ServerHost Host { get; private set; } = null!;

    public async Task InitializeAsync() => Host = await ServerHost.StartAsync("Sqlite");

    public async Task DisposeAsync() => await Host.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class SharedServerGroup : ICollectionFixture<SharedServer>
{
    public const string Name = "shared server";
}
