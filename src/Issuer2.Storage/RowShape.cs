using System.Data.Common;
using System.Linq.Expressions;
using System.Reflection;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace Issuer2.Storage;

/// <summary>
/// An entity read from a plain SQL row the way EF's own shaper reads it: the table, the columns, each column's
/// reader method and value conversion all come from the context's model, so the mapping stays in the entity
/// configurations. The reader is compiled once per model into one delegate with no nested lambda: EF's compiled
/// queries build a delegate on every execution (DynamicMethod.CreateDelegate, 2.5 % of the server's CPU per flow,
/// bench/README.md).
/// </summary>
internal sealed class RowShape<T> where T : class
{
    private readonly Func<DbDataReader, int, T> _read;
    private readonly int _keyOrdinal;
    private readonly string[] _columns;

    private RowShape(IModel model)
    {
        var entity = model.FindEntityType(typeof(T)) ?? throw new InvalidOperationException($"{typeof(T).Name} is not in the model.");
        var table = entity.GetTableMappings().Single();
        Table = table.Table.Name;
        var columns = table.ColumnMappings.Where(c => c.Property.PropertyInfo is not null).ToArray();
        _columns = [.. columns.Select(c => c.Column.Name)];
        var key = entity.FindPrimaryKey()!.Properties;
        if (key.Count != 1) throw new InvalidOperationException($"{typeof(T).Name} has a composite key; a left-joined row needs one key column.");
        _keyOrdinal = Array.FindIndex(columns, c => c.Property == key[0]);

        var reader = Expression.Parameter(typeof(DbDataReader), "reader");
        var first = Expression.Parameter(typeof(int), "first");
        var bindings = columns.Select((c, i) =>
            (MemberBinding)Expression.Bind(c.Property.PropertyInfo!, Value(c.Property, c.TypeMapping, reader, Expression.Add(first, Expression.Constant(i)))));
        var body = Expression.MemberInit(Expression.New(typeof(T)), bindings);
        _read = Expression.Lambda<Func<DbDataReader, int, T>>(body, reader, first).Compile();
    }

    /// <summary>The entity's table.</summary>
    public string Table { get; }

    /// <summary>How many columns <see cref="Columns"/> lists.</summary>
    public int Width => _columns.Length;

    /// <summary>The select list of the entity's columns under <paramref name="alias"/>, in the order <see cref="Read"/> reads them.</summary>
    public string Columns(string alias) => string.Join(", ", _columns.Select(c => $"{alias}.{c}"));

    /// <summary>The entity from the columns starting at <paramref name="first"/>.</summary>
    public T Read(DbDataReader reader, int first) => _read(reader, first);

    /// <summary>The entity of a left join: null when the joined row is absent (its key column is NULL).</summary>
    public T? ReadOptional(DbDataReader reader, int first)
    {
        ArgumentNullException.ThrowIfNull(reader);
        return reader.IsDBNull(first + _keyOrdinal) ? null : _read(reader, first);
    }

    /// <summary>The shape of <typeparamref name="T"/> in <paramref name="model"/> (one per provider's model).</summary>
    public static RowShape<T> Of(IModel model) => new(model);

    /// <summary>A column's value as EF reads it: the type mapping's reader method, then its converter from the provider type.</summary>
    private static Expression Value(IProperty property, RelationalTypeMapping mapping, ParameterExpression reader, Expression ordinal)
    {
        var converter = mapping.Converter;
        var providerType = converter?.ProviderClrType ?? Nullable.GetUnderlyingType(property.ClrType) ?? property.ClrType;
        var method = mapping.GetDataReaderMethod();
        var raw = mapping.CustomizeDataReaderExpression(Expression.Call(reader, method, ordinal));
        if (raw.Type != providerType) raw = Expression.Convert(raw, providerType);
        Expression value = converter is null ? raw : Inline(converter.ConvertFromProviderExpression, raw);
        if (value.Type != property.ClrType) value = Expression.Convert(value, property.ClrType);
        if (!property.IsNullable) return value;
        var isNull = Expression.Call(reader, IsDbNull, ordinal);
        return Expression.Condition(isNull, Expression.Default(property.ClrType), value);
    }

    private static readonly MethodInfo IsDbNull = typeof(DbDataReader).GetMethod(nameof(DbDataReader.IsDBNull), [typeof(int)])!;

    /// <summary>The converter's body with its parameter replaced by <paramref name="argument"/>: no delegate call per value.</summary>
    private static Expression Inline(LambdaExpression lambda, Expression argument)
    {
        var parameter = lambda.Parameters[0];
        if (argument.Type != parameter.Type) argument = Expression.Convert(argument, parameter.Type);
        return new Replace(parameter, argument).Visit(lambda.Body);
    }

    private sealed class Replace(ParameterExpression from, Expression to) : ExpressionVisitor
    {
        protected override Expression VisitParameter(ParameterExpression node) => node == from ? to : node;
    }
}
