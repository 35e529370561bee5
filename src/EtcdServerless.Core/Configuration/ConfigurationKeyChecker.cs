using System.Collections;
using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace EtcdServerless.Core.Configuration;

/// <summary>
/// Checks configuration keys against the options' shape before binding. The binder silently drops a dictionary
/// entry whose value fails to convert (one <c>Retention:KeepLast: "four"</c> made a whole cluster vanish) and
/// ignores keys it does not know (a typo such as <c>Retentoin</c> quietly falls back to defaults), so both are
/// found here: a value that does not convert is an error naming its key; an unknown key is reported.
/// </summary>
internal static class ConfigurationKeyChecker
{
    /// <summary>What the check found.</summary>
    /// <param name="Errors">Values that cannot be converted to their property's type, each naming its key.</param>
    /// <param name="UnknownKeys">Keys that match no property (full paths).</param>
    public sealed record Result(IReadOnlyList<string> Errors, IReadOnlyList<string> UnknownKeys);

    /// <summary>
    /// Checks <paramref name="configuration"/> against <see cref="EtcdBackupOptions"/>. Root keys that are not
    /// sections of the options are reported only with <paramref name="reportUnknownRootKeys"/> (a dedicated config
    /// file); a host's app settings hold many unrelated root keys.
    /// </summary>
    public static Result Check(IConfiguration configuration, bool reportUnknownRootKeys)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var errors = new List<string>();
        var unknown = new List<string>();
        foreach (var child in configuration.GetChildren())
        {
            var property = FindProperty(typeof(EtcdBackupOptions), child.Key);
            if (property is null)
            {
                if (reportUnknownRootKeys)
                {
                    unknown.Add(child.Path);
                }

                continue;
            }

            CheckValue(child, property.PropertyType, errors, unknown);
        }

        return new Result(errors, unknown);
    }

    private static void CheckValue(
        IConfigurationSection section,
        [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] Type type,
        List<string> errors,
        List<string> unknown)
    {
        var target = Nullable.GetUnderlyingType(type) ?? type;
        var children = section.GetChildren().ToList();
        if (IsScalar(target))
        {
            if (children.Count > 0)
            {
                errors.Add($"{section.Path}: expected a value, found a section");
            }
            else if (section.Value is { Length: > 0 } value && target != typeof(string) && !Converts(target, value))
            {
                errors.Add($"{section.Path}: '{Shorten(value)}' is not a valid {Describe(target)}");
            }

            return;
        }

        if (section.Value is { Length: > 0 } && children.Count == 0)
        {
            errors.Add($"{section.Path}: expected a section, found the value '{Shorten(section.Value)}'");
            return;
        }

        if (ElementType(target) is { } element)
        {
            foreach (var child in children)
            {
                CheckValue(child, element, errors, unknown);
            }

            return;
        }

        foreach (var child in children)
        {
            var property = FindProperty(target, child.Key);
            if (property is null)
            {
                unknown.Add(child.Path);
                continue;
            }

            CheckValue(child, property.PropertyType, errors, unknown);
        }
    }

    // Case-insensitive like the binder.
    private static PropertyInfo? FindProperty([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] Type type, string key) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .FirstOrDefault(p => p.CanWrite && p.GetIndexParameters().Length == 0 && string.Equals(p.Name, key, StringComparison.OrdinalIgnoreCase));

    /// <summary>The value type of a string-keyed dictionary or the element type of a list/array; null for an object.</summary>
    [UnconditionalSuppressMessage("Trimming", "IL2073", Justification = "The options types are kept by the binder, which reflects over them too.")]
    [return: DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)]
    private static Type? ElementType(Type type)
    {
        if (type.IsArray)
        {
            return type.GetElementType();
        }

        if (!type.IsGenericType || !typeof(IEnumerable).IsAssignableFrom(type))
        {
            return null;
        }

        var arguments = type.GetGenericArguments();
        return arguments.Length == 2 ? arguments[1] : arguments[0];
    }

    private static bool IsScalar(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan)
        || type == typeof(DateTimeOffset) || type == typeof(DateTime) || type == typeof(Uri) || type == typeof(Guid);

    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Converters of primitive and framework types only.")]
    private static bool Converts(Type type, string value)
    {
        try
        {
            TypeDescriptor.GetConverter(type).ConvertFromInvariantString(value);
            return true;
        }
        catch (Exception ex) when (ex is FormatException or NotSupportedException or ArgumentException or OverflowException
            || ex.InnerException is FormatException or OverflowException)
        {
            return false;
        }
    }

    private static string Describe(Type type) => type switch
    {
        _ when type == typeof(int) || type == typeof(long) => "whole number",
        _ when type == typeof(bool) => "boolean (true or false)",
        _ when type == typeof(double) || type == typeof(decimal) => "number",
        _ when type.IsEnum => $"value (one of {string.Join(", ", Enum.GetNames(type))})",
        _ => type.Name,
    };

    private static string Shorten(string value) => value.Length <= 64 ? value : value[..64] + "...";
}
