namespace EtcdServerless.Agent.Restores;

/// <summary>A request the agent refuses, with the HTTP status and a one-line reason for the problem+json body.</summary>
internal sealed class AgentRequestException : Exception
{
    public AgentRequestException(int statusCode, string title, string detail)
        : base(detail)
    {
        StatusCode = statusCode;
        Title = title;
    }

    public AgentRequestException()
    {
        Title = "";
    }

    public AgentRequestException(string message)
        : base(message)
    {
        Title = "";
    }

    public AgentRequestException(string message, Exception innerException)
        : base(message, innerException)
    {
        Title = "";
    }

    public int StatusCode { get; } = 500;

    public string Title { get; }

    public static AgentRequestException BadRequest(string detail) => new(400, "Bad request", detail);

    public static AgentRequestException Conflict(string detail) => new(409, "Conflict", detail);

    public static AgentRequestException NotFound(string detail) => new(404, "Not found", detail);
}
