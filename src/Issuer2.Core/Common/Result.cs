using System.Diagnostics.CodeAnalysis;

namespace Issuer2.Core.Common;

/// <summary>
/// Either a value or an error of one audience's closed set: <see cref="Common.Error"/> for management callers,
/// <see cref="Wallet.WalletError"/> for wallets. The one result type of Core; adapters map the error to their
/// transport in one exhaustive switch.
/// </summary>
public readonly struct Result<T, TError>
    where TError : class
{
    private readonly T? _value;

    private Result(T? value, TError? error)
    {
        _value = value;
        Error = error;
    }

    public TError? Error { get; }

    [MemberNotNullWhen(false, nameof(Error))]
    public bool IsSuccess => Error is null;

    public T Value => IsSuccess ? _value! : throw new InvalidOperationException($"The result is an error: {Error}");

#pragma warning disable CA2225 // Implicit conversions are the point: use cases return values or errors directly.
#pragma warning disable CA1000 // Static members on a generic type: the conversions must live here.
    public static implicit operator Result<T, TError>(T value) => new(value, null);

    public static implicit operator Result<T, TError>(TError error) => new(default, error);
#pragma warning restore CA1000
#pragma warning restore CA2225
}
