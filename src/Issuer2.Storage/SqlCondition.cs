using System.Collections.Concurrent;
using System.Linq.Expressions;
using System.Text;
using Issuer2.Core.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Issuer2.Storage;

/// <summary>
/// Writes a Core <see cref="Condition{T, TArg}"/> as the WHERE clause of plain SQL, so a conditional UPDATE enforces
/// exactly the rule Core decides by. It knows the small language Core's rules use: members of the record (as their
/// columns), the argument and constants (as parameters), null checks, comparisons, +, and, or, not. Anything else
/// is a bug in a rule and throws.
/// </summary>
internal static class SqlCondition
{
    // One template per rule and EF model: the rule's SQL text with a slot for each value. Walking the expression tree
    // on every statement cost about 1 % of the server's CPU under wallet load (bench/README.md).
    private static readonly ConcurrentDictionary<(object Condition, IModel Model), Part[]> Templates = new();
    private const int MaxTemplates = 256;

    public static string Render<T, TArg>(Condition<T, TArg> condition, TArg argument, SqlBatch sql, IssuerDbContext db)
    {
        ArgumentNullException.ThrowIfNull(condition);
        ArgumentNullException.ThrowIfNull(sql);
        ArgumentNullException.ThrowIfNull(db);
        var model = db.Model;
        if (!Templates.TryGetValue((condition, model), out var template))
        {
            template = Compile(condition, model);
            // Core's rules are static; a condition composed per call is rendered without being kept.
            if (Templates.Count < MaxTemplates) Templates.TryAdd((condition, model), template);
        }
        var text = new StringBuilder();
        foreach (var part in template)
        {
            if (part.Literal is { } literal) text.Append(literal);
            else text.Append(Value(part.IsArgument ? argument : part.Constant));
        }
        return text.ToString();

        string Value(object? value) => value is DateTimeOffset time ? sql.Time(time) : sql.P(value);
    }

    /// <summary>A piece of a rule's SQL: literal text, the rule's argument, or a constant of the rule.</summary>
    private readonly record struct Part(string? Literal, bool IsArgument, object? Constant);

    private static Part[] Compile<T, TArg>(Condition<T, TArg> condition, IModel model)
    {
        var entity = model.FindEntityType(typeof(T)) ?? throw new InvalidOperationException($"{typeof(T).Name} is not mapped.");
        var parameters = condition.Expression.Parameters;
        var parts = new List<Part>();
        var text = new StringBuilder();
        Write(condition.Expression.Body);
        Flush();
        return [.. parts];

        void Flush()
        {
            if (text.Length == 0) return;
            parts.Add(new Part(text.ToString(), false, null));
            text.Clear();
        }

        void Write(Expression node)
        {
            switch (node)
            {
                case BinaryExpression { NodeType: ExpressionType.AndAlso or ExpressionType.OrElse } b:
                    text.Append('(');
                    Write(b.Left);
                    text.Append(b.NodeType == ExpressionType.AndAlso ? " AND " : " OR ");
                    Write(b.Right);
                    text.Append(')');
                    break;
                case UnaryExpression { NodeType: ExpressionType.Not } u:
                    text.Append("NOT (");
                    Write(u.Operand);
                    text.Append(')');
                    break;
                case UnaryExpression { NodeType: ExpressionType.Convert } c:
                    Write(c.Operand);
                    break;
                case BinaryExpression { NodeType: ExpressionType.Equal or ExpressionType.NotEqual } b when IsNull(b.Right) || IsNull(b.Left):
                    Write(IsNull(b.Right) ? b.Left : b.Right);
                    text.Append(b.NodeType == ExpressionType.Equal ? " IS NULL" : " IS NOT NULL");
                    break;
                case BinaryExpression b when Operator(b.NodeType) is { } op:
                    text.Append('(');
                    Write(b.Left);
                    text.Append(' ').Append(op).Append(' ');
                    Write(b.Right);
                    text.Append(')');
                    break;
                case MemberExpression { Expression: ParameterExpression p } m when p == parameters[0]:
                    var property = entity.FindProperty(m.Member.Name) ?? throw new InvalidOperationException($"{typeof(T).Name}.{m.Member.Name} is not mapped.");
                    text.Append(property.GetColumnName());
                    break;
                case ParameterExpression p when p == parameters[1]:
                    Flush();
                    parts.Add(new Part(null, true, null));
                    break;
                case ConstantExpression c:
                    Flush();
                    parts.Add(new Part(null, false, c.Value));
                    break;
                default:
                    throw new NotSupportedException($"The rule uses {node.NodeType}, which {nameof(SqlCondition)} does not write: {condition.Expression}");
            }
        }
    }

    private static bool IsNull(Expression e) => e is ConstantExpression { Value: null } || (e is UnaryExpression { NodeType: ExpressionType.Convert } u && IsNull(u.Operand));

    private static string? Operator(ExpressionType type) => type switch
    {
        ExpressionType.Equal => "=",
        ExpressionType.NotEqual => "<>",
        ExpressionType.LessThan => "<",
        ExpressionType.LessThanOrEqual => "<=",
        ExpressionType.GreaterThan => ">",
        ExpressionType.GreaterThanOrEqual => ">=",
        ExpressionType.Add => "+",
        _ => null,
    };
}
