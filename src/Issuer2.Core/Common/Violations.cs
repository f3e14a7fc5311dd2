namespace Issuer2.Core.Common;

/// <summary>Collects field violations while a request is checked, so one response names every bad field.</summary>
public sealed class Violations
{
    private readonly List<FieldViolation> _items = [];

    public bool Any => _items.Count > 0;

    public IReadOnlyList<FieldViolation> Items => _items;

    public void Add(string field, string description) => _items.Add(new FieldViolation(field, description));

    /// <summary>Adds a violation when <paramref name="condition"/> is false; returns the condition.</summary>
    public bool Require(bool condition, string field, string description)
    {
        if (!condition) Add(field, description);
        return condition;
    }

    public Error ToError() => Error.Invalid(_items);
}
