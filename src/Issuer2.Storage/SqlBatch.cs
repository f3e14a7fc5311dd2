using System.Data.Common;
using System.Text;
using Issuer2.Core.Events;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Issuer2.Storage;

/// <summary>
/// A few plain SQL statements sent as one command on the context's connection and transaction: the wallet
/// flow's writes in one round trip instead of one per statement. Values are always parameters; times and ids are
/// bound the way each provider's EF mapping stores them (SQLite: UTC ticks and upper-case GUID text).
/// </summary>
internal sealed class SqlBatch : IAsyncDisposable
{
    private readonly IssuerDbContext _db;
    private readonly DbCommand _command;
    private readonly StringBuilder _sql = new();
    private int _statements;

    public SqlBatch(IssuerDbContext db)
    {
        _db = db;
        _command = db.Database.GetDbConnection().CreateCommand();
        _command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
    }

    /// <summary>Adds a parameter and returns its placeholder.</summary>
    public string P(object? value)
    {
        var parameter = _command.CreateParameter();
        parameter.ParameterName = $"@p{_command.Parameters.Count}";
        parameter.Value = value ?? DBNull.Value;
        _command.Parameters.Add(parameter);
        return parameter.ParameterName;
    }

    public string Time(DateTimeOffset value) => P(_db.IsPostgres ? value : value.UtcTicks);

    public string Guid(Guid value) => P(_db.IsPostgres ? value : value.ToString().ToUpperInvariant());

    public void Add(string statement)
    {
        _sql.Append(statement).Append(";\n");
        _statements++;
    }

    /// <summary>Appends an event; on PostgreSQL its transaction id comes from the column's default.</summary>
    public void AddEvent(IssuerEvent e) => Add(EventInsert(e));

    /// <summary>
    /// The INSERT of an event, as a statement or a CTE's body; with <paramref name="onlyIf"/>, a condition the
    /// statement checks when it runs, so the event is appended only when the change it reports was made.
    /// </summary>
    public string EventInsert(IssuerEvent e, string? onlyIf = null)
    {
        ArgumentNullException.ThrowIfNull(e);
        var values = $"{P(e.TenantId)}, {P(e.Type)}, {Time(e.OccurredAt)}, {P(e.OfferId)}, {P(e.SessionId)}, {P(e.ProfileId)}, {P(e.Detail)}, {P(e.Actor)}";
        return "INSERT INTO events (tenant_id, type, occurred_at, offer_id, session_id, profile_id, detail, actor) " + Row(values, onlyIf);
    }

    /// <summary>An INSERT's row: <c>VALUES (…)</c>, or with <paramref name="onlyIf"/> a SELECT of them that checks it.</summary>
    public static string Row(string values, string? onlyIf) => onlyIf is null ? $"VALUES ({values})" : $"SELECT {values} WHERE {onlyIf}";

    public async Task ExecuteAsync(CancellationToken ct)
    {
        await OpenAsync(ct);
        _command.CommandText = _sql.ToString();
        await _command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Runs the batch; true when its first statement (one ending in RETURNING) returned a row. Every statement runs.</summary>
    public async Task<bool> FirstStatementTookAsync(CancellationToken ct)
    {
        await OpenAsync(ct);
        _command.CommandText = _sql.ToString();
        await using var reader = await _command.ExecuteReaderAsync(ct);
        var took = await reader.ReadAsync(ct);
        while (await reader.NextResultAsync(ct))
        {
            // Note: SQLite runs a batch's statements as the reader advances; reading to the end runs them all.
        }
        return took;
    }

    /// <summary>Runs the batch and reads the rows of its first statement.</summary>
    public async Task<IReadOnlyList<T>> ReadAsync<T>(Func<DbDataReader, T> row, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(row);
        await OpenAsync(ct);
        _command.CommandText = _sql.ToString();
        var rows = new List<T>();
        await using var reader = await _command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) rows.Add(row(reader));
        while (await reader.NextResultAsync(ct))
        {
            // Every statement runs.
        }
        return rows;
    }

    /// <summary>Runs statements that each end in RETURNING; returns how many rows each returned.</summary>
    public async Task<int[]> RowsPerStatementAsync(CancellationToken ct)
    {
        await OpenAsync(ct);
        _command.CommandText = _sql.ToString();
        var rows = new int[_statements];
        await using var reader = await _command.ExecuteReaderAsync(ct);
        for (var i = 0; i < _statements; i++)
        {
            while (await reader.ReadAsync(ct)) rows[i]++;
            if (!await reader.NextResultAsync(ct)) break;
        }
        return rows;
    }

    /// <summary>Runs statements that each end in RETURNING one integer column; returns each statement's values.</summary>
    public async Task<IReadOnlyList<long>[]> ValuesPerStatementAsync(CancellationToken ct)
    {
        await OpenAsync(ct);
        _command.CommandText = _sql.ToString();
        var values = new List<long>[_statements];
        await using var reader = await _command.ExecuteReaderAsync(ct);
        for (var i = 0; i < _statements; i++)
        {
            values[i] = [];
            while (await reader.ReadAsync(ct)) values[i].Add(reader.GetInt64(0));
            if (!await reader.NextResultAsync(ct)) break;
        }
        for (var i = 0; i < _statements; i++) values[i] ??= [];
        return values;
    }

    public ValueTask DisposeAsync() => _command.DisposeAsync();

    private async Task OpenAsync(CancellationToken ct)
    {
        if (_command.Connection!.State != System.Data.ConnectionState.Open) await _db.Database.OpenConnectionAsync(ct);
    }
}
