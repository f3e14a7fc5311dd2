using System.CommandLine;

namespace Issuer2.Cli.Commands;

/// <summary>The paging options of every list command, and the loop that follows next_page_token with --all.</summary>
internal sealed class Paging
{
    public readonly Option<int> PageSize = new("--page-size") { Description = "At most this many per page (the server coerces it to its maximum)." };
    public readonly Option<string?> PageToken = new("--page-token") { Description = "Continue from a previous page's next-page token." };
    public readonly Option<bool> All = new("--all") { Description = "Follow every page to the end." };

    public Paging AddTo(Command command)
    {
        command.Add(PageSize);
        command.Add(PageToken);
        command.Add(All);
        return this;
    }

    /// <summary>
    /// The items of one page (or every page with --all) and the token of the next page (empty after --all).
    /// <paramref name="fetch"/> gets (page size, page token) and returns (items, next token).
    /// </summary>
    public async Task<(List<T> Items, string NextPageToken)> ReadAsync<T>(CliContext cli, Func<int, string, Task<(IEnumerable<T> Items, string Next)>> fetch)
    {
        var items = new List<T>();
        var token = cli.Value(PageToken) ?? "";
        var size = cli.Value(PageSize);
        while (true)
        {
            var (page, next) = await fetch(size, token);
            items.AddRange(page);
            if (!cli.Value(All) || next.Length == 0)
            {
                return (items, next);
            }

            token = next;
        }
    }

    public static void PrintNext(CliContext cli, string next)
    {
        if (!cli.Json && next.Length > 0)
        {
            Console.Out.WriteLine($"(more: --page-token {next})");
        }
    }
}
