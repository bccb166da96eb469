using System.Text;
using System.Text.Json;

namespace Bus;

/// <summary>
/// Lower-case kebab-case names that keep the namespace (see <see cref="BusNamingConvention.KebabCase"/>): unique as full
/// names are, and shaped as broker names usually are.
/// </summary>
internal sealed class KebabCaseNamingConvention(string? prefix) : BusNamingConvention
{
    public override string GetExchangeName(Type messageType) => NameOf(messageType);

    public override string GetQueueName(Type consumerType) => NameOf(consumerType);

    public override string ToString() => prefix is null ? "kebab-case names" : $"kebab-case names prefixed '{prefix}.'";

    private string NameOf(Type type)
    {
        var name = new StringBuilder();
        if (prefix is not null)
        {
            name.Append(prefix).Append('.');
        }

        Append(name, type);
        return name.ToString();
    }

    private static void Append(StringBuilder name, Type type)
    {
        if (type.DeclaringType is { } declaring && !type.IsGenericParameter)
        {
            AppendDeclaring(name, declaring);
        }
        else if (type.Namespace is { Length: > 0 } space)
        {
            foreach (var part in space.Split('.'))
            {
                name.Append(Kebab(part)).Append('.');
            }
        }

        name.Append(Kebab(WithoutArity(type.Name)));
        if (type.IsGenericType && !type.IsGenericTypeDefinition)
        {
            // Every argument, a nested type's list starting with its declaring type's: distinct types, distinct names.
            var arguments = type.GetGenericArguments();
            name.Append('[');
            for (var i = 0; i < arguments.Length; i++)
            {
                if (i > 0)
                {
                    name.Append(',');
                }

                Append(name, arguments[i]);
            }

            name.Append(']');
        }
    }

    /// <summary>A declaring type's namespace and name, without generic arguments (those are listed on the nested type).</summary>
    private static void AppendDeclaring(StringBuilder name, Type declaring)
    {
        if (declaring.DeclaringType is { } outer)
        {
            AppendDeclaring(name, outer);
        }
        else if (declaring.Namespace is { Length: > 0 } space)
        {
            foreach (var part in space.Split('.'))
            {
                name.Append(Kebab(part)).Append('.');
            }
        }

        name.Append(Kebab(WithoutArity(declaring.Name))).Append('.');
    }

    private static string WithoutArity(string name)
    {
        var tick = name.IndexOf('`', StringComparison.Ordinal);
        return tick < 0 ? name : name[..tick];
    }

    private static string Kebab(string part) => JsonNamingPolicy.KebabCaseLower.ConvertName(part);
}
