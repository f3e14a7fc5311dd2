using System.Collections;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Protobuf.WellKnownTypes;

namespace Issuer2.Server.Tests.Infrastructure;

/// <summary>Compares messages at the precision a database keeps (PostgreSQL: microseconds).</summary>
public static class ProtoTime
{
    /// <summary>A copy of the message with every Timestamp inside it cut to whole microseconds.</summary>
    public static T ToMicroseconds<T>(T message)
        where T : IMessage<T>
    {
        var copy = message.Clone();
        Truncate(copy);
        return copy;
    }

    private static void Truncate(IMessage message)
    {
        if (message is Timestamp timestamp)
        {
            timestamp.Nanos = timestamp.Nanos / 1000 * 1000;
            return;
        }

        foreach (var field in message.Descriptor.Fields.InDeclarationOrder())
        {
            if (field.FieldType != FieldType.Message || field.IsMap)
            {
                continue;
            }

            var value = field.Accessor.GetValue(message);
            if (field.IsRepeated && value is IList items)
            {
                foreach (var item in items)
                {
                    if (item is IMessage child)
                    {
                        Truncate(child);
                    }
                }
            }
            else if (value is IMessage child)
            {
                Truncate(child);
            }
        }
    }
}
