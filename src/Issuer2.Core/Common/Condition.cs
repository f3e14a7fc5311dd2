using System.Linq.Expressions;

namespace Issuer2.Core.Common;

/// <summary>
/// A rule about a stored record, stated once as an expression over the record and one argument (the time, a
/// limit). Core evaluates it in memory (<see cref="IsMetBy"/>, compiled once); storage translates the same
/// expression into a LINQ filter (<see cref="Bind"/>) or into the WHERE clause of a conditional UPDATE that
/// enforces the rule atomically. So the decision and its enforcement cannot drift apart.
/// </summary>
public sealed class Condition<T, TArg>
{
    private readonly Func<T, TArg, bool> _compiled;

    public Condition(Expression<Func<T, TArg, bool>> expression)
    {
        ArgumentNullException.ThrowIfNull(expression);
        Expression = expression;
        _compiled = expression.Compile();
    }

    /// <summary>The rule as an expression tree: parameter 0 is the record, parameter 1 the argument.</summary>
    public Expression<Func<T, TArg, bool>> Expression { get; }

    public bool IsMetBy(T record, TArg argument) => _compiled(record, argument);

    /// <summary>Both rules hold.</summary>
    public Condition<T, TArg> And(Condition<T, TArg> other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return new(System.Linq.Expressions.Expression.Lambda<Func<T, TArg, bool>>(
            System.Linq.Expressions.Expression.AndAlso(Expression.Body, Rebind(other, Expression.Parameters)), Expression.Parameters));
    }

    /// <summary>The rule does not hold.</summary>
    public Condition<T, TArg> Not() =>
        new(System.Linq.Expressions.Expression.Lambda<Func<T, TArg, bool>>(System.Linq.Expressions.Expression.Not(Expression.Body), Expression.Parameters));

    /// <summary>
    /// The rule for one argument, as a filter a LINQ provider translates. The argument is read from a captured
    /// object, as a closure would be, so the provider sends it as a parameter and caches one plan for every value.
    /// </summary>
    public Expression<Func<T, bool>> Bind(TArg argument)
    {
        var holder = new Argument(argument);
        var value = System.Linq.Expressions.Expression.Field(System.Linq.Expressions.Expression.Constant(holder), nameof(Argument.Value));
        var body = new Replace(Expression.Parameters[1], value).Visit(Expression.Body);
        return System.Linq.Expressions.Expression.Lambda<Func<T, bool>>(body, Expression.Parameters[0]);
    }

    private static Expression Rebind(Condition<T, TArg> other, System.Collections.ObjectModel.ReadOnlyCollection<ParameterExpression> parameters)
    {
        var body = new Replace(other.Expression.Parameters[0], parameters[0]).Visit(other.Expression.Body);
        return new Replace(other.Expression.Parameters[1], parameters[1]).Visit(body);
    }

    private sealed class Argument(TArg value)
    {
#pragma warning disable CA1051 // A field, so the expression reads it as a closure member.
        public readonly TArg Value = value;
#pragma warning restore CA1051
    }

    private sealed class Replace(ParameterExpression from, Expression to) : ExpressionVisitor
    {
        protected override Expression VisitParameter(ParameterExpression node) => node == from ? to : base.VisitParameter(node);
    }
}
