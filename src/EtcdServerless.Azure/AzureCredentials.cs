using Azure.Core;
using Azure.Identity;

namespace EtcdServerless.Azure;

/// <summary>Chooses the Entra ID credential for Blob and Key Vault access.</summary>
internal static class AzureCredentials
{
    /// <summary>
    /// A user-assigned managed identity when its client id is given (the Function App's UAMI), otherwise
    /// <see cref="DefaultAzureCredential"/> (workload identity, managed identity, environment, developer logins).
    /// </summary>
    public static TokenCredential Create(string? managedIdentityClientId = null) =>
        string.IsNullOrWhiteSpace(managedIdentityClientId)
            ? new DefaultAzureCredential()
            : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(managedIdentityClientId));
}
