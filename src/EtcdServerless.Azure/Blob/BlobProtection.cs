namespace EtcdServerless.Azure.Blob;

/// <summary>A blob's protection as the service reports it.</summary>
/// <param name="RetainUntil">Until when the immutability policy (the blob's own or the container's default) holds it; null when none.</param>
/// <param name="PolicyMode">"Unlocked" or "Locked" when a policy applies.</param>
/// <param name="LegalHold">True while a legal hold is set.</param>
internal sealed record BlobProtection(DateTimeOffset? RetainUntil, string? PolicyMode, bool LegalHold);
