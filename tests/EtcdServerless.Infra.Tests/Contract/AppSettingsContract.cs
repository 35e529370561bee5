namespace EtcdServerless.Infra.Tests.Contract;

/// <summary>What differs between the keys the code reads and the app settings the Bicep sets.</summary>
internal sealed record AppSettingsReport(
    IReadOnlyList<string> ReadButNotSet,
    IReadOnlyList<string> SetButNotRead,
    IReadOnlyList<string> NotDeployedButSet,
    IReadOnlyList<string> StaleNotDeployedEntries,
    IReadOnlyList<string> Forbidden)
{
    public bool IsClean => ReadButNotSet.Count + SetButNotRead.Count + NotDeployedButSet.Count + StaleNotDeployedEntries.Count + Forbidden.Count == 0;

    public override string ToString() =>
        string.Join(Environment.NewLine, new[]
        {
            Line("read by the code but not set by the compiled template (set it in infra/modules/functionApp.bicep, or add it to DeploymentContract.NotDeployed or OptionalPerEnvironment with a reason)", ReadButNotSet),
            Line("set by the compiled template but read by nobody (remove it, or add it to DeploymentContract.HostSettings with a reason)", SetButNotRead),
            Line("listed as not deployed but set by the compiled template", NotDeployedButSet),
            Line("not-deployed entries that are no option key any more", StaleNotDeployedEntries),
            Line("forbidden on Flex Consumption", Forbidden),
        }.Where(l => l.Length > 0));

    private static string Line(string what, IReadOnlyList<string> keys) => keys.Count == 0 ? "" : $"{what}: {string.Join(", ", keys)}";
}

/// <summary>
/// Compares keys segment by segment (segments split at <c>__</c>), case-insensitively as the configuration
/// system does; a <c>*</c> segment on either side (a dictionary key or list index) matches any one segment,
/// so <c>Clusters__prod-east__Endpoints__0</c> written literally still matches
/// <c>Clusters__*__Endpoints__*</c>.
/// </summary>
internal static class AppSettingsContract
{
    /// <param name="optionKeys">Keys the code reads.</param>
    /// <param name="hostSettings">Keys the host, platform or SDKs read; always required.</param>
    /// <param name="notDeployed">Option keys that must not be set on Azure.</param>
    /// <param name="forbidden">Keys that must never be set.</param>
    /// <param name="deployedNames">App-setting names the compiled template sets (concrete or with <c>*</c>).</param>
    /// <param name="optional">Option keys an environment may leave out (checked on an every-option environment instead).</param>
    public static AppSettingsReport Compare(
        IEnumerable<string> optionKeys,
        IReadOnlyDictionary<string, string> hostSettings,
        IReadOnlyDictionary<string, string> notDeployed,
        IReadOnlyDictionary<string, string> forbidden,
        IEnumerable<string> deployedNames,
        IReadOnlyDictionary<string, string>? optional = null)
    {
        var options = optionKeys.ToList();
        var set = deployedNames.ToList();
        var readable = options.Concat(hostSettings.Keys).ToList();
        var required = options
            .Where(k => !notDeployed.Keys.Any(n => Matches(n, k)))
            .Where(k => optional is null || !optional.Keys.Any(o => Matches(o, k)))
            .Concat(hostSettings.Keys);

        return new AppSettingsReport(
            Sorted(required.Where(k => !set.Any(s => Matches(k, s)))),
            Sorted(set.Where(s => !readable.Any(k => Matches(k, s)))),
            Sorted(notDeployed.Keys.Where(n => set.Any(s => Matches(n, s)))),
            Sorted(notDeployed.Keys.Where(n => !options.Any(k => Matches(k, n)))),
            Sorted(forbidden.Keys.Where(f => set.Any(s => Matches(f, s)))));
    }

    /// <summary>Every key the real code reads: the EtcdBackupOptions tree plus the Functions app's direct reads.</summary>
    public static IReadOnlyList<string> CodeKeys() =>
        [.. ConfigurationKeys.Of(typeof(Core.Configuration.EtcdBackupOptions))
            .Concat(CodeReadKeys.FromSources(CodeReadKeys.FunctionsSourceDirectory)
                .Where(k => !DeploymentContract.HostSettings.ContainsKey(k)))];

    /// <summary>
    /// The comparison for the real code and the app settings of one compiled environment. With
    /// <paramref name="everyOption"/> the environment is meant to exercise every option, so nothing is optional.
    /// </summary>
    public static AppSettingsReport ForDeployedNames(IEnumerable<string> deployedNames, bool everyOption) =>
        Compare(
            CodeKeys(),
            DeploymentContract.HostSettings,
            DeploymentContract.NotDeployed,
            DeploymentContract.ForbiddenOnFlex,
            deployedNames,
            everyOption ? null : DeploymentContract.OptionalPerEnvironment);

    /// <summary>True when two keys are equal, with <c>*</c> on either side standing for any one segment.</summary>
    public static bool Matches(string left, string right)
    {
        var a = left.Split("__");
        var b = right.Split("__");
        if (a.Length != b.Length)
        {
            return false;
        }

        for (var i = 0; i < a.Length; i++)
        {
            if (a[i] != ConfigurationKeys.Wildcard && b[i] != ConfigurationKeys.Wildcard
                && !string.Equals(a[i], b[i], StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }

        return true;
    }

    private static List<string> Sorted(IEnumerable<string> keys) => [.. keys.Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.OrdinalIgnoreCase)];
}
