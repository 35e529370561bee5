using System.Collections;
using System.Reflection;

namespace EtcdServerless.Infra.Tests.Contract;

/// <summary>
/// Derives the configuration keys an options tree can bind, in app-setting form (<c>__</c> between levels),
/// by reflection, the way Microsoft.Extensions.Configuration.Binder walks it: dictionary keys and list
/// indexes are levels whose name is not known in advance, written <c>*</c>
/// (<c>Clusters__*__Endpoints__*</c>). A property added to the options later is picked up automatically.
/// </summary>
internal static class ConfigurationKeys
{
    public const string Wildcard = "*";

    public static IReadOnlyList<string> Of(Type root)
    {
        var keys = new SortedSet<string>(StringComparer.OrdinalIgnoreCase);
        Walk(root, prefix: "", keys, visiting: []);
        return [.. keys];
    }

    private static void Walk(Type type, string prefix, SortedSet<string> keys, HashSet<Type> visiting)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (IsLeaf(type))
        {
            keys.Add(prefix);
            return;
        }

        if (DictionaryValueType(type) is { } valueType)
        {
            Walk(valueType, Join(prefix, Wildcard), keys, visiting);
            return;
        }

        if (ElementType(type) is { } elementType)
        {
            Walk(elementType, Join(prefix, Wildcard), keys, visiting);
            return;
        }

        if (!visiting.Add(type))
        {
            throw new InvalidOperationException($"Options type {type} is recursive; its keys cannot be enumerated.");
        }

        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length > 0 || property.GetMethod is not { IsPublic: true })
            {
                continue;
            }

            // The binder sets public setters, and fills get-only complex objects and collections in place.
            var bindable = property.SetMethod is { IsPublic: true } || !IsLeaf(property.PropertyType);
            if (bindable)
            {
                Walk(property.PropertyType, Join(prefix, property.Name), keys, visiting);
            }
        }

        visiting.Remove(type);
    }

    private static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "__" + name;

    private static bool IsLeaf(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal)
            || type == typeof(DateTime) || type == typeof(DateTimeOffset) || type == typeof(TimeSpan)
            || type == typeof(Guid) || type == typeof(Uri) || type == typeof(DateOnly) || type == typeof(TimeOnly);
    }

    private static Type? DictionaryValueType(Type type)
    {
        var dictionary = type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IDictionary<,>)
            ? type
            : type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IDictionary<,>));
        return dictionary?.GetGenericArguments()[1];
    }

    private static Type? ElementType(Type type)
    {
        if (type.IsArray)
        {
            return type.GetElementType();
        }

        if (!typeof(IEnumerable).IsAssignableFrom(type))
        {
            return null;
        }

        var enumerable = type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IEnumerable<>)
            ? type
            : type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>));
        return enumerable?.GetGenericArguments()[0];
    }
}
