using System.Diagnostics.CodeAnalysis;

namespace Issuer2.Core.Common;

/// <summary>Either a value or an <see cref="Common.Error"/>.</summary>
public readonly struct Result<T>
{
    private readonly T? _value;

    private Result(T? value, Error? error)
    {
        _value = value;
        Error = error;
    }

    public Error? Error { get; }

    [MemberNotNullWhen(false, nameof(Error))]
    public bool IsSuccess => Error is null;

    public T Value => IsSuccess ? _value! : throw new InvalidOperationException($"The result is an error: {Error.Message}");

#pragma warning disable CA2225 // Implicit conversions are the point: use cases return values or errors directly.
    public static implicit operator Result<T>(T value) => new(value, null);

    public static implicit operator Result<T>(Error error) => new(default, error);
#pragma warning restore CA2225
}
