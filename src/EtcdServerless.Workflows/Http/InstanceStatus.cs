using System.Text.Json;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace EtcdServerless.Workflows.Http;

/// <summary>The 202 body of a start request, shaped like Durable's check-status response.</summary>
internal sealed record CheckStatusResponse(string Id, string StatusQueryGetUri, bool Deduplicated);

/// <summary>The body of <c>GET /api/instances/{id}</c>, shaped like Durable's instance status.</summary>
internal sealed record InstanceStatusResponse
{
    public required string Name { get; init; }

    public required string InstanceId { get; init; }

    public required string RuntimeStatus { get; init; }

    public JsonElement? Input { get; init; }

    public JsonElement? CustomStatus { get; init; }

    public JsonElement? Output { get; init; }

    public string? Error { get; init; }

    public required DateTimeOffset CreatedTime { get; init; }

    public required DateTimeOffset LastUpdatedTime { get; init; }

    public static InstanceStatusResponse From(OrchestrationMetadata state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return new()
        {
            Name = state.Name,
            InstanceId = state.InstanceId,
            RuntimeStatus = state.RuntimeStatus.ToString(),
            Input = Parse(state.SerializedInput),
            CustomStatus = Parse(state.SerializedCustomStatus),
            Output = Parse(state.SerializedOutput),
            Error = state.FailureDetails is null ? null : Innermost(state.FailureDetails),
            CreatedTime = state.CreatedAt,
            LastUpdatedTime = state.LastUpdatedAt,
        };
    }

    /// <summary>The failure's message with each inner failure's message that adds something.</summary>
    public static string Innermost(TaskFailureDetails failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        var message = failure.ErrorMessage;
        for (var inner = failure.InnerFailure; inner is not null; inner = inner.InnerFailure)
        {
            if (!message.Contains(inner.ErrorMessage, StringComparison.Ordinal))
            {
                message += $" ({inner.ErrorMessage})";
            }
        }

        return message;
    }

    private static JsonElement? Parse(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return null;
        }

        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }
}
