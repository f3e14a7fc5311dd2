using System.Linq.Expressions;
using System.Text;
using Issuer2.Core.Common;
using Microsoft.EntityFrameworkCore;

namespace Issuer2.Storage;

/// <summary>
/// Writes a Core <see cref="Condition{T, TArg}"/> as the WHERE clause of plain SQL, so a conditional UPDATE enforces
/// exactly the rule Core decides by. It knows the small language Core's rules use: members of the record (as their
/// columns), the argument and constants (as parameters), null checks, comparisons, +, and, or, not. Anything else
/// is a bug in a rule and throws.
/// </summary>
internal static class SqlCondition
{
    public static string Render<T, TArg>(Condition<T, TArg> condition, TArg argument, SqlBatch sql, IssuerDbContext db)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var entity = db.Model.FindEntityType(typeof(T)) ?? throw new InvalidOperationException($"{typeof(T).Name} is not mapped.");
        var parameters = condition.Expression.Parameters;
        var text = new StringBuilder();
        Write(condition.Expression.Body);
        return text.ToString();

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
                    text.Append(Value(argument));
                    break;
                case ConstantExpression c:
                    text.Append(Value(c.Value));
                    break;
                default:
                    throw new NotSupportedException($"The rule uses {node.NodeType}, which {nameof(SqlCondition)} does not write: {condition.Expression}");
            }
        }

        string Value(object? value) => value is DateTimeOffset time ? sql.Time(time) : sql.P(value);
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
