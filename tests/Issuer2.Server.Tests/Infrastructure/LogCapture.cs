using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Issuer2.Server.Tests.Infrastructure;

/// <summary>A logger provider that keeps every entry: the formatted message, its structured values and any exception.</summary>
public sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _entries = new();

    public ILogger CreateLogger(string categoryName) => new CapturingLogger(categoryName, _entries);

    /// <summary>Every entry so far, one per line.</summary>
    public string AllText() => string.Join('\n', _entries);

    public IReadOnlyCollection<string> Entries => _entries.ToArray();

    public void Dispose()
    {
    }

    private sealed class CapturingLogger(string category, ConcurrentQueue<string> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => NullScope.Instance;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(
            LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var text = new StringBuilder()
                .Append(logLevel).Append(' ').Append(category).Append(": ")
                .Append(formatter(state, exception));
            // The structured values too: a sink that writes JSON would store them even when the message omits them.
            if (state is IEnumerable<KeyValuePair<string, object?>> values)
            {
                foreach (var pair in values)
                {
                    text.Append(" | ").Append(pair.Key).Append('=').Append(pair.Value);
                }
            }

            if (exception is not null)
            {
                text.Append('\n').Append(exception);
            }

            entries.Enqueue(text.ToString());
        }
    }

    private sealed class NullScope : IDisposable
    {
        public static readonly NullScope Instance = new();

        public void Dispose()
        {
        }
    }
}
