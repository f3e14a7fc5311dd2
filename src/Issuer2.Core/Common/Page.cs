using System.Buffers.Text;
using System.Globalization;
using System.Text.Json;

namespace Issuer2.Core.Common;

/// <summary>One page of a keyset-paged list.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string NextPageToken);

/// <summary>
/// The byte budget of one page and how an item is measured: the adapter knows the wire form, so it supplies the
/// measure (its serialized size); the rule that uses it is <see cref="PageSizes.Cut"/>.
/// </summary>
public sealed record PageBudget<T>(int MaxBytes, Func<T, int> SizeOf);

/// <summary>Budgets that need no measure.</summary>
public static class PageBudget
{
    /// <summary>No byte budget: the page is bounded by count only (tests of count paging).</summary>
    public static PageBudget<T> Unlimited<T>() => new(int.MaxValue, _ => 0);
}

/// <summary>The lists of the API, each with its page-size policy in <see cref="PageSizes"/>.</summary>
public enum ListKind
{
    Tenants,
    ApiKeys,
    Profiles,
    Offers,
    OfferSessions,
    ProfileSessions,
    Events,
}

/// <summary>The one page-size policy of every list (AIP-158).</summary>
public static class PageSizes
{
    public const int Default = 50;

    /// <summary>The largest page of a list; a larger request is coerced to it.</summary>
    public static int MaxOf(ListKind list) => list switch
    {
        ListKind.Tenants or ListKind.ApiKeys or ListKind.Profiles or ListKind.Offers or ListKind.OfferSessions or ListKind.ProfileSessions => 200,
        // Events are small and read in bulk by integrators catching up.
        ListKind.Events => 500,
    };

    /// <summary>
    /// What a page leaves of its byte budget for everything but its items (the next page token, field framing):
    /// tokens are a few hundred bytes.
    /// </summary>
    public const int Reserve = 1024;

    /// <summary>
    /// The one page rule: of <paramref name="fetched"/> (read with one item more than <paramref name="size"/>, to know
    /// whether more follow), the first items up to <paramref name="size"/> whose serialized sizes together stay within
    /// the budget (less <see cref="Reserve"/>), always at least one; <c>More</c> when any fetched item was left out, so
    /// the next page, continuing after the last item returned, loses and repeats none.
    /// </summary>
    public static (IReadOnlyList<T> Items, bool More) Cut<T>(IReadOnlyList<T> fetched, int size, PageBudget<T> budget)
    {
        ArgumentNullException.ThrowIfNull(fetched);
        ArgumentNullException.ThrowIfNull(budget);
        var room = (long)budget.MaxBytes - Reserve;
        var items = new List<T>(Math.Min(size, fetched.Count));
        long bytes = 0;
        foreach (var item in fetched)
        {
            if (items.Count == size) break;
            // A repeated message field costs its bytes plus a tag and a length prefix (at most 6 bytes).
            var cost = (long)budget.SizeOf(item) + 6;
            if (items.Count > 0 && bytes + cost > room) break;
            items.Add(item);
            bytes += cost;
        }
        return (items, items.Count < fetched.Count);
    }

    /// <summary>0 means the default; larger than the maximum is coerced; negative is invalid.</summary>
    public static Result<int, Error> Of(ListKind list, int requested, string field = "page_size")
    {
        if (requested < 0) return Error.Invalid(field, "must not be negative");
        return requested == 0 ? Default : Math.Min(requested, MaxOf(list));
    }
}

/// <summary>
/// Opaque keyset page tokens. A token names the list it belongs to (tenant and filters), so it cannot be
/// replayed against another tenant or other filters.
/// </summary>
public static class PageTokens
{
    public static string Encode(string scope, string position)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(new Token(scope, position), CoreJson.Options);
        return Base64Url.EncodeToString(json);
    }

    /// <summary>Returns the position in the list, null for the first page, or an error when the token is not of this list.</summary>
    public static Result<string?, Error> Decode(string? token, string scope, string field = "page_token")
    {
        if (string.IsNullOrEmpty(token)) return (string?)null;
        try
        {
            var decoded = JsonSerializer.Deserialize<Token>(Base64Url.DecodeFromChars(token), CoreJson.Options);
            if (decoded is null || decoded.S != scope || string.IsNullOrEmpty(decoded.P))
                return Error.Invalid(field, "does not belong to this list (another tenant or other filters)");
            return decoded.P;
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            return Error.Invalid(field, "is not a page token of this API");
        }
    }

    /// <summary>The position of a list ordered by (time, id), newest first.</summary>
    public static string TimeKey(DateTimeOffset time, string id) => $"{time.UtcTicks.ToString(CultureInfo.InvariantCulture)} {id}";

    /// <summary>Reads a <see cref="TimeKey"/>; a token that decodes but holds no such position is refused like any bad token.</summary>
    public static Result<(DateTimeOffset Time, string Id)?, Error> ParseTimeKey(string? position, string field = "page_token")
    {
        if (position is null) return ((DateTimeOffset, string)?)null;
        var space = position.IndexOf(' ', StringComparison.Ordinal);
        if (space <= 0 || space == position.Length - 1
            || !long.TryParse(position.AsSpan(0, space), NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
            || ticks > DateTimeOffset.MaxValue.UtcTicks)
            return Error.Invalid(field, "is not a page token of this API");
        return ((DateTimeOffset, string)?)(new DateTimeOffset(ticks, TimeSpan.Zero), position[(space + 1)..]);
    }

    private sealed record Token(string S, string P);
}
